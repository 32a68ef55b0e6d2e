"""The API's pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), working offline.

Their JavaScript and CSS come from the ``fastapi-offline`` package installed with Sprig and
are served at ``/docs/assets`` (FastAPI's own pages load them from a CDN). Under ``/api`` the
pages and what they load keep the prefix (``root_path``, see ``app.EdgeMiddleware``).

A Content-Security-Policy keeps the pages on this server: ReDoc's menu shows its maker's
logo from their CDN, which the policy refuses (ReDoc then leaves the logo out).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs/assets"
ASSETS_PACKAGE = ("fastapi_offline", "static")
CONTENT_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",  # each page starts its viewer inline
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "worker-src 'self' blob:",  # ReDoc's search index
        "connect-src 'self'",
    )
)


def add_docs_pages(app: FastAPI, title: str) -> None:
    """Serve the assets and both pages (out of the OpenAPI document)."""
    app.mount(ASSETS_URL, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=None,
        )
        return _guarded(page)

    async def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        page = get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
        return _guarded(page)

    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)


def _root(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root


def _guarded(page: HTMLResponse) -> HTMLResponse:
    page.headers["content-security-policy"] = CONTENT_POLICY
    return page
