"""The Sprig server: a Julep-compatible agents API. Needs the `server` extra."""
