"""The Bearer token in the OpenAPI document, as a security scheme on the routes that need one.

The routes read the token from the request themselves (chat_web/api/deps.py), so FastAPI no
longer documents it as a header parameter of each route.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from chat_web.api.deps import current_user, current_viewer

SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The token of POST /verify, as `Authorization: Bearer <token>`.",
    }
}
_SIGNED_IN = {current_user, current_viewer}


def _needs_token(dependant: Dependant) -> bool:
    return any(d.call in _SIGNED_IN or _needs_token(d) for d in dependant.dependencies)


def document_bearer(api: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Have `api`'s OpenAPI document name the Bearer scheme on every route of `routers` that
    asks who the caller is."""
    secured = [
        (route.path_format, method.lower())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and _needs_token(route.dependant)
        for method in route.methods
    ]
    build = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is None:
            schema = build()  # kept by FastAPI as api.openapi_schema
            schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(SCHEMES)
            for path, method in secured:
                schema["paths"][path][method]["security"] = [{"bearer": []}]
        return api.openapi_schema

    api.openapi = openapi
