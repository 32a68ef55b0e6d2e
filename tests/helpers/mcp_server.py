"""A real MCP server for the tests, written with the ``mcp`` SDK's server API: tools that add
numbers, echo, fail, sleep, return an image and an embedded text resource, and tell a header
of the request that carried the call.

Served over streamable HTTP in a thread (``serve_tools``) or run over stdio as a program
(``python -m tests.helpers.mcp_server``). Both only ever listen on or talk to this machine.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server import MCPServer
from mcp.server.mcpserver import Context, Image
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import EmbeddedResource, TextResourceContents

from tests.helpers.servers import serve

# a 1x1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def build() -> MCPServer:
    server = MCPServer("sprig-test-tools", instructions="Test tools.")

    @server.tool()
    def add(a: float, b: float) -> float:
        """Add two numbers."""
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    def fail(message: str = "it broke") -> str:
        """Always fail with the message."""
        raise ToolError(message)

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Sleep for a while, then answer."""
        await asyncio.sleep(seconds)
        return "awake"

    @server.tool()
    def pixel() -> Image:
        """A one-pixel PNG image."""
        return Image(data=PIXEL, format="png")

    @server.tool()
    def note() -> EmbeddedResource:
        """An embedded text resource."""
        contents = TextResourceContents(uri="note://1", mime_type="text/plain", text="a note")
        return EmbeddedResource(type="resource", resource=contents)

    @server.tool()
    def header(name: str, ctx: Context) -> str:
        """The value of a header of the HTTP request that carried this call ('' if none)."""
        return (ctx.headers or {}).get(name.lower(), "")

    return server


@contextmanager
def serve_tools() -> Iterator[str]:
    """The test MCP server over streamable HTTP on 127.0.0.1; yields its ``/mcp`` URL."""
    with serve(build().streamable_http_app()) as url:
        yield f"{url}/mcp"


def stdio_command() -> tuple[str, list[str]]:
    """How to start the test MCP server over stdio (the command and its arguments)."""
    return sys.executable, ["-m", "tests.helpers.mcp_server"]


if __name__ == "__main__":
    build().run("stdio")
