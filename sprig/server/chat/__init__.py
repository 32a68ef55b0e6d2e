"""A chat turn: read the session, build the model's prompt (window, recall, templates,
tools), call the model, run tools, save the result; and summaries of long histories.

- ``service``: the turn service (``ChatService``): prepare, run, save.
- ``turn``: what a turn reads once (``TurnInputs``), the ``PreparedTurn``, its ``TurnRun``.
- ``parties``: the session, its agents and users and what they hold, in one query.
- ``render``: inputs plus recalled docs and memories → the model request (no database).
- ``summary``: history folded into the session's rolling summary.
- ``window``: which history entries fit the token budget (the overflow policies).
- ``recall``: which documents a turn recalls into its prompt.
- ``templates``: the system template, rendered sandboxed.
- ``tool_links``: tool calls and their results linked across history entries.
- ``system_services``: what ``system`` tools may call on a turn's behalf.
- ``routes``, ``schemas``: ``POST /sessions/{id}/chat`` and its wire shapes.
"""
