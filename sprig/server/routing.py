"""Which methods each path answers: ``Allow`` on 405, and 405 where a static path is shadowed.

Starlette's 405 names the methods of the first route that matched the path only, and a
static path (``/agents/models``) that a parametric one (``/agents/{id}``) also matches gets
the other route's 422 for the methods it lacks. The table fixes both.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Scope


class MethodTable:
    def __init__(self, routers: Iterable[APIRouter]) -> None:
        self.routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]

    def allowed(self, scope: Scope) -> list[str]:
        """Every method some route answers at this request's path."""
        path = _route_path(scope)
        static = self._methods_at(path)  # a static path is not also a parametric one
        if static:
            return sorted(static)
        return sorted({m for r in self.routes if r.path_regex.match(path) for m in r.methods or ()})

    def guards(self) -> APIRouter:
        """Routes answering 405 on static paths for the methods only a parametric route has
        (included first, out of the schema)."""
        router = APIRouter(include_in_schema=False)
        for route in self.routes:
            if route.param_convertors:
                continue
            shadowing = {
                method
                for other in self.routes
                if other.param_convertors and other.path_regex.match(route.path)
                for method in other.methods or ()
            }
            missing = shadowing - self._methods_at(route.path)
            if missing:
                router.add_api_route(route.path, _not_allowed, methods=sorted(missing))
        return router

    def _methods_at(self, path: str) -> set[str]:
        return {
            m
            for r in self.routes
            if not r.param_convertors and r.path == path
            for m in r.methods or ()
        }


async def _not_allowed() -> None:
    raise HTTPException(405)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
