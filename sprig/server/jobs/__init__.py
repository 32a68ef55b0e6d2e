"""Durable background jobs: rows in the ``jobs`` table, claimed and run by workers.

- ``queue``: enqueue, claim, lease renewal, finish; ``worker``: the loop that runs them.
- ``handlers``: what each job kind does; ``service``: jobs as their creators read them.
- ``routes``: ``GET /jobs/{id}``.
"""
