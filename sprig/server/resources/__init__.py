"""The Julep resources: agents, users, sessions and agents' tools.

- ``agents``, ``sessions``, ``tools``: the services with rules of their own.
- ``crud``: the generic create/get/update/patch/delete/list of every resource.
- ``routes``, ``crud_routes``, ``tool_routes``: their HTTP routes.
"""
