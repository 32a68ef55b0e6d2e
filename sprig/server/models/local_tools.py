"""Tool calling for the local model: the tools in the prompt, a grammar for the answer, and
reading the answer back.

The model answers with one JSON object, held to it by a llama.cpp grammar: a reply
`{"content": "..."}` or a call `{"tool": "<name>", "arguments": {...}}` whose arguments follow
that tool's parameters schema (a free JSON object where the schema cannot become a grammar).
`tool_choice` "required" leaves only the call branches, a named function only its own.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sprig.server.errors import BadRequestError
from sprig.server.models.base import (
    ChatMessage,
    Completion,
    CompletionChunk,
    ToolCall,
    ToolChoice,
    ToolSpec,
)
from sprig.server.models.decoding import json_string_prefix
from sprig.server.models.errors import InvalidModelOutputError

GrammarCheck = Callable[[str], bool]
FREE_OBJECT: dict[str, Any] = {"type": "object"}
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"content": {"type": "string"}},
    "required": ["content"],
    "additionalProperties": False,
}
# The grammar's whitespace is at most one space, so a reply starts exactly like this.
REPLY_START = re.compile(r'\{ ?"content" ?: ?"')
CHOICE_WORDS = {"auto": False, "required": True, "any": True}


@dataclass(frozen=True, slots=True)
class ToolMode:
    """The tools the answer may call; `forced`: a call is required (no plain reply)."""

    tools: tuple[ToolSpec, ...]
    forced: bool = False


def tool_mode(tools: Sequence[ToolSpec], choice: ToolChoice | None) -> ToolMode | None:
    """How a request's `tools` and `tool_choice` constrain the answer (None: plain text)."""
    if not tools:
        return None
    if isinstance(choice, dict) and ("function" in choice or "name" in choice):
        return ToolMode((_named_tool(tools, choice),), forced=True)
    word = choice.get("type") if isinstance(choice, dict) else choice
    word = str(word or "auto").strip().lower()
    if word == "none":
        return None
    if word not in CHOICE_WORDS:
        raise BadRequestError(f"tool_choice must be auto, none, required or a function: {word!r}")
    return ToolMode(tuple(tools), forced=CHOICE_WORDS[word])


def _named_tool(tools: Sequence[ToolSpec], choice: dict[str, Any]) -> ToolSpec:
    function = choice.get("function")
    name = function.get("name") if isinstance(function, dict) else choice.get("name")
    for tool in tools:
        if tool.name == name:
            return tool
    known = ", ".join(t.name for t in tools)
    raise BadRequestError(f"tool_choice names {name!r}, which is not a tool here ({known})")


# --- the prompt -------------------------------------------------------------------------


def prompt_with_tools(
    messages: Sequence[ChatMessage], tools: Sequence[ToolSpec], choice: ToolChoice | None
) -> tuple[list[ChatMessage], ToolMode | None]:
    """The prompt's messages and the tool mode (None: tools are not offered)."""
    mode = tool_mode(tools, choice)
    return (with_tool_prompt(messages, mode) if mode else list(messages)), mode


def with_tool_prompt(messages: Sequence[ChatMessage], mode: ToolMode) -> list[ChatMessage]:
    """`messages` with the tools and the answer format added to the system message."""
    text = tool_prompt(mode)
    if messages and messages[0].role == "system":
        system = messages[0].text()
        return [ChatMessage("system", f"{system}\n\n{text}" if system else text), *messages[1:]]
    return [ChatMessage("system", text), *messages]


def tool_prompt(mode: ToolMode) -> str:
    lines = ["Tools you can call:"]
    for tool in mode.tools:
        lines.extend(_describe(tool))
    lines.append(_answer_format(mode))
    return "\n".join(lines)


def _describe(tool: ToolSpec) -> list[str]:
    properties, required = _properties(tool.parameters)
    params = ", ".join(_param(n, s, n in required) for n, s in properties.items())
    head = f"- {tool.name}({params})"
    lines = [f"{head}: {tool.description}" if tool.description else head]
    for name, schema in properties.items():
        if isinstance(schema, dict) and schema.get("description"):
            lines.append(f"  {name}: {schema['description']}")
    return lines


