"""A person's own data as a download: the job that builds it and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

ExportStatus = Literal["running", "ready", "failed"]


@dataclass(frozen=True, slots=True)
class ExportJob:
    id: str  # 32 random URL-safe characters: also the only part of the download's path
    user_id: str
    status: ExportStatus
    progress: float  # 0 to 1
    created_at: datetime
    expires_at: datetime  # the download is refused after this, and its file deleted
    size: int = 0  # bytes of the finished zip
    problem: str = ""  # why it failed, in words for the person
