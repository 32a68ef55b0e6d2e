"""A chat turn: read the session, build the model's prompt (window, recall, templates,
tools), call the model, run tools, save the result; and summaries of long histories.

- ``service``: the turn service (``ChatService``) and session summaries.
- ``turn``: a request normalised into a ``Turn``; the model and options chosen.
- ``window``: which history entries fit the token budget (the overflow policies).
- ``recall``: which documents a turn recalls into its prompt.
- ``templates``: the system template, rendered sandboxed.
- ``tool_links``: tool calls and their results linked across history entries.
- ``system_services``: what ``system`` tools may call on a turn's behalf.
- ``routes``, ``schemas``: ``POST /sessions/{id}/chat`` and its wire shapes.
"""