def _properties(parameters: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    properties = parameters.get("properties")
    required = parameters.get("required")
    return (
        properties if isinstance(properties, dict) else {},
        set(required) if isinstance(required, list) else set(),
    )


def _param(name: str, schema: Any, required: bool) -> str:
    return f"{name}{'' if required else '?'}: {_type_text(schema)}"


def _type_text(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "any"
    if isinstance(schema.get("enum"), list):
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(map(str, kind))
    return str(kind) if kind else "any"


def _answer_format(mode: ToolMode) -> str:
    call = '{"tool": "<tool name>", "arguments": {...}}'
    if mode.forced and len(mode.tools) == 1:
        name = mode.tools[0].name
        only = '{"tool": ' + json.dumps(name) + ', "arguments": {...}}'
        return f"Answer with one JSON object calling {name}: {only}"
    if mode.forced:
        return f"Answer with one JSON object calling a tool: {call}"
    return (
        f'Answer with one JSON object: {call} to call a tool, or {{"content": "<your reply>"}} '
        "to reply."
    )


# --- the grammar ------------------------------------------------------------------------


def tool_gbnf(mode: ToolMode, parses: GrammarCheck) -> str:
    """GBNF for the answer; `parses` says whether llama.cpp accepts a grammar text.

    A tool whose parameters schema the converter rejects (or whose grammar llama.cpp
    rejects) gets a free JSON object for its arguments.
    """
    gbnf = _answer_gbnf(mode, parses)
    return gbnf if parses(gbnf) else _answer_gbnf(mode, lambda _text: False)


def _answer_gbnf(mode: ToolMode, parses: GrammarCheck) -> str:
    converter = _converter()
    branches = [] if mode.forced else [REPLY_SCHEMA]
    for index, tool in enumerate(mode.tools):
        arguments = _arguments_schema(converter, tool.parameters, f"tool-{index}", parses)
        branches.append(_call_schema(tool.name, arguments))
    converter.visit({"anyOf": branches}, "")
    grammar: str = converter.format_grammar()
    return grammar


def _call_schema(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"tool": {"const": name}, "arguments": arguments},
        "required": ["tool", "arguments"],
        "additionalProperties": False,
    }


def _arguments_schema(
    converter: Any, parameters: dict[str, Any], url: str, parses: GrammarCheck
) -> dict[str, Any]:
    """The parameters schema with its local `$ref`s registered in `converter` under `url`."""
    if parameters.get("type", "object") != "object" or not _converts(parameters, parses):
        return FREE_OBJECT
    resolved: dict[str, Any] = converter.resolve_refs(copy.deepcopy(parameters), url)
    return resolved


def _converts(schema: dict[str, Any], parses: GrammarCheck) -> bool:
    """Whether the converter handles `schema` alone, into a grammar llama.cpp accepts."""
    trial = _converter()
    try:
        trial.visit(trial.resolve_refs(copy.deepcopy(schema), "trial"), "")
        return parses(trial.format_grammar())
    except Exception:  # the converter asserts or raises on schemas it does not support
        return False


def _converter() -> Any:
    from llama_cpp import llama_grammar

    make: Any = llama_grammar.SchemaConverter  # untyped in llama-cpp-python
    return make(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)


# --- the answer -------------------------------------------------------------------------


def read_answer(raw: Completion, model: str) -> Completion:
    """The generated JSON as a reply or a tool call.

    A reply cut short (max_tokens, a stop sequence) keeps the text it has; a cut call is a
    clear error, never broken JSON.
    """
    try:
        answer = json.loads(raw.content, strict=False)
    except json.JSONDecodeError:
        return _cut_reply(raw, model)
    if not isinstance(answer, dict):
        raise _invalid(model, "did not answer with a JSON object", raw.content)
    if "tool" in answer:
        return Completion("", [_tool_call(answer)], "tool_calls", raw.usage)
    content = str(answer.get("content", ""))
    return Completion(content, [], raw.finish_reason, raw.usage, raw.stop_reason)


def _tool_call(answer: dict[str, Any]) -> ToolCall:
    arguments = json.dumps(answer.get("arguments", {}))
    return ToolCall(f"call_{secrets.token_hex(12)}", str(answer["tool"]), arguments)


def _cut_reply(raw: Completion, model: str) -> Completion:
    start = REPLY_START.match(raw.content)
    if start is None:
        raise _invalid(model, f"{_cause(raw)} before closing its tool-call JSON", raw.content)
    content = json_string_prefix(raw.content[start.end() :])
    return Completion(content, [], raw.finish_reason, raw.usage, raw.stop_reason)


def _cause(raw: Completion) -> str:
    if raw.stop_reason == "repetition":
        return "repeated itself (stopped by the loop guard)"
    return "ran out of tokens (max_tokens)" if raw.finish_reason == "length" else "stopped"


def _invalid(model: str, problem: str, text: str) -> InvalidModelOutputError:
    preview = text if len(text) <= 200 else text[:200] + "..."
    return InvalidModelOutputError(f"Model {model!r} {problem}: {preview!r}")


def answer_chunks(done: Completion) -> list[CompletionChunk]:
    """A whole answer as a stream: the reply text, then the last chunk (with any call)."""
    last = CompletionChunk(
        tool_calls=list(done.tool_calls),
        finish_reason=done.finish_reason,
        usage=done.usage,
        stop_reason=done.stop_reason,
    )
    return [CompletionChunk(content=done.content), last] if done.content else [last]
