"""Every error leaves as JSON `{"detail": ...}` with the status code it deserves.

The handlers are coroutines: Starlette runs a plain function in its thread pool.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from chat_web.domain import ChatError, RateLimited, ServiceUnavailable

log = logging.getLogger(__name__)
SERVICE_RETRY_AFTER = 5  # seconds; a backing service that is down is retried by the app that often
CLIENT_CLOSED_REQUEST = 499  # nginx's name for it: the client left before its body was read


async def _chat_error(_: Request, exc: ChatError) -> JSONResponse:
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ServiceUnavailable):
        headers["Retry-After"] = str(SERVICE_RETRY_AFTER)
    if "Retry-After" in headers:
        # A page on another origin (the development frontend, CORS_ORIGINS) may read it: the
        # chat page's sends wait for it (assets/sends.js). CORS hides any other header.
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code, headers=headers)


_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def _field(loc: tuple) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    # One plain sentence per problem, like every other error: `detail` is always text.
    problems = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return JSONResponse({"detail": "; ".join(problems) or "The request is not valid."}, status_code=422)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette's Allow names the first route on the path only; two routes share one
        # path (PATCH and DELETE of a message), so list the methods of every route there.
        headers = {**(headers or {}), "Allow": ", ".join(sorted(_allowed_methods(request)))}
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> set[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= route.methods
    return methods


async def _client_left(request: Request, _: ClientDisconnect) -> JSONResponse:
    # Not our failure: a client that closed its connection mid-body (a cancelled upload, a
    # lost network). Nobody reads the answer; the metrics count it as 499, not as a 500.
    log.info("client disconnected during the request body: %s %s", request.method, request.url.path)
    return JSONResponse({"detail": "The client closed the connection."}, status_code=CLIENT_CLOSED_REQUEST)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return JSONResponse({"detail": "Something went wrong on our side."}, status_code=500)


def install_error_handlers(api: FastAPI) -> None:
    api.add_exception_handler(ChatError, _chat_error)
    api.add_exception_handler(RequestValidationError, _validation_error)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    api.add_exception_handler(ClientDisconnect, _client_left)
    api.add_exception_handler(Exception, _unexpected)
