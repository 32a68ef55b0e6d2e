"""The SDK's errors, where the Julep docs import them: ``from sprig.exceptions import ...``.

The same classes as ``sprig.JulepError``, ``sprig.SessionNotFoundError`` and the rest (they
live in `sprig.client.errors`); importing this module loads no server code.
"""

from sprig.client import errors as _errors
from sprig.client.errors import *  # noqa: F403

__all__ = [name for name in _errors.__all__ if name.endswith("Error")]  # the classes
