"""Liveness, readiness and metrics: what a load balancer, an orchestrator and Prometheus ask."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from chat_web import container
from chat_web.api import PREFIX
from chat_web.config import get_settings
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


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus text format."""
    refresh_gauges()
    body, content_type = exposition(get_settings().prometheus_multiproc_dir)
    return Response(body, media_type=content_type)
