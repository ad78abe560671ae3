"""LocalExportArchives: the "download my data" zips under DATA_DIR/exports, with a JSON record each.

A zip is written as `<id>.zip.part` and renamed when whole, so a download never reads half of
one. Each entry is streamed into the zip a piece at a time, in worker threads (deflate is CPU
work): memory holds one piece, whatever the size of the export. The record (`<id>.json`) is what
the job says of itself (whose it is, how far it is, when it expires); with several instances,
DATA_DIR must be shared, as the local media store's already is.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import zipfile
from datetime import datetime
from pathlib import Path

from chat_web.domain.exports import ExportJob
from chat_web.ports import ArchiveEntries

ID_PATTERN = r"^[A-Za-z0-9_-]{32}$"
_ID_RE = re.compile(ID_PATTERN)
_TEXT = (".json", ".jsonl", ".txt")


class LocalExportArchives:
    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, job_id: str, suffix: str) -> Path | None:
        # The id's own shape is the traversal guard: nothing but the URL-safe alphabet.
        if not isinstance(job_id, str) or not _ID_RE.match(job_id):
            return None
        return self.folder / f"{job_id}{suffix}"

    async def write(self, job_id: str, entries: ArchiveEntries) -> int:
        final, part = self._path(job_id, ".zip"), self._path(job_id, ".zip.part")
        if final is None or part is None:
            raise ValueError(f"not an export id: {job_id!r}")
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        archive = await asyncio.to_thread(zipfile.ZipFile, part, "w", zipfile.ZIP_DEFLATED)
        try:
            async for name, chunks in entries:
                entry = zipfile.ZipInfo(name, date_time=time.gmtime()[:6])
                # Text is deflated; images and other media are compressed already: stored as they are.
                entry.compress_type = zipfile.ZIP_DEFLATED if name.endswith(_TEXT) else zipfile.ZIP_STORED
                handle = await asyncio.to_thread(archive.open, entry, "w", force_zip64=True)
                try:
                    async for chunk in chunks:
                        await asyncio.to_thread(handle.write, chunk)
                finally:
                    await asyncio.to_thread(handle.close)
            await asyncio.to_thread(archive.close)
            await asyncio.to_thread(part.rename, final)
        except BaseException:
            await asyncio.to_thread(_discard, archive, part)
            raise
        return (await asyncio.to_thread(final.stat)).st_size

    async def save_job(self, job: ExportJob) -> None:
        path = self._path(job.id, ".json")
        if path is None:
            raise ValueError(f"not an export id: {job.id!r}")
        await asyncio.to_thread(_write_record, path, job)

    async def job(self, job_id: str) -> ExportJob | None:
        path = self._path(job_id, ".json")
        return None if path is None else await asyncio.to_thread(_read_record, path)

    async def jobs_of(self, user_id: str) -> list[ExportJob]:
        def every() -> list[ExportJob]:
            records = self.folder.glob("*.json") if self.folder.exists() else []
            return [job for job in map(_read_record, records) if job is not None]

        return [job for job in await asyncio.to_thread(every) if job.user_id == user_id]

    async def file(self, job_id: str) -> str | None:
        path = self._path(job_id, ".zip")
        return str(path) if path is not None and await asyncio.to_thread(path.is_file) else None

    async def delete(self, job_id: str) -> None:
        for suffix in (".zip", ".zip.part", ".json"):
            path = self._path(job_id, suffix)
            if path is not None:
                await asyncio.to_thread(path.unlink, missing_ok=True)


def _discard(archive: zipfile.ZipFile, part: Path) -> None:
    try:
        archive.close()
    except Exception:  # noqa: BLE001 - the half-written file goes either way
        pass
    part.unlink(missing_ok=True)


def _write_record(path: Path, job: ExportJob) -> None:
    record = {
        "id": job.id,
        "userId": job.user_id,
        "status": job.status,
        "progress": job.progress,
        "createdAt": job.created_at.isoformat(),
        "expiresAt": job.expires_at.isoformat(),
        "size": job.size,
        "problem": job.problem,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(record))
    scratch.replace(path)  # a reader sees the old record or the new one, never half


def _read_record(path: Path) -> ExportJob | None:
    try:
        record = json.loads(path.read_text())
        return ExportJob(
            id=record["id"],
            user_id=record["userId"],
            status=record["status"],
            progress=float(record["progress"]),
            created_at=datetime.fromisoformat(record["createdAt"]),
            expires_at=datetime.fromisoformat(record["expiresAt"]),
            size=int(record.get("size", 0)),
            problem=str(record.get("problem", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
