"""Long-term memories: facts about a user, written by turns and recalled into them.

- ``service``: create, list, search (a ``store.MemoryQuery``), suggest and extract memories.
- ``store``: their rows, and what a search asks for.
- ``prompts``, ``fallback``: extraction by the model, and without one.
- ``ranking``: how memories are scored (BM25 of ``search.lexical`` and cosine, fused).
- ``routes``: ``/users/{id}/memories`` and friends.
"""
