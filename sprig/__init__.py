"""Sprig: a self-hostable backend for stateful AI agents.

`import sprig` gives the SDK only; it never imports the server.
"""

__version__ = "0.1.0"
