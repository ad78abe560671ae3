"""SQL storage on SQLModel / SQLAlchemy async: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, event
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat_web.domain import ServiceUnavailable, User


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(primary_key=True, max_length=32)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(max_length=50)
    created_at: datetime = Field(sa_type=DateTime(timezone=True))


def _utc(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; everything in the domain is UTC-aware.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _user(row: UserRow) -> User:
    return User(id=row.id, email=row.email, name=row.name, created_at=_utc(row.created_at))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class SqlDatabase:
    """Owns the engine; one per process, closed by the app's lifespan."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine: AsyncEngine = create_async_engine(url)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.session = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def create_schema(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(SQLModel.metadata.create_all)
        except (OperationalError, OSError) as exc:
            raise ServiceUnavailable(f"The database ({self.backend}) cannot be reached: {exc}") from exc

    async def close(self) -> None:
        await self.engine.dispose()


class SqlUserRepo:
    def __init__(self, db: SqlDatabase):
        self._db = db

    async def get(self, user_id: str) -> User | None:
        async with self._db.session() as session:
            row = await session.get(UserRow, user_id)
            return _user(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        async with self._db.session() as session:
            row = (await session.exec(select(UserRow).where(UserRow.email == email))).first()
            return _user(row) if row else None

    async def get_or_create(self, email: str, name: str) -> User:
        existing = await self.get_by_email(email)
        if existing:
            return existing
        row = UserRow(id=uuid.uuid4().hex, email=email, name=name, created_at=datetime.now(UTC))
        try:
            async with self._db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            # Another request created the same email first; the unique index decided.
            winner = await self.get_by_email(email)
            if winner is None:
                raise
            return winner
        return _user(row)

    async def update_name(self, user_id: str, name: str) -> User | None:
        async with self._db.session() as session, session.begin():
            row = await session.get(UserRow, user_id)
            if row is None:
                return None
            row.name = name
        return _user(row)

    async def delete(self, user_id: str) -> None:
        async with self._db.session() as session, session.begin():
            row = await session.get(UserRow, user_id)
            if row is not None:
                await session.delete(row)
