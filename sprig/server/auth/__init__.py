"""API keys and the server secret.

- ``keys``: keys, their hashes (keyed by the server secret) and their tenants.
- ``secret``: the server secret: created once, fingerprinted, and the cipher for tool secrets.
"""
