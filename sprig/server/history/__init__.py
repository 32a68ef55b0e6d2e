"""A session's history: its entries in order, with their relations, and clearing it.

- ``service``: reads and clears.
- ``routes``: ``/sessions/{id}/history``.
"""
