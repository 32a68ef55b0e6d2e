"""Serving the console: ``/console/`` (the page) and its assets, gzipped, under a strict
Content-Security-Policy (only this server's scripts, styles and API; no inline script), so
a name, a document or a reply that carries markup can never run as code. The one exception:
the JSON editor (CodeMirror) adds its own ``<style>`` elements, allowed by a nonce made
afresh for each page (the page carries it in a ``<meta>`` for the editor to use).

The page is one HTML file; the app routes with the URL's fragment (``#/agents``), so a
reload anywhere asks the server for the same page. It finds the API one level up from its
own URL, so it works at ``/console/`` and at ``/api/console/`` alike.
"""

from __future__ import annotations

import functools
import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PATH = "/console"
CONTENT_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
ASSET_HEADERS = {
    "content-security-policy": CONTENT_POLICY.replace(" 'nonce-{nonce}'", ""),
    "cache-control": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


class _Assets(StaticFiles):
    """The console's scripts and styles: revalidated (no-cache), typed, never framed."""

    async def get_response(self, path: str, scope: object) -> Response:
        response = await super().get_response(path, scope)  # type: ignore[arg-type]
        response.headers.update(ASSET_HEADERS)
        return response


@functools.cache
def _page_text() -> str:
    return (STATIC / "index.html").read_text("utf-8")


async def _page(request: Request) -> Response:
    nonce = secrets.token_urlsafe(18)
    headers = {
        **ASSET_HEADERS,
        "content-security-policy": CONTENT_POLICY.format(nonce=nonce),
        "cache-control": "no-store",  # a nonce is good for one page
    }
    return HTMLResponse(_page_text().replace("{{nonce}}", nonce), headers=headers)


async def _to_page(request: Request) -> Response:
    root = request.scope.get("root_path", "")
    return RedirectResponse(f"{root}{PATH}/", status_code=307)


def console_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/", _page, methods=["GET", "HEAD"]),
            Mount("/static", _Assets(directory=STATIC), name="console-static"),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=1024)],
    )


def mount_console(app: FastAPI) -> None:
    """Serve the console at ``/console/`` (``/console`` and ``/`` redirect there)."""
    app.router.routes.append(Route(PATH, _to_page, methods=["GET", "HEAD"]))
    app.router.routes.append(Route("/", _to_page, methods=["GET", "HEAD"]))
    app.mount(PATH, console_app(), name="console")
