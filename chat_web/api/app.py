"""The FastAPI app mounted in front of Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI

from chat_web.api import auth
from chat_web.api.errors import install_error_handlers

PREFIX = "/api/v1"


def create_api() -> FastAPI:
    api = FastAPI(
        title="chat_web API",
        version="1.0.0",
        description="Email one-time-code sign-in and chat. Send `Authorization: Bearer <token>`.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
    )
    install_error_handlers(api)
    api.include_router(auth.router, prefix=PREFIX)
    return api
