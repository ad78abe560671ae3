"""Download my data: start an export, see how far it is, download the zip (see services/exports.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from fastapi.responses import FileResponse
from pydantic import Field

from chat_web import container
from chat_web.adapters.exports.local import ID_PATTERN
from chat_web.api import PREFIX
from chat_web.api.deps import CurrentUser, CurrentViewer
from chat_web.api.schemas import ApiModel, ErrorOut
from chat_web.domain import ServiceUnavailable
from chat_web.domain.exports import ExportJob
from chat_web.services.exports import ExportService

router = APIRouter(prefix=PREFIX, tags=["my data"])

ExportId = Annotated[str, Path(pattern=ID_PATTERN, min_length=32, max_length=32)]
_errors = {code: {"model": ErrorOut} for code in (401, 404, 422, 503)}


async def export_service() -> ExportService:
    exports = container.current().exports
    if exports is None:
        raise ServiceUnavailable("Exports are not available in this process.")
    return exports


Exports = Annotated[ExportService, Depends(export_service)]


class ExportOut(ApiModel):
    id: str
    status: Literal["running", "ready", "failed"]
    progress: float = Field(description="From 0 to 1.")
    created_at: datetime
    expires_at: datetime = Field(description="The download works until then; the zip is deleted after.")
    size: int = Field(description="Bytes of the zip once ready.")
    problem: str = Field(description="Why it failed, when it did.")
    download_url: str | None = Field(description="Once ready: GET it with the same credentials.")

    @classmethod
    def of(cls, job: ExportJob) -> ExportOut:
        ready = job.status == "ready"
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            created_at=job.created_at,
            expires_at=job.expires_at,
            size=job.size,
            problem=job.problem,
            download_url=f"{PREFIX}/me/export/{job.id}/download" if ready else None,
        )


# Five an hour at most (services/exports.py EXPORTS_AN_HOUR): the sixth is 429 with Retry-After.
_limited = {429: {"model": ErrorOut, "description": "Five exports an hour at most."}}


@router.post("/me/export", status_code=202, response_model=ExportOut, responses={**_errors, **_limited})
async def start_export(me: CurrentUser, exports: Exports) -> ExportOut:
    """Start putting my data together in the background (or give the one still running): my
    profile, my chats with every message (JSON), and the images, files and voice messages I
    sent, as one zip."""
    return ExportOut.of(await exports.start(me))


@router.get("/me/export/{export_id}", response_model=ExportOut, responses=_errors)
async def export_status(export_id: ExportId, me: CurrentUser, exports: Exports) -> ExportOut:
    """How far it is; `downloadUrl` once ready. Another person's export is 404."""
    return ExportOut.of(await exports.status(me, export_id))


@router.get(
    "/me/export/{export_id}/download",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/zip": {}}},
        **{c: {"model": ErrorOut} for c in (409, 410)},
        **_errors,
    },
)
async def download_export(export_id: ExportId, me: CurrentViewer, exports: Exports) -> FileResponse:
    """The zip, for its owner only (the Bearer token, or a browser's session cookie); 409 while
    it is being built, 410 once it expired."""
    job, path = await exports.download(me, export_id)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"chat-data-{job.created_at:%Y-%m-%d}.zip",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
