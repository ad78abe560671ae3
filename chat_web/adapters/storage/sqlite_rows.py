"""Rows of sqlite3 itself, as the domain's records: datetimes as SQLAlchemy keeps them in SQLite
("YYYY-MM-DD HH:MM:SS.ffffff", UTC, no zone), booleans as 0 and 1."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace

from chat_web.adapters.storage.sql_schema import to_message
from chat_web.domain import Message

_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DATETIME storage format on SQLite


def stamp(at: datetime) -> str:
    """A datetime as stored."""
    return at.astimezone(UTC).strftime(_TIME)


def time_of(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def named(connection: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor whose rows are read by column name (the connection's own stay tuples, as
    SQLAlchemy expects them)."""
    cursor = connection.cursor()
    cursor.row_factory = sqlite3.Row
    return cursor


def fields(row: sqlite3.Row, prefix: str = "", times: tuple[str, ...] = ()) -> SimpleNamespace:
    """The columns named `prefix`+name as attributes by name, the `times` among them as datetimes."""
    values = {key[len(prefix) :]: row[key] for key in row.keys() if key.startswith(prefix)}
    for name in times:
        values[name] = time_of(values[name])
    return SimpleNamespace(**values)


def message_of(row: sqlite3.Row) -> Message:
    found = fields(row, times=("created_at", "edited_at", "seen_at"))
    found.deleted = bool(found.deleted)
    return to_message(found)
