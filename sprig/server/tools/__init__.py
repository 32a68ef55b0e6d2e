"""The server-side tool runtime: model-facing specs, ``tool_choice``, and running tools.

- spec.py: `tool_spec` / `tool_specs`, `merge_tools`, `normalise_tool_choice`.
- runner.py: `ToolRunner.run(tool, call, context) -> ToolResult` (never raises for a tool's
  own failure; ``function`` and computer-use tools come back ``client_side``).
- http.py + netguard.py + apicall.py: ``api_call`` tools over SSRF-safe HTTP.
- integrations.py: provider registry (math, datetime, dummy shipped).
- system.py: Sprig's own operations for the same tenant, through `context.SystemServices`.
- ``mcp`` tools (sources of an MCP server's tools) are in sprig/server/mcp; the runner
  expands them for a turn (`ToolRunner.expand`) and runs their calls.
"""

from sprig.server.tools.context import SystemServices, ToolContext
from sprig.server.tools.http import HttpPolicy, SafeHttpClient
from sprig.server.tools.integrations import IntegrationRegistry, default_integrations
from sprig.server.tools.runner import ToolRunner
from sprig.server.tools.spec import merge_tools, normalise_tool_choice, tool_spec, tool_specs
from sprig.server.tools.system import SystemRegistry
from sprig.server.tools.types import ToolDef, ToolResult, tool_def

__all__ = [
    "HttpPolicy",
    "IntegrationRegistry",
    "SafeHttpClient",
    "SystemRegistry",
    "SystemServices",
    "ToolContext",
    "ToolDef",
    "ToolResult",
    "ToolRunner",
    "default_integrations",
    "merge_tools",
    "normalise_tool_choice",
    "tool_def",
    "tool_spec",
    "tool_specs",
]
