"""Download my data from the profile page: start the export, watch it, then the link."""

from __future__ import annotations

import asyncio

import reflex as rx

from chat_web import container
from chat_web.domain import ChatError
from chat_web.domain.exports import ExportJob
from chat_web.state.session import SessionState, error_toast

POLL_SECONDS = 0.5
WATCH_AT_MOST = 30 * 60 / POLL_SECONDS  # polls: an export stuck for half an hour is not watched on


def size_text(size: int) -> str:
    for unit in ("bytes", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


class ExportState(SessionState):
    export_id: str = ""
    export_status: str = ""  # "", running, ready, failed
    export_percent: int = 0
    export_note: str = ""  # the size and until when the link works, or why it failed

    def _show_job(self, job: ExportJob | None) -> None:
        if job is None:
            self.export_id, self.export_status, self.export_percent, self.export_note = "", "", 0, ""
            return
        self.export_id, self.export_status = job.id, job.status
        self.export_percent = round(job.progress * 100)
        if job.status == "ready":
            until = job.expires_at.strftime("%d %b %Y, %H:%M UTC")
            self.export_note = f"{size_text(job.size)} · the link works until {until}"
        else:
            self.export_note = job.problem

    @rx.var
    def export_href(self) -> str:
        return f"/api/v1/me/export/{self.export_id}/download" if self.export_status == "ready" else ""

    @rx.event
    async def show_latest_export(self):
        """on_mount of the section: the export of mine still running or ready, if any."""
        try:
            me = await self._signed_in_user()
            if me is not None:
                self._show_job(await container.current().exports.latest(me))
        except ChatError as exc:
            return error_toast(exc)
        if self.export_status == "running":
            return ExportState.watch_export

    @rx.event
    async def start_export(self):
        try:
            job = await container.current().exports.start(await self._require())
        except ChatError as exc:
            return error_toast(exc)
        self._show_job(job)
        return ExportState.watch_export

    @rx.event(background=True)
    async def watch_export(self):
        """Follow the running export until it is ready or failed."""
        async with self:
            job_id = self.export_id
            me = await self._signed_in_user()
        if me is None or not job_id:
            return
        for _ in range(int(WATCH_AT_MOST)):
            await asyncio.sleep(POLL_SECONDS)
            try:
                job = await container.current().exports.status(me, job_id)
            except ChatError:
                return  # gone (expired, or the account was deleted): the next visit shows the truth
            async with self:
                if self.export_id != job_id:
                    return  # another export was started meanwhile: its own watch follows it
                self._show_job(job)
            if job.status != "running":
                return
