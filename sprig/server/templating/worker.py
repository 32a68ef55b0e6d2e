"""The template worker process: requests in on stdin, answers out on the original stdout.

A request is a pickle (from the server, which trusts it) of ``sources``, ``variables`` and
``limits``; an answer is JSON (the server does not unpickle what untrusted templates made):
``{"texts": [...]}`` or ``{"error": "..."}``. The process caps its address space
(``RLIMIT_AS``) after start-up; the server kills it when an answer is late.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import struct
from typing import Any

from .limits import TemplateLimits
from .sandbox import describe, render_all

_HEADER = struct.Struct("!I")


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(_HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def read_exact(fd: int, n: int) -> bytes | None:
    parts, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_frame(fd: int) -> bytes | None:
    header = read_exact(fd, _HEADER.size)
    if header is None:
        return None
    return read_exact(fd, _HEADER.unpack(header)[0])


def handle(data: bytes, memory_mb: int) -> dict[str, Any]:
    """The answer to one request; ``stopping`` when this process stops after it."""
    try:
        request = pickle.loads(data)  # noqa: S301 (written by the server that started us)
        limits = TemplateLimits(**request["limits"])
        return {"texts": render_all(request["sources"], request["variables"], limits)}
    except MemoryError:
        message = f"rendering needed more than the memory limit of {memory_mb} MB"
        return {"error": message, "stopping": True}
    except Exception as err:  # a template's own fault, reported to its author
        return {"error": describe(err)}


def serve(memory_mb: int) -> None:
    out = os.dup(1)
    os.dup2(2, 1)  # whatever prints goes to stderr, not into the answers
    if memory_mb > 0:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    write_frame(out, b"ready")
    while (data := read_frame(0)) is not None:
        answer = handle(data, memory_mb)
        write_frame(out, json.dumps(answer).encode())
        if answer.get("stopping"):
            return
