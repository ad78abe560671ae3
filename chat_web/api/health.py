"""Liveness, readiness and metrics: what a load balancer, an orchestrator and Prometheus ask."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from chat_web import container
from chat_web.api import PREFIX
from chat_web.config import Settings, get_settings
from chat_web.domain import ServiceUnavailable
from chat_web.metrics import exposition
from chat_web.metrics.gauges import refresh_gauges

router = APIRouter(prefix=PREFIX, tags=["health"])
PROBE_TIMEOUT = 3.0  # seconds per service


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up and answering (it says nothing about the services behind it)."""
    return {"status": "ok"}


async def _answers(probe) -> bool:
    try:
        await asyncio.wait_for(probe(), PROBE_TIMEOUT)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the adapters log the reason
        return False


@router.get("/ready", responses={503: {"description": "Not ready: `detail` names what is down."}})
async def ready() -> JSONResponse:
    """Ready to serve: every configured service (database, Redis, RabbitMQ) answers now."""
    try:
        running = container.current()
    except ServiceUnavailable as exc:
        return JSONResponse({"status": "starting", "detail": exc.message, "services": {}}, status_code=503)
    names = list(running.probes)
    results = await asyncio.gather(*(_answers(running.probes[name]) for name in names))
    services = {name: "up" if up else "down" for name, up in zip(names, results, strict=True)}
    down = [name for name, up in zip(names, results, strict=True) if not up]
    if down:
        detail = f"Not ready: {', '.join(down)} cannot be reached."
        return JSONResponse({"status": "not ready", "detail": detail, "services": services}, status_code=503)
    return JSONResponse({"status": "ready", "services": services})


metrics_router = APIRouter()


def metrics_access(settings: Settings, authorization: str | None) -> int:
    """200 if this request may read the metrics; else the status to answer (README: METRICS_TOKEN)."""
    token = settings.metrics_token.get_secret_value()
    if not token:
        return 200 if settings.is_dev else 404  # production without a token: not served
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return 200
    return 401


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
    """Prometheus text format; behind METRICS_TOKEN when it is set, absent in production without it."""
    try:
        settings = container.current().settings
    except ServiceUnavailable:  # still starting: the process's own settings say the same
        settings = get_settings()
    status = metrics_access(settings, authorization)
    if status == 404:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if status == 401:
        return JSONResponse(
            {"detail": "/metrics needs Authorization: Bearer <METRICS_TOKEN>."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    refresh_gauges()
    body, content_type = exposition(settings.prometheus_multiproc_dir)
    return Response(body, media_type=content_type)
