"""The Sprig Console: a web page at ``/console`` to build, chat with and inspect agents.

A small client app (Preact with htm templates, plain ES modules: no build step) that talks to
the same REST API as every other client, with the key the person signs in with. Everything
it loads ships in ``static/``; the third-party code in ``static/vendor/`` is bundled from
registry packages by ``console/build.sh`` at the repository's root (see its README).
"""
