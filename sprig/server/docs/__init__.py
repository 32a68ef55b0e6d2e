"""Documents of agents, users and sessions: stored, chunked and embedded (a job), then
found by search and recall.

- ``service``: create, list, get, delete.
- ``indexing``: chunks, token counts and the embedding job.
- ``routes``: ``/{agents|users|sessions}/{id}/docs`` and ``/docs/{id}``.
"""
