"""The FastAPI app mounted in front of Reflex through `api_transformer`."""

from __future__ import annotations

from fastapi import FastAPI

from chat_web import container
from chat_web.api import PREFIX, auth, chats, exports, health, live, media, push
from chat_web.api.edge import Edge, EdgeSettings
from chat_web.api.errors import install_error_handlers
from chat_web.api.headers import SecurityHeaders, cloudinary_hosts
from chat_web.api.limits import BodyLimit
from chat_web.api.openapi import document_bearer
from chat_web.config import get_settings
from chat_web.domain import ChatError
from chat_web.domain.files import MAX_FILE_BYTES, too_large

__all__ = ["PREFIX", "create_api"]
MAX_BODY_BYTES = 1024 * 1024
FORM_OVERHEAD_BYTES = 64 * 1024  # an upload's multipart body: its boundaries, chatId, clientId, caption


def _upload_body_limit() -> tuple[int, str]:
    """The largest upload limit of the running app (MAX_FILE_BYTES, unless images may be larger),
    as a body limit for uploads; each upload field's own limit is counted in the form
    (chat_web/api/uploads.py)."""
    try:
        limits = container.current().media.upload_limits
    except ChatError:  # still starting: the route answers 503 anyway
        return MAX_FILE_BYTES + FORM_OVERHEAD_BYTES, too_large("Files", MAX_FILE_BYTES)
    max_bytes, detail = max(limits.values())
    return max_bytes + FORM_OVERHEAD_BYTES, detail


def _edge_settings() -> EdgeSettings:
    settings = get_settings()
    return EdgeSettings(
        # A body must keep coming (MIN bytes/s after a grace), however large it may be.
        min_body_rate=settings.body_min_bytes_per_second,
        body_grace=settings.body_grace_seconds,
        # Websockets (Reflex's /_event) open at once from one address.
        sockets_per_client=settings.limit_sockets_per_client,
        proxy_hops=settings.trusted_proxy_hops,
    )


def create_api() -> FastAPI:
    api = FastAPI(
        title="chat_web API",
        version="1.0.0",
        description="Email one-time-code sign-in and chat. Send `Authorization: Bearer <token>`.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=f"{PREFIX}/docs",
        redoc_url=None,
        # Nothing here configures OpenTelemetry (metrics are Prometheus, chat_web/metrics), and
        # FastAPI's native bridge asks the global providers on every request whether it is.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # One layer sees every request of the process (the Reflex app is mounted below this one):
    # security headers and metrics on every answer, body limits under /api, the socket cap.
    api.add_middleware(
        Edge,
        settings=_edge_settings,
        # JSON bodies are small; a larger one is refused with 413 before it is read whole.
        body_limit=BodyLimit(MAX_BODY_BYTES, uploads={f"{PREFIX}/message": _upload_body_limit}),
        # CSP, nosniff, no framing, Referrer-Policy on every answer, the production pages included.
        headers=SecurityHeaders(
            image_hosts=lambda: cloudinary_hosts(get_settings().cloudinary_url.get_secret_value()),
            docs_path=f"{PREFIX}/docs",
        ),
    )
    install_error_handlers(api)
    # The chat routes first: FastAPI tries the routes in order (an included router's twice), and most
    # requests are sends and reads (no path of one router matches another's).
    routers = [
        chats.router,
        health.router,
        auth.router,
        live.router,
        media.router,
        exports.router,
        push.router,
        health.metrics_router,
    ]
    for router in routers:
        api.include_router(router)
    document_bearer(api, routers)
    return api
