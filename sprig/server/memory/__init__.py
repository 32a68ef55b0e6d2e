"""Long-term memories: facts about a user, written by turns and recalled into them.

- ``service``: create, list, search, suggest and extract memories.
- ``store``: their rows.
- ``prompts``, ``fallback``: extraction by the model, and without one.
- ``ranking``, ``text``: how recalled memories are scored and shown.
- ``routes``: ``/users/{id}/memories`` and friends.
"""
