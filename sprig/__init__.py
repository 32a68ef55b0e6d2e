"""Sprig: a self-hostable backend for stateful AI agents.

`import sprig` gives the SDK only (httpx + pydantic); it never imports the server.
The public names are those of `sprig.client`, listed once there.
"""

from sprig.client import *  # noqa: F403
from sprig.client import __all__ as _client_all

__version__ = "0.1.0"
__all__ = [*_client_all]
