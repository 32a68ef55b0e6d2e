"""Helpers shared by the legacy SDK scripts (importable: a script's own folder is on sys.path).

A script defines sections (functions taking the 0.x `julep.Client` and the --input data) and
calls `run(sections)`; the observations, or the error that stopped each section, go to --out.
"""

from __future__ import annotations

import argparse
import json
import traceback
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from julep import Client
from julep.api.core.api_error import ApiError

SDK_VERSION = version("julep")
IS_039 = SDK_VERSION.startswith("0.3")

Section = Callable[[Client, dict[str, Any]], dict[str, Any]]


def error_status(call: Callable[[], object]) -> int | str:
    """The ApiError status a call raises, or a description of what happened instead."""
    try:
        call()
    except ApiError as exc:
        return exc.status_code if exc.status_code is not None else "ApiError without status"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def dump(model: Any) -> Any:
    """A pydantic v1 SDK object as plain JSON data (what the SDK parsed, not the raw body)."""
    return json.loads(json.dumps(model.dict(), default=str)) if model is not None else None


def ids(items: list[Any]) -> list[str]:
    return [str(item.id) for item in items]


def run_section(section: Section, client: Client, given: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"ok": True, **section(client, given)}
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return {"ok": False, "error": detail, "traceback": traceback.format_exc()[-3000:]}


def run(sections: dict[str, Section]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--input", help="JSON file with data prepared by the test")
    args = parser.parse_args()
    given: dict[str, Any] = {}
    if args.input:
        with open(args.input) as fh:
            given = json.load(fh)
    client = Client(api_key=args.api_key, base_url=args.base_url)
    result: dict[str, Any] = {"sdk_version": SDK_VERSION}
    for name, section in sections.items():
        result[name] = run_section(section, client, given)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1, default=str)
