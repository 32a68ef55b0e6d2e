"""An MCP tool call's result, as the model gets it.

The tool message is JSON: ``text`` (the text blocks and embedded text resources, joined),
``structured_content`` when the server gave one, and ``content`` notes for what is not text
(images, audio, resource links, binary resources). Images (and image resources) are also
kept as content parts (``image_url`` with a ``data:`` URL), which the chat loop passes on
when the model takes images in tool results. Everything together stays within
``max_bytes``: text is cut (``truncated: true``), an image that does not fit is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sprig.server.tools.types import dumps

if TYPE_CHECKING:
    from mcp.types import CallToolResult

ContentPart = dict[str, Any]


@dataclass
class Converted:
    """The result's JSON for the model, its image parts, and whether the tool failed."""

    payload: dict[str, Any]
    parts: list[ContentPart] = field(default_factory=list)
    is_error: bool = False

    def error_message(self) -> str:
        text = self.payload.get("text")
        return str(text) if text else "The MCP tool reported an error"


@dataclass
class _Budget:
    left: int
    cut: bool = False

    def text(self, value: str) -> str:
        raw = value.encode()
        if len(raw) <= self.left:
            self.left -= len(raw)
            return value
        self.cut = True
        kept = raw[: max(self.left, 0)].decode(errors="ignore")
        self.left = 0
        return kept

    def take(self, size: int) -> bool:
        if size > self.left:
            self.cut = True
            return False
        self.left -= size
        return True


def convert(result: CallToolResult, max_bytes: int) -> Converted:
    budget = _Budget(max_bytes)
    texts: list[str] = []
    notes: list[dict[str, Any]] = []
    parts: list[ContentPart] = []
    for block in result.content:
        _add(block, budget, texts, notes, parts)
    payload: dict[str, Any] = {}
    if texts:
        payload["text"] = "\n".join(texts)
    if result.structured_content is not None:
        payload["structured_content"] = _structured(result.structured_content, budget)
    if notes:
        payload["content"] = notes
    if budget.cut:
        payload["truncated"] = True
    return Converted(payload, parts, bool(result.is_error))


def _add(
    block: Any,
    budget: _Budget,
    texts: list[str],
    notes: list[dict[str, Any]],
    parts: list[ContentPart],
) -> None:
    kind = block.type
    if kind == "text":
        texts.append(budget.text(block.text))
    elif kind == "image":
        notes.append(_image(block.data, block.mime_type, budget, parts))
    elif kind == "audio":
        size = len(block.data) * 3 // 4
        notes.append({"type": "audio", "mime_type": block.mime_type, "bytes": size})
    elif kind == "resource_link":
        link = block.model_dump(include={"uri", "name", "title", "description", "mime_type"})
        notes.append({"type": "resource_link", **{k: v for k, v in link.items() if v}})
    elif kind == "resource":
        _resource(block.resource, budget, texts, notes, parts)


def _image(data: str, mime_type: str, budget: _Budget, parts: list[ContentPart]) -> dict[str, Any]:
    note: dict[str, Any] = {"type": "image", "mime_type": mime_type, "bytes": len(data) * 3 // 4}
    if budget.take(len(data)):
        parts.append({"type": "image_url", "image_url": {"url": f"data:{mime_type};base64,{data}"}})
    else:
        note["omitted"] = "larger than the tool output limit"
    return note


def _resource(
    resource: Any,
    budget: _Budget,
    texts: list[str],
    notes: list[dict[str, Any]],
    parts: list[ContentPart],
) -> None:
    uri, mime = str(resource.uri), resource.mime_type
    text = getattr(resource, "text", None)
    if isinstance(text, str):
        texts.append(budget.text(text))
        notes.append({"type": "resource", "uri": uri, "mime_type": mime})
    elif mime and mime.startswith("image/"):
        notes.append({**_image(resource.blob, mime, budget, parts), "uri": uri})
    else:
        size = len(resource.blob) * 3 // 4
        notes.append({"type": "resource", "uri": uri, "mime_type": mime, "bytes": size})


def _structured(value: Any, budget: _Budget) -> Any:
    """The structured result, or its JSON cut to the budget when it does not fit."""
    text = dumps(value)
    if budget.take(len(text.encode())):
        return value
    return budget.text(text)
