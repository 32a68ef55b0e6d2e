"""MCP both ways, with the official ``mcp`` SDK (imported only when MCP is used).

Sprig as an MCP client, a source of agent tools:

- config.py: an ``mcp`` tool's (or a Julep ``mcp`` integration's) server, checked and opened
  (secrets revealed, environment references resolved), and the policy from the settings.
- connect.py + guard.py: a connection to one server (streamable HTTP, SSE or stdio) with
  the tool-HTTP address rules on every request.
- source.py: `McpTools`, tool lists cached per process, namespaced tool definitions for a
  turn, and calls run for the ToolRunner; results.py turns a call's result into a
  `ToolResult`; integration.py is the Julep ``integration`` shape.

Sprig as an MCP server:

- server.py: the MCP server (tools, resources, prompts) over the runtime's services, for one
  tenant per request; server_tools.py and server_resources.py are its parts.
- endpoint.py: ``/mcp`` (streamable HTTP) and ``/mcp/sse`` (the older SSE transport), each
  request authenticated with a tenant's API key; routes.py mounts them and the refresh route.
"""
