"""Plain helpers shared by the test suite, by theme (no fixtures: those are in
``tests/helpers/fixtures.py``, the plugin ``tests/conftest.py`` registers, and in the
directories' own conftest modules)."""
