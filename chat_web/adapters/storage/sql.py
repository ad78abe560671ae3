"""SQL storage on SQLModel / SQLAlchemy async: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TypeVar

import asyncpg
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    case,
    column,
    create_engine,
    event,
    func,
    insert,
    or_,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat_web.adapters.outage import translate_outages
from chat_web.adapters.storage import pg_reads, pg_send, sqlite_reads, sqlite_send
from chat_web.adapters.storage.pg_pool import PgPool, is_driver_outage
from chat_web.adapters.storage.sql_push import SqlPushRepo
from chat_web.adapters.storage.sql_schema import (
    BlockRow,
    ChatRow,
    MemberRow,
    MessageRow,
    UserRow,
    attachment_to_json,
    reactions_from_json,
    reactions_to_json,
    to_chat,
    to_member,
    to_message,
    to_user,
    utc,
)
from chat_web.adapters.storage.sqlite_batch import SendBatches
from chat_web.domain import (
    Attachment,
    BadInput,
    Chat,
    ChatView,
    Conflict,
    Forbidden,
    Image,
    Member,
    Message,
    NewMessage,
    NotFound,
    ServiceUnavailable,
    User,
    direct_key,
    preview_of,
    quote_of,
    toggled,
)
from chat_web.domain.files import attachment_of
from chat_web.domain.models import DELETED_PREVIEW
from chat_web.domain.people import people_query
from chat_web.domain.search import SearchHit, SearchQuery, text_words
from chat_web.domain.sending import (
    ACCOUNT_GONE,
    BLOCKED,
    NOT_A_MEMBER,
    REPLY_DELETED,
    REPLY_MISSING,
    ChatListing,
    MentionFinder,
    ReadMove,
    Sent,
    Window,
    seen_range,
    with_quotes,
)
from chat_web.ports import ChatKey

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_261_001  # PostgreSQL advisory lock id: one migrating process at a time
_AUTOCHECKPOINT_PAGES = 10_000
_CHECKPOINT_EVERY = 1.0  # seconds


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")
_SQLITE_READERS = 4  # threads (and connections) for SQLite reads: WAL readers never wait for the writer
_PG_POOL = 10  # PostgreSQL connections per process through SQLAlchemy, kept open (+ PgPool's DB_POOL_SIZE)


def _in_transaction(engine: Engine, use_case: Callable[[Connection], T]) -> T:
    with engine.begin() as conn:
        return use_case(conn)


def _on_connection(engine: Engine, use_case: Callable[[Connection], T]) -> T:
    with engine.connect() as conn:
        try:
            return use_case(conn)
        finally:
            conn.rollback()  # end the read transaction: WAL may then be checkpointed past it


_FTS_MERGE_PAGES = 200  # index pages one background merge step writes at most


def _fts_settings(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 0)")
    conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 64)")


def _fts_merge_step(conn: Connection) -> None:
    conn.exec_driver_sql(f"INSERT INTO messages_fts(messages_fts, rank) VALUES ('merge', {_FTS_MERGE_PAGES})")


def _sqlite_writer(dbapi_connection, _record) -> None:
    # The driver opens no transaction of its own: every write begins with BEGIN IMMEDIATE
    # (below), taking the write lock at once instead of failing to upgrade a read later.
    dbapi_connection.isolation_level = None


def _begin_immediate(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Checkpoints run in the background (SqlDatabase.start); this is only the safety net,
    # so that a write seldom pays for copying the WAL back into the database.
    cursor.execute(f"PRAGMA wal_autocheckpoint={_AUTOCHECKPOINT_PAGES}")
    cursor.close()
    # SQLite's own lower() folds ASCII letters only ("Émile" stays "Émile"): people search
    # folds names as Python does, like the other backends and the query itself.
    dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)
    dbapi_connection.create_function("starts_a_word", 2, _starts_a_word, deterministic=True)


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def _starts_a_word(text: str | None, prefix: str) -> bool:
    # Message search's rule for a start longer than FTS5's prefix indexes (_sqlite_search).
    return isinstance(text, str) and SearchQuery(prefix=prefix).matches(text_words(text))


# SQLSTATE classes of a server that is away, starting, stopping or full: connection
# exception, insufficient resources, operator intervention (shutdown), system error.
_OUTAGE_SQLSTATE_CLASSES = {"08", "53", "57", "58"}


def is_outage(exc: BaseException) -> bool:
    """The database is away or overloaded (not: a constraint refused a row, a bad query)."""
    driver = (sqlite3.OperationalError, sqlite3.InterfaceError)  # statements run on sqlite3 itself
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, OSError, *driver)) or is_driver_outage(
        exc
    ):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES


# Every repository method: a database that went away answers 503 naming it, never a 500.
_outages = translate_outages(is_outage, lambda repo: f"The database ({repo._db.backend})")
_outages(SqlPushRepo)


def search_migration():
    """The message-search migration module (its number may change as branches merge)."""
    path = next((MIGRATIONS / "versions").glob("*_message_search.py"))
    spec = importlib.util.spec_from_file_location("message_search_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _upgrade(connection) -> None:
    # Alembic announces each of its plugins at INFO on every start: noise in the app's log.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class SqlDatabase:
    """Owns the engine; one per process, closed by the app's lifespan."""

    def __init__(self, url: str, pool_size: int = 20):
        self.url = url
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Every use ends its transaction explicitly (engine.begin / session), so the
            # pool skips its rollback-on-return: one less thread hop per query on aiosqlite.
            self.engine: AsyncEngine = create_async_engine(url, pool_reset_on_return=None)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # SQLite has one writer at a time: writes queue for this one connection in the
            # pool (an await) instead of spinning on the database lock; readers use the
            # other pool and, in WAL mode, never wait for the writer.
            self.writer: AsyncEngine = create_async_engine(
                url, pool_reset_on_return=None, pool_size=1, max_overflow=0, pool_timeout=60
            )
            event.listen(self.writer.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.writer.sync_engine, "connect", _sqlite_writer)
            event.listen(self.writer.sync_engine, "begin", _begin_immediate)
            # The hot use cases (send, read, history, chat list) run whole in one thread hop
            # each, on the driver's own blocking connection: aiosqlite hops to its thread
            # and back for every statement, which cost more than the statements (profiled).
            sync_url = url.replace("sqlite+aiosqlite", "sqlite", 1)
            self._sync_writer = create_engine(
                sync_url, pool_size=1, max_overflow=0, pool_reset_on_return=None
            )
            event.listen(self._sync_writer, "connect", _sqlite_pragmas)
            event.listen(self._sync_writer, "connect", _sqlite_writer)
            event.listen(self._sync_writer, "begin", _begin_immediate)
            self._sync_reader = create_engine(
                sync_url,
                pool_size=_SQLITE_READERS,
                max_overflow=0,
                pool_reset_on_return=None,
                connect_args={"check_same_thread": False},
            )
            event.listen(self._sync_reader, "connect", _sqlite_pragmas)
            self._write_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
            self._read_threads = ThreadPoolExecutor(_SQLITE_READERS, thread_name_prefix="sqlite-reader")
            # Sends waiting for the writer go together: one hop, one transaction (sqlite_batch.py).
            self.send_batches = SendBatches(self._sync_writer, self._write_thread)
        else:
            # No ping before every checkout (a round trip per query on the hot paths): when the
            # server went away, the first failing query answers 503 and SQLAlchemy discards
            # every pooled connection older than the failure, so the next request reconnects.
            #
            # All of them kept (no overflow): with 10 kept and 20 overflow, a returned connection
            # was closed whenever 10 sat idle and opened again in the next burst (under the API
            # load, 10 new connections a second, each a server process, the driver's type setup,
            # and every statement prepared again on it; 2 % of a live-page run's CPU).
            self.engine = create_async_engine(url, pool_size=_PG_POOL, max_overflow=0, pool_pre_ping=False)
            # The hot use cases (a send, a page, my chats) on asyncpg's own pool (pg_pool.py).
            self.direct = PgPool(url, pool_size)
            self.writer = self.engine
        self.session = async_sessionmaker(self.writer, class_=AsyncSession, expire_on_commit=False)
        # Reads need no transaction: on PostgreSQL, autocommit saves the BEGIN and the
        # ROLLBACK around every lookup (two round trips of three).
        self.reader = (
            self.engine
            if self.backend == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.reads = async_sessionmaker(self.reader, class_=AsyncSession, expire_on_commit=False)
        self._checkpointer: asyncio.Task | None = None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def write(self):
        """One write transaction on one connection (on SQLite: the one writer, BEGIN IMMEDIATE)."""
        return self.writer.begin()

    def read(self):
        """One connection for reads (PostgreSQL: autocommit, no BEGIN/ROLLBACK round trips)."""
        return self.reader.connect()

    async def run_write(self, use_case: Callable[[Connection], T]) -> T:
        """Run a use case written against a blocking Connection in one write transaction.

        SQLite: in the one writer thread, one hop for the whole use case. PostgreSQL: on an
        asyncpg connection through SQLAlchemy's greenlet bridge (no thread at all).
        """
        if self.backend == "sqlite":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._write_thread, _in_transaction, self._sync_writer, use_case
            )
        async with self.writer.begin() as conn:
            return await conn.run_sync(use_case)

    async def run_read(self, use_case: Callable[[Connection], T]) -> T:
        """`run_write` for reads: SQLite's reader threads, or PostgreSQL in autocommit."""
        if self.backend == "sqlite":
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._read_threads, _on_connection, self._sync_reader, use_case)
        async with self.reader.connect() as conn:
            return await conn.run_sync(use_case)

    async def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision, one process at a time."""
        from chat_web.adapters.storage.migration_lock import migration_lock, sqlite_file

        database = sqlite_file(self.url) if self.backend == "sqlite" else None
        async with migration_lock(database) if database else contextlib.nullcontext():
            await self._migrate_locked()

    async def _migrate_locked(self) -> None:
        try:
            async with self.engine.connect() as conn:
                if self.backend == "postgresql":
                    await conn.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
                    await conn.commit()
                try:
                    await conn.run_sync(_upgrade)
                    await conn.commit()
                finally:
                    if self.backend == "postgresql":
                        await conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
                        await conn.commit()
        except Exception as exc:
            # At start-up any database error but a refused row is worth waiting out.
            if isinstance(exc, IntegrityError) or not (is_outage(exc) or isinstance(exc, DBAPIError)):
                raise
            # The driver's words (host, reason) go to the log; callers read only the name.
            log.warning("DATABASE_URL: the database (%s) cannot be reached: %s", self.backend, exc)
            raise ServiceUnavailable(
                f"The database ({self.backend}) cannot be reached; try again shortly."
            ) from exc

    async def start(self) -> None:
        """Migrate, then (SQLite) checkpoint the WAL in the background, off the request path."""
        await self.migrate()
        if self.backend == "sqlite" and self._checkpointer is None:
            self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="sqlite-checkpoint")

    async def _checkpoint_loop(self) -> None:
        # The search index (FTS5) merges its segments here, off the sends: left to itself it
        # merged inside an insert now and then (send p99 12 ms at a million messages, p50 0.8).
        # Inserts no longer merge unless a level piles up 64 segments (a last resort).
        tuned = False
        while True:
            await asyncio.sleep(_CHECKPOINT_EVERY)
            try:
                if not tuned:
                    await self.run_write(_fts_settings)
                    tuned = True
                await self.run_write(_fts_merge_step)
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # noqa: BLE001 - keep checkpointing; the autocheckpoint is the net
                log.exception("background WAL checkpoint failed")

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None
        if self.backend == "postgresql":
            await self.direct.close()
        if self.writer is not self.engine:
            await self.writer.dispose()
            for threads in (self._write_thread, self._read_threads):
                threads.shutdown(wait=True)
            self._sync_writer.dispose()
            self._sync_reader.dispose()
        await self.engine.dispose()


class SqlStore:
    """The three repositories over one database."""

    def __init__(self, db: SqlDatabase):
        self.db = db
        self.backend = db.backend
        self.users = SqlUserRepo(db)
        self.chats = SqlChatRepo(db)
        self.messages = SqlMessageRepo(db)
        self.push = SqlPushRepo(db)

    async def close(self) -> None:
        await self.db.close()


async def _member_ids(session: AsyncSession, chat_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    rows = await session.exec(
        select(MemberRow.chat_id, MemberRow.user_id)
        .where(col(MemberRow.chat_id).in_(chat_ids))
        .order_by(MemberRow.joined_at, MemberRow.user_id)
    )
    found: dict[str, list[str]] = defaultdict(list)
    for chat_id, user_id in rows:
        found[chat_id].append(user_id)
    return {chat_id: tuple(found[chat_id]) for chat_id in chat_ids}


def _like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (escape character `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@_outages
class SqlUserRepo:
    def __init__(self, db: SqlDatabase):
        self._db = db

    async def get(self, user_id: str) -> User | None:
        async with self._db.reads() as session:
            row = await session.get(UserRow, user_id)
            return to_user(row) if row else None

    async def get_many(self, user_ids: Sequence[str]) -> list[User]:
        if not user_ids:
            return []
        async with self._db.reads() as session:
            rows = await session.exec(select(UserRow).where(col(UserRow.id).in_(set(user_ids))))
            return [to_user(row) for row in rows]

    async def get_by_email(self, email: str) -> User | None:
        async with self._db.reads() as session:
            row = (await session.exec(select(UserRow).where(UserRow.email == email))).first()
            return to_user(row) if row else None

    async def get_or_create(self, email: str, name: str) -> User:
        existing = await self.get_by_email(email)
        if existing:
            return existing
        row = UserRow(id=_new_id(), email=email, name=name, created_at=_now())
        try:
            async with self._db.session() as session, session.begin():
                session.add(row)
        except IntegrityError:
            # Another request created the same email first; the unique index decided.
            winner = await self.get_by_email(email)
            if winner is None:
                raise
            return winner
        return to_user(row)

    async def update_name(self, user_id: str, name: str) -> User | None:
        async with self._db.session() as session, session.begin():
            row = await session.get(UserRow, user_id)
            if row is None:
                return None
            row.name = name
        return to_user(row)

    async def bump_token_version(self, user_id: str) -> User | None:
        table = UserRow.__table__
        async with self._db.session() as session, session.begin():
            await session.exec(
                update(table).where(table.c.id == user_id).values(token_version=table.c.token_version + 1)
            )
        return await self.get(user_id)

    async def search(
        self, query: str, limit: int, offset: int = 0, exclude_id: str | None = None
    ) -> list[User]:
        wanted = people_query(query)
        if wanted.empty:
            return []
        lower = func.unicode_lower if self._db.backend == "sqlite" else func.lower  # _sqlite_pragmas
        if wanted.email:
            # Stored addresses are normalized (lower-case): the unique index answers.
            found = select(UserRow).where(UserRow.email == wanted.email)
        else:
            # Each word starts the name or follows a space in it.
            name = lower(UserRow.name)
            found = select(UserRow).where(
                *(
                    or_(name.like(f"{_like(w)}%", escape="\\"), name.like(f"% {_like(w)}%", escape="\\"))
                    for w in wanted.words
                )
            )
        if exclude_id:
            # The one searching, and whoever blocked them, are not found.
            blockers = select(BlockRow.blocker_id).where(BlockRow.blocked_id == exclude_id)
            found = found.where(UserRow.id != exclude_id, col(UserRow.id).not_in(blockers))
        found = found.order_by(lower(UserRow.name), UserRow.id).offset(offset).limit(limit)
        async with self._db.reads() as session:
            return [to_user(row) for row in await session.exec(found)]

    async def block(self, blocker_id: str, blocked_id: str, at: datetime) -> bool:
        try:
            async with self._db.session() as session, session.begin():
                if await session.get(BlockRow, (blocker_id, blocked_id)) is not None:
                    return False
                session.add(BlockRow(blocker_id=blocker_id, blocked_id=blocked_id, created_at=at))
        except IntegrityError:
            return False  # blocked concurrently: the primary key decided
        return True

    async def unblock(self, blocker_id: str, blocked_id: str) -> bool:
        async with self._db.session() as session, session.begin():
            row = await session.get(BlockRow, (blocker_id, blocked_id))
            if row is None:
                return False
            await session.delete(row)
        return True

    async def blocked(self, blocker_id: str) -> list[User]:
        query = (
            select(UserRow)
            .join(BlockRow, col(BlockRow.blocked_id) == col(UserRow.id))
            .where(BlockRow.blocker_id == blocker_id)
            .order_by(col(BlockRow.created_at).desc(), UserRow.id)
        )
        async with self._db.reads() as session:
            return [to_user(row) for row in await session.exec(query)]

    async def blockers_among(self, user_ids: Sequence[str], blocked_id: str) -> set[str]:
        if not user_ids:
            return set()
        query = select(BlockRow.blocker_id).where(
            BlockRow.blocked_id == blocked_id, col(BlockRow.blocker_id).in_(set(user_ids))
        )
        async with self._db.reads() as session:
            return set(await session.exec(query))

    async def delete(self, user_id: str) -> None:
        blocks = BlockRow.__table__
        async with self._db.session() as session, session.begin():
            row = await session.get(UserRow, user_id)
            if row is not None:
                await session.delete(row)
            gone = blocks.delete().where(or_(blocks.c.blocker_id == user_id, blocks.c.blocked_id == user_id))
            await (await session.connection()).execute(gone)


@_outages
class SqlChatRepo:
    def __init__(self, db: SqlDatabase):
        self._db = db

    async def _member_ids(self, session: AsyncSession, chat_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        return await _member_ids(session, chat_ids)

    async def get(self, chat_id: str) -> Chat | None:
        async with self._db.reads() as session:
            row = await session.get(ChatRow, chat_id)
            if row is None:
                return None
            return to_chat(row, (await self._member_ids(session, [chat_id]))[chat_id])

    async def _create(self, kind: str, title: str | None, creator_id: str, member_ids, key=None) -> Chat:
        now = _now()
        chat = ChatRow(
            id=_new_id(),
            kind=kind,
            title=title,
            direct_key=key,
            created_by=creator_id,
            created_at=now,
            updated_at=now,
        )
        members = tuple(dict.fromkeys([creator_id, *member_ids]))
        async with self._db.session() as session, session.begin():
            session.add(chat)
            await session.flush()
            session.add_all(MemberRow(chat_id=chat.id, user_id=u, joined_at=now) for u in members)
        return to_chat(chat, members)

    async def find_direct(self, user_a: str, user_b: str) -> Chat | None:
        key = direct_key(user_a, user_b)
        async with self._db.reads() as session:
            row = (await session.exec(select(ChatRow).where(ChatRow.direct_key == key))).first()
            return to_chat(row, (await self._member_ids(session, [row.id]))[row.id]) if row else None

    async def get_or_create_direct(self, user_a: str, user_b: str) -> Chat:
        key = direct_key(user_a, user_b)
        for _ in range(3):
            async with self._db.reads() as session:
                row = (await session.exec(select(ChatRow).where(ChatRow.direct_key == key))).first()
                if row is not None:
                    return to_chat(row, (await self._member_ids(session, [row.id]))[row.id])
            try:
                return await self._create("direct", None, user_a, [user_b], key)
            except IntegrityError:
                continue  # created concurrently: the unique key decided, read the winner
        raise NotFound("The conversation could not be opened; try again.")

    async def create_group(self, creator_id: str, title: str, member_ids: Sequence[str]) -> Chat:
        return await self._create("group", title, creator_id, member_ids)

    async def add_members(self, chat_id: str, user_ids: Sequence[str]) -> Chat | None:
        now = _now()
        async with self._db.session() as session, session.begin():
            chat = await session.get(ChatRow, chat_id)
            if chat is None:
                return None
            present = set((await self._member_ids(session, [chat_id]))[chat_id])
            # A newcomer starts with everything so far read: no backlog of unread.
            session.add_all(
                MemberRow(chat_id=chat_id, user_id=u, last_read_seq=chat.last_seq, joined_at=now)
                for u in dict.fromkeys(user_ids)
                if u not in present
            )
        return await self.get(chat_id)

    async def remove_member(self, chat_id: str, user_id: str) -> Chat | None:
        async with self._db.session() as session, session.begin():
            row = await session.get(MemberRow, (chat_id, user_id))
            if row is not None:
                await session.delete(row)
            chat = await session.get(ChatRow, chat_id)
            if chat is not None and chat.created_by == user_id:
                # The creator left: the group passes to the longest-standing member.
                heir = (
                    await session.exec(
                        select(MemberRow.user_id)
                        .where(MemberRow.chat_id == chat_id, MemberRow.user_id != user_id)
                        .order_by(MemberRow.joined_at, MemberRow.user_id)
                        .limit(1)
                    )
                ).first()
                if heir is not None:
                    chat.created_by = heir
        return await self.get(chat_id)

    async def rename_group(self, chat_id: str, title: str) -> Chat | None:
        async with self._db.session() as session, session.begin():
            chat = await session.get(ChatRow, chat_id)
            if chat is None or chat.kind != "group":
                return None
            chat.title = title
        return await self.get(chat_id)

    async def member(self, chat_id: str, user_id: str) -> Member | None:
        async with self._db.reads() as session:
            row = await session.get(MemberRow, (chat_id, user_id))
            return to_member(row) if row else None

    async def members(self, chat_id: str) -> list[Member]:
        async with self._db.reads() as session:
            return await self._members(session, chat_id)

    @staticmethod
    async def _members(session: AsyncSession, chat_id: str) -> list[Member]:
        rows = await session.exec(
            select(MemberRow)
            .where(MemberRow.chat_id == chat_id)
            .order_by(MemberRow.joined_at, MemberRow.user_id)
        )
        return [to_member(row) for row in rows]

    async def membership(self, chat_id: str, user_id: str) -> tuple[Chat, list[Member]] | None:
        # One connection, two queries (the hot path of every send, read and typing signal).
        async with self._db.reads() as session:
            members = await self._members(session, chat_id)
            if not any(m.user_id == user_id for m in members):
                return None
            row = await session.get(ChatRow, chat_id)
            return (to_chat(row, tuple(m.user_id for m in members)), members) if row else None

    async def list_for_user(
        self, user_id: str, limit: int = 50, older_than: ChatKey | None = None
    ) -> list[ChatView]:
        query = (
            select(ChatRow, MemberRow)
            .join(MemberRow, col(MemberRow.chat_id) == col(ChatRow.id))
            .where(MemberRow.user_id == user_id)
        )
        if older_than is not None:
            at, chat_id = older_than
            query = query.where(
                or_(
                    col(ChatRow.updated_at) < at,
                    and_(col(ChatRow.updated_at) == at, col(ChatRow.id) < chat_id),
                )
            )
        query = query.order_by(col(ChatRow.updated_at).desc(), col(ChatRow.id).desc()).limit(limit)
        async with self._db.reads() as session:
            rows = (await session.exec(query)).all()
            member_ids = await self._member_ids(session, [chat.id for chat, _ in rows])
        return [ChatView(to_chat(chat, member_ids[chat.id]), to_member(me)) for chat, me in rows]

    async def listing(self, user_id: str, limit: int, older_than: ChatKey | None = None) -> ChatListing:
        if self._db.backend == "postgresql":
            # One statement, one round trip (chat_web/adapters/storage/pg_reads.py).
            statement = pg_reads.LISTING if older_than is None else pg_reads.LISTING_OLDER
            rows = await self._db.direct.fetch(
                statement, *pg_reads.listing_params(user_id, limit, older_than)
            )
            return pg_reads.listing_of(rows)
        # SQLite: on the driver's connection, in a reader thread (sqlite_reads.py).
        return await self._db.run_read(
            lambda conn: sqlite_reads.listing(conn.connection.driver_connection, user_id, limit, older_than)
        )

    async def mark_read(self, chat_id: str, user_id: str, seq: int) -> Member | None:
        # One UPDATE: the cursor only moves forward and never past the chat's last seq.
        cap = select(ChatRow.last_seq).where(ChatRow.id == chat_id).scalar_subquery()
        target = case((cap < seq, cap), else_=seq)
        async with self._db.session() as session, session.begin():
            await session.exec(
                update(MemberRow)
                .where(col(MemberRow.chat_id) == chat_id, col(MemberRow.user_id) == user_id)
                .where(col(MemberRow.last_read_seq) < target)
                .values(last_read_seq=target)
            )
        return await self.member(chat_id, user_id)

    async def read_up_to(self, chat_id: str, user_id: str, seq: int, at: datetime) -> ReadMove | None:
        return await self._db.run_write(lambda conn: _read_up_to_tx(conn, chat_id, user_id, seq, at))

    async def presence_contacts(
        self, user_id: str, among: Sequence[str] | None = None, limit: int = 1000
    ) -> set[str]:
        if among is not None and not among:
            return set()
        query, values = _CONTACTS_OF, {"user": user_id, "limit": limit}
        if among is not None:
            query, values = _CONTACTS_AMONG, {**values, "among": list(set(among))}
        async with self._db.read() as conn:
            return {row.user_id for row in await conn.execute(query, values)}

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> Member | None:
        async with self._db.session() as session, session.begin():
            await session.exec(
                update(MemberRow)
                .where(col(MemberRow.chat_id) == chat_id, col(MemberRow.user_id) == user_id)
                .values(muted=muted)
            )
        return await self.member(chat_id, user_id)

    async def unread_total(self, user_id: str, excluding: Sequence[str] = ()) -> int:
        unread = col(ChatRow.last_seq) - col(MemberRow.last_read_seq)
        query = (
            select(func.coalesce(func.sum(unread), 0))
            .select_from(MemberRow)
            .join(ChatRow, col(ChatRow.id) == col(MemberRow.chat_id))
            .where(MemberRow.user_id == user_id, col(MemberRow.muted).is_(False), unread > 0)
        )
        if excluding:
            query = query.where(col(MemberRow.chat_id).not_in(list(excluding)))
        async with self._db.reads() as session:
            return int((await session.exec(query)).one())


class _Deleted(Exception):
    """The message was deleted (or its chat) while we changed it."""


# What a tombstone or an edit changes that the preview depends on.
_MESSAGE_FIELDS = {"text", "deleted"}
# What a deleted message keeps: its place (seq), sender, times; none of its content.
_TOMBSTONE = {
    "text": "",
    "deleted": True,
    "mentions": "",
    "reactions": "",
    "image_url": None,
    "image_public_id": None,
    "image_width": None,
    "image_height": None,
    "attachment": None,
}

# The send path's statements, built once: building them per call cost more than running them.
_NEXT_SEQ = (
    update(ChatRow.__table__)
    .where(ChatRow.__table__.c.id == bindparam("b_chat"))
    .values(
        last_seq=ChatRow.__table__.c.last_seq + 1,
        updated_at=bindparam("b_now"),
        preview=bindparam("b_preview"),
        preview_sender_id=bindparam("b_sender"),
    )
    .returning(ChatRow.__table__.c.last_seq)
)
_INSERT_MESSAGE = insert(MessageRow.__table__)
_SENDER_READ = (
    update(MemberRow.__table__)
    .where(
        MemberRow.__table__.c.chat_id == bindparam("b_chat"),
        MemberRow.__table__.c.user_id == bindparam("b_user"),
    )
    # The same statement notes that the sender has sent here (presence by exchange).
    .values(last_read_seq=bindparam("b_seq"), has_sent=True)
)


_MEMBERS, _MESSAGES = MemberRow.__table__, MessageRow.__table__
# Who is in the chat (with read cursors), the chat's kind, whether this sender already
# stored this client id, and which members blocked the sender: the checks of a send, in one
# statement.
_SEND_CONTEXT = text(sqlite_send.CONTEXT)  # plain SQL both dialects run: written once, there
# Every write in a chat takes the chat's row first (a send by bumping its seq, an edit its
# change count, a read here): writes to one chat queue in one order, so they cannot deadlock
# over the message rows their seen stamps touch. (SQLite has one writer; it has no FOR UPDATE.)
_READ_CONTEXT = (
    select(_MEMBERS, ChatRow.__table__.c.last_seq.label("chat_last_seq"))
    .join(ChatRow.__table__, ChatRow.__table__.c.id == _MEMBERS.c.chat_id)
    .where(_MEMBERS.c.chat_id == bindparam("chat"))
    .order_by(_MEMBERS.c.joined_at, _MEMBERS.c.user_id)
    .with_for_update(of=ChatRow.__table__)
)
_MOVE_CURSOR = (
    update(_MEMBERS)
    .where(
        _MEMBERS.c.chat_id == bindparam("b_chat"),
        _MEMBERS.c.user_id == bindparam("b_user"),
        _MEMBERS.c.last_read_seq < bindparam("b_seq"),
    )
    .values(last_read_seq=bindparam("b_seq"))
)
# Everything up to the lowest read cursor is read by all; the floor is read in the same
# statement, so a cursor moved by a concurrent read is counted.
_STAMP_SEEN = (
    update(_MESSAGES)
    .where(
        _MESSAGES.c.chat_id == bindparam("b_chat"),
        _MESSAGES.c.seq > bindparam("b_from"),
        _MESSAGES.c.seq
        <= select(func.min(_MEMBERS.c.last_read_seq))
        .where(_MEMBERS.c.chat_id == bindparam("b_chat"))
        .scalar_subquery(),
        _MESSAGES.c.seen_at.is_(None),
    )
    .values(seen_at=bindparam("b_at"))
)
_LOCK_CHAT = (
    select(ChatRow.__table__.c.id).where(ChatRow.__table__.c.id == bindparam("chat")).with_for_update()
)
_MARK_MENTIONED = (
    update(_MEMBERS)
    .where(
        _MEMBERS.c.chat_id == bindparam("b_chat"),
        _MEMBERS.c.user_id.in_(bindparam("b_users", expanding=True)),
    )
    .values(mention_seq=bindparam("b_seq"))
)
_BY_ID = select(_MESSAGES).where(_MESSAGES.c.id == bindparam("b_id"))
_BY_SEQ = select(_MESSAGES).where(
    _MESSAGES.c.chat_id == bindparam("b_chat"), _MESSAGES.c.seq == bindparam("b_seq")
)
_BY_CLIENT_ID = select(_MESSAGES).where(
    _MESSAGES.c.chat_id == bindparam("b_chat"),
    _MESSAGES.c.client_id == bindparam("b_client"),
    _MESSAGES.c.sender_id == bindparam("b_sender"),
)
_MEMBER_IDS = (
    select(_MEMBERS.c.chat_id, _MEMBERS.c.user_id)
    .where(_MEMBERS.c.chat_id.in_(bindparam("b_chats", expanding=True)))
    .order_by(_MEMBERS.c.joined_at, _MEMBERS.c.user_id)
)
# Rows a send is writing now (its seen stamp) are skipped, not waited for: the relay never
# holds a message row while it waits for another, so it cannot deadlock with a send; what it
# skipped it marks on its next round.
_MARK_ANNOUNCED = (
    update(_MESSAGES)
    .where(
        _MESSAGES.c.id.in_(
            select(_MESSAGES.c.id)
            .where(_MESSAGES.c.id.in_(bindparam("b_ids", expanding=True)))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(announced=True)
    .returning(_MESSAGES.c.id)
)
_UNANNOUNCED = (
    select(_MESSAGES)
    .where(_MESSAGES.c.announced.is_(False), _MESSAGES.c.created_at < bindparam("b_before"))
    .order_by(_MESSAGES.c.created_at)
    .limit(bindparam("b_limit"))
)


_USERS, _CHATS = UserRow.__table__, ChatRow.__table__
_USER_FIELDS = [c.label(f"u_{c.name}") for c in _USERS.c]
_CHAT_FIELDS = [c.label(f"c_{c.name}") for c in _CHATS.c]
# A chat, its members with their read cursors and their users, in one statement.
_WINDOW_CONTEXT = (
    select(_MEMBERS, *_USER_FIELDS, *_CHAT_FIELDS)
    .join(_CHATS, _CHATS.c.id == _MEMBERS.c.chat_id)
    .outerjoin(_USERS, _USERS.c.id == _MEMBERS.c.user_id)
    .where(_MEMBERS.c.chat_id == bindparam("chat"))
    .order_by(_MEMBERS.c.joined_at, _MEMBERS.c.user_id)
)
_WINDOW_CONTEXT_TO_READ = _WINDOW_CONTEXT.with_for_update(of=_CHATS)  # it may read: the chat first
_PAGE_BEFORE = (
    select(_MESSAGES)
    .where(_MESSAGES.c.chat_id == bindparam("b_chat"), _MESSAGES.c.seq < bindparam("b_seq"))
    .order_by(_MESSAGES.c.seq.desc())
    .limit(bindparam("b_limit"))
)
_PAGE_LATEST = (
    select(_MESSAGES)
    .where(_MESSAGES.c.chat_id == bindparam("b_chat"))
    .order_by(_MESSAGES.c.seq.desc())
    .limit(bindparam("b_limit"))
)
_PAGE_AFTER = (
    select(_MESSAGES)
    .where(_MESSAGES.c.chat_id == bindparam("b_chat"), _MESSAGES.c.seq > bindparam("b_seq"))
    .order_by(_MESSAGES.c.seq)
    .limit(bindparam("b_limit"))
)
_BY_SEQS = select(_MESSAGES).where(
    _MESSAGES.c.chat_id == bindparam("b_chat"), _MESSAGES.c.seq.in_(bindparam("b_seqs", expanding=True))
)
_CHANGED_AFTER = (
    select(_MESSAGES)
    .where(_MESSAGES.c.chat_id == bindparam("b_chat"), _MESSAGES.c.change > bindparam("b_change"))
    .order_by(_MESSAGES.c.change)
    .limit(bindparam("b_limit"))
)
_NAMES = select(_USERS.c.id, _USERS.c.name).where(_USERS.c.id.in_(bindparam("b_users", expanding=True)))

# Whom `user` shares presence with: the members of their groups, and the other member of
# each direct chat where both have sent a message; never across a block, either way. Most
# recently active chats first, so a cut keeps the people of the latest chats.
_PRESENCE_CONTACTS = """
    SELECT o.user_id FROM members AS me
    JOIN chats AS c ON c.id = me.chat_id
    JOIN members AS o ON o.chat_id = me.chat_id AND o.user_id <> me.user_id
    WHERE me.user_id = :user
      AND (c.kind = 'group' OR (me.has_sent AND o.has_sent))
      AND NOT EXISTS (SELECT 1 FROM blocks AS b
                      WHERE (b.blocker_id = :user AND b.blocked_id = o.user_id)
                         OR (b.blocker_id = o.user_id AND b.blocked_id = :user))
      {among}
    GROUP BY o.user_id
    ORDER BY MAX(c.updated_at) DESC
    LIMIT :limit
"""
_CONTACTS_OF = text(_PRESENCE_CONTACTS.format(among=""))
_CONTACTS_AMONG = text(_PRESENCE_CONTACTS.format(among="AND o.user_id IN :among")).bindparams(
    bindparam("among", expanding=True)
)
_BLOCKS = BlockRow.__table__


def _prefixed(row, prefix: str) -> dict:
    return {key[len(prefix) :]: value for key, value in row._mapping.items() if key.startswith(prefix)}


def _row_user(row) -> User | None:
    fields = _prefixed(row, "u_")
    return to_user(SimpleNamespace(**fields)) if fields.get("id") else None


def _quoted(conn: Connection, chat_id: str, messages: list[Message]) -> list[Message]:
    """Attach each reply's quote, reading the answered messages not in hand in one statement."""
    return with_quotes(
        messages,
        lambda seqs: [
            _row_message(row) for row in conn.execute(_BY_SEQS, {"b_chat": chat_id, "b_seqs": seqs})
        ],
    )


def _message_row(message: NewMessage, seq: int, now: datetime) -> dict:
    """A new message's columns, as inserted (a plain dict: no model instance on the hot path)."""
    image = message.image
    return {
        "id": _new_id(),
        "chat_id": message.chat_id,
        "seq": seq,
        "sender_id": message.sender_id,
        "kind": message.kind,
        "text": message.text,
        "image_url": image.url if image else None,
        "image_public_id": image.public_id if image else None,
        "image_width": image.width if image else None,
        "image_height": image.height if image else None,
        "client_id": message.client_id,
        "created_at": now,
        "edited_at": None,
        "deleted": False,
        "seen_at": None,
        "change": 0,
        "reply_to": message.reply_to,
        "reactions": "",
        "mentions": " ".join(message.mention_ids),
        "attachment": attachment_to_json(message),
    }


def _row_message(row) -> Message:
    # Straight from the driver's row (attribute access by column name): building a SQLModel
    # instance per row cost more than the query (0.35 ms a row, measured).
    return to_message(row)


def _with_quote(conn: Connection, message: Message) -> Message:
    return _quoted(conn, message.chat_id, [message])[0]


def _send_tx(conn: Connection, message: NewMessage, mentions: MentionFinder | None, now: datetime) -> Sent:
    """The send use case (MessageRepo.send) in `conn`'s write transaction."""
    chat_id, sender = message.chat_id, message.sender_id
    context = conn.execute(
        _SEND_CONTEXT, {"chat": chat_id, "client": message.client_id, "sender": sender}
    ).all()
    member_ids = tuple(row.user_id for row in context)
    if context and context[0].stored_id is not None:  # a retry: idempotency before every check
        stored = _row_message(conn.execute(_BY_ID, {"b_id": context[0].stored_id}).one())
        return Sent(_with_quote(conn, stored), False, member_ids, False)
    me = next((row for row in context if row.user_id == sender), None)
    if me is None:
        raise Forbidden(NOT_A_MEMBER)
    if any(row.gone for row in context):
        raise Forbidden(ACCOUNT_GONE)
    if context[0].kind == "direct" and any(row.blocks_sender for row in context):
        raise Forbidden(BLOCKED)
    quote = None
    if message.reply_to:
        original = conn.execute(_BY_SEQ, {"b_chat": chat_id, "b_seq": message.reply_to}).first()
        if original is None:
            raise NotFound(REPLY_MISSING)
        if original.deleted:
            raise Conflict(REPLY_DELETED)
        quote = quote_of(_row_message(original))
    if mentions is not None and context[0].kind == "group":
        people = conn.execute(_NAMES, {"b_users": list(member_ids)})
        message = replace(message, mention_ids=mentions([(row.id, row.name) for row in people]))
    next_seq = {"b_chat": chat_id, "b_now": now, "b_preview": preview_of(message), "b_sender": sender}
    seq = conn.execute(_NEXT_SEQ, next_seq).scalar_one()
    row = _message_row(message, seq, now)
    conn.execute(_INSERT_MESSAGE, {**row, "announced": False})
    conn.execute(_SENDER_READ, {"b_chat": chat_id, "b_user": sender, "b_seq": seq})
    if me.last_read_seq < seq - 1:  # answering reads what came before: "seen" may complete
        cursors = {member.user_id: member.last_read_seq for member in context}
        _stamp_seen_tx(conn, chat_id, cursors, sender, me.last_read_seq, seq, now)
    if message.mention_ids:
        conn.execute(_MARK_MENTIONED, {"b_chat": chat_id, "b_users": list(message.mention_ids), "b_seq": seq})
    others_sent = all(member.has_sent for member in context if member.user_id != sender)
    opened = context[0].kind == "direct" and not me.has_sent and others_sent
    return Sent(replace(to_message(SimpleNamespace(**row)), quote=quote), True, member_ids, False, opened)


def _restamp_tx(conn: Connection, chat_id: str, after_seq: int, at: datetime) -> None:
    """Stamp seen_at on what every member has read above `after_seq`, the chat's lock taken
    first (a one-statement send that could not see a message stored while it waited)."""
    conn.execute(_LOCK_CHAT, {"chat": chat_id})
    conn.execute(_STAMP_SEEN, {"b_chat": chat_id, "b_from": after_seq, "b_at": at})


def _window_tx(
    conn: Connection,
    chat_id: str,
    user_id: str,
    limit: int,
    before_seq: int | None,
    after_seq: int | None,
    read_latest: bool,
    changed_after: int | None,
    changes_max: int,
    at: datetime | None,
) -> Window | None:
    """The history use case (MessageRepo.window) on `conn`."""
    rows = conn.execute(_WINDOW_CONTEXT_TO_READ if read_latest else _WINDOW_CONTEXT, {"chat": chat_id}).all()
    mine = next((row for row in rows if row.user_id == user_id), None)
    if mine is None:
        return None
    chat = to_chat(SimpleNamespace(**_prefixed(rows[0], "c_")), tuple(row.user_id for row in rows))
    members = [to_member(row) for row in rows]
    read = None
    if read_latest and mine.last_read_seq < chat.last_seq:
        read = _read_latest_tx(conn, chat, members, user_id, at or _now())
        members = [read.member if m.user_id == user_id else m for m in members]
    if after_seq is not None:
        found = conn.execute(_PAGE_AFTER, {"b_chat": chat_id, "b_seq": after_seq, "b_limit": limit})
        page = [_row_message(row) for row in found]
    else:
        latest = before_seq is None
        found = conn.execute(
            _PAGE_LATEST if latest else _PAGE_BEFORE,
            {"b_chat": chat_id, "b_seq": before_seq, "b_limit": limit},
        )
        page = [_row_message(row) for row in reversed(found.all())]
    changes = []
    if changed_after is not None and changed_after < chat.last_change:
        found = conn.execute(
            _CHANGED_AFTER, {"b_chat": chat_id, "b_change": changed_after, "b_limit": changes_max}
        )
        changes = [_row_message(row) for row in found]
    quoted = _quoted(conn, chat_id, [*page, *changes])
    people = {user.id: user for row in rows if (user := _row_user(row)) is not None}
    return Window(chat, members, people, quoted[: len(page)], quoted[len(page) :], read)


def _read_latest_tx(
    conn: Connection, chat: Chat, members: list[Member], user_id: str, at: datetime
) -> ReadMove:
    """My cursor to the chat's last seq, and seen_at on what that completes (in `conn`'s transaction)."""
    before = next(m for m in members if m.user_id == user_id)
    conn.execute(_MOVE_CURSOR, {"b_chat": chat.id, "b_user": user_id, "b_seq": chat.last_seq})
    cursors = {m.user_id: m.last_read_seq for m in members}
    _stamp_seen_tx(conn, chat.id, cursors, user_id, before.last_read_seq, chat.last_seq, at)
    after = replace(before, last_read_seq=chat.last_seq)
    return ReadMove(before.last_read_seq, chat.last_seq, after, chat.member_ids)


def _find_sent_tx(conn: Connection, chat_id: str, sender_id: str, client_id: str) -> Sent | None:
    found = conn.execute(
        _BY_CLIENT_ID, {"b_chat": chat_id, "b_client": client_id, "b_sender": sender_id}
    ).first()
    if found is None:
        return None
    members = conn.execute(_MEMBER_IDS, {"b_chats": [chat_id]}).all()
    message = _with_quote(conn, _row_message(found))
    return Sent(message, False, tuple(m.user_id for m in members), found.announced)


def _unannounced_tx(conn: Connection, stored_before: datetime, limit: int) -> list[Sent]:
    rows = conn.execute(_UNANNOUNCED, {"b_before": stored_before, "b_limit": limit}).all()
    if not rows:
        return []
    members: dict[str, list[str]] = defaultdict(list)
    for chat_id, user_id in conn.execute(_MEMBER_IDS, {"b_chats": list({r.chat_id for r in rows})}):
        members[chat_id].append(user_id)
    return [
        Sent(_with_quote(conn, _row_message(row)), True, tuple(members[row.chat_id]), False) for row in rows
    ]


def _stamp_seen_tx(
    conn: Connection,
    chat_id: str,
    cursors: dict[str, int],
    reader: str,
    before: int,
    after: int,
    at: datetime,
) -> None:
    """`reader`'s cursor moved from `before` to `after`: stamp seen_at on what all have now read."""
    if (stamp := seen_range(cursors, reader, before, after)) is not None:
        conn.execute(_STAMP_SEEN, {"b_chat": chat_id, "b_from": stamp[0], "b_at": at})


def _read_up_to_tx(conn: Connection, chat_id: str, user_id: str, seq: int, at: datetime) -> ReadMove | None:
    """The read use case (ChatRepo.read_up_to) in `conn`'s write transaction."""
    rows = conn.execute(_READ_CONTEXT, {"chat": chat_id}).all()
    mine = next((row for row in rows if row.user_id == user_id), None)
    if mine is None:
        return None
    before = mine.last_read_seq
    after = max(before, min(seq, mine.chat_last_seq))
    if after > before:
        conn.execute(_MOVE_CURSOR, {"b_chat": chat_id, "b_user": user_id, "b_seq": after})
        cursors = {row.user_id: row.last_read_seq for row in rows}
        _stamp_seen_tx(conn, chat_id, cursors, user_id, before, after, at)
    member = Member(chat_id, user_id, after, utc(mine.joined_at), bool(mine.muted), mine.mention_seq)
    return ReadMove(before, after, member, tuple(row.user_id for row in rows))


@_outages
class SqlMessageRepo:
    def __init__(self, db: SqlDatabase):
        self._db = db
        self._shares: dict[str, float] = {}  # PostgreSQL: the commonest words' share of messages
        self._shares_at = -_WORD_STATS_TTL

    async def _word_shares(self, session: AsyncSession) -> dict[str, float]:
        """What ANALYZE (autovacuum) last counted of the commonest words, re-read every 5 min."""
        now = time.monotonic()
        if now - self._shares_at >= _WORD_STATS_TTL:
            row = (await session.exec(_WORD_STATS)).first()
            self._shares = dict(zip(row.words, row.shares, strict=False)) if row and row.words else {}
            self._shares_at = now
        return self._shares

    async def send(self, message: NewMessage, mentions: MentionFinder | None = None) -> Sent:
        try:
            return await self._send(message, mentions)
        except (IntegrityError, asyncpg.IntegrityConstraintViolationError, sqlite3.IntegrityError):
            # A concurrent retry of this client id stored first (the unique index decided;
            # the rollback undid our seq).
            if message.client_id:
                stored = await self.find_sent(message.chat_id, message.sender_id, message.client_id)
                if stored is not None:
                    return stored
            raise

    async def _send(self, message: NewMessage, mentions: MentionFinder | None) -> Sent:
        if self._db.backend == "postgresql" and not message.mention_ids:
            # One round trip instead of five to seven (chat_web/adapters/storage/pg_send.py).
            sent_params = pg_send.params(message, mentions is not None, _now())
            found = await self._db.direct.fetchrow(pg_send.SEND, *sent_params)
            done = pg_send.outcome(found, sent_params)
            if done.raced:
                await self._db.run_write(
                    lambda conn: _restamp_tx(
                        conn, message.chat_id, done.stamp_from, done.sent.message.created_at
                    )
                )
            if done.sent is not None:
                return done.sent
        if self._db.backend == "sqlite":
            # On the driver's connection (sqlite_send.py), in the writer thread's transaction
            # with the other sends waiting (sqlite_batch.py).
            return await self._db.send_batches.run(
                lambda conn: sqlite_send.send(conn.connection.driver_connection, message, mentions, _now())
            )
        return await self._db.run_write(lambda conn: _send_tx(conn, message, mentions, _now()))

    async def window(
        self,
        chat_id: str,
        user_id: str,
        *,
        limit: int,
        before_seq: int | None = None,
        after_seq: int | None = None,
        read_latest: bool = False,
        changed_after: int | None = None,
        changes_max: int = 0,
        at: datetime | None = None,
    ) -> Window | None:
        def use_case(conn: Connection) -> Window | None:
            return _window_tx(
                conn,
                chat_id,
                user_id,
                limit,
                before_seq,
                after_seq,
                read_latest,
                changed_after,
                changes_max,
                at,
            )

        if self._db.backend == "postgresql" and not read_latest:
            # One statement, one round trip (chat_web/adapters/storage/pg_reads.py).
            statement, bound = pg_reads.window_query(before_seq, after_seq)
            rows = await self._db.direct.fetch(
                statement, chat_id, user_id, bound, limit, changed_after, changes_max
            )
            return pg_reads.window_of(rows, user_id)
        if self._db.backend == "sqlite" and not read_latest:
            # On the driver's connection, in a reader thread (sqlite_reads.py).
            return await self._db.run_read(
                lambda conn: sqlite_reads.window(
                    conn.connection.driver_connection,
                    chat_id,
                    user_id,
                    limit,
                    before_seq,
                    after_seq,
                    changed_after,
                    changes_max,
                )
            )
        # Opening the latest page may read the chat: then it runs as the writer.
        return await (self._db.run_write if read_latest else self._db.run_read)(use_case)

    async def find_sent(self, chat_id: str, sender_id: str, client_id: str) -> Sent | None:
        return await self._db.run_read(lambda conn: _find_sent_tx(conn, chat_id, sender_id, client_id))

    async def mark_announced(self, message_ids: Sequence[str]) -> list[str]:
        if not message_ids:
            return []
        ids = list(message_ids)
        marked = await self._db.run_write(
            lambda conn: set(conn.execute(_MARK_ANNOUNCED, {"b_ids": ids}).scalars())
        )
        return [i for i in ids if i not in marked]

    async def unannounced(self, stored_before: datetime, limit: int) -> list[Sent]:
        return await self._db.run_read(lambda conn: _unannounced_tx(conn, stored_before, limit))

    async def _by_client_id(self, message: NewMessage) -> Message | None:
        found = await self.find_sent(message.chat_id, message.sender_id, message.client_id or "")
        return found.message if found else None

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        now = _now()
        row = _message_row(message, 0, now)
        try:
            async with self._db.write() as conn:
                # Incrementing the chat row first locks it: appends to one chat queue up
                # here, and a rollback also undoes the seq, so seqs have no gaps.
                seq = (
                    await conn.execute(
                        _NEXT_SEQ,
                        {
                            "b_chat": message.chat_id,
                            "b_now": now,
                            "b_preview": preview_of(message),
                            "b_sender": message.sender_id,
                        },
                    )
                ).scalar_one_or_none()
                if seq is None:
                    raise NotFound("That conversation does not exist.")
                row["seq"] = seq
                # Not named: the column's server default (announced) applies; seeding needs no relay.
                await conn.execute(_INSERT_MESSAGE, row)
                await conn.execute(
                    _SENDER_READ, {"b_chat": message.chat_id, "b_user": message.sender_id, "b_seq": seq}
                )
                if message.mention_ids:
                    await conn.execute(
                        update(MemberRow.__table__)
                        .where(
                            MemberRow.__table__.c.chat_id == message.chat_id,
                            MemberRow.__table__.c.user_id.in_(message.mention_ids),
                        )
                        .values(mention_seq=seq)
                    )
        except IntegrityError:
            # A repeated client_id: the unique index refused it and the rollback undid
            # our seq. Retries are rare, so they pay for the lookup instead of every send.
            if message.client_id and (existing := await self._by_client_id(message)):
                return existing, False
            raise
        return to_message(SimpleNamespace(**row)), True

    async def by_seqs(self, chat_id: str, seqs: Sequence[int]) -> list[Message]:
        if not seqs:
            return []
        async with self._db.read() as conn:
            found = await conn.execute(_BY_SEQS, {"b_chat": chat_id, "b_seqs": sorted(set(seqs))})
            return sorted((to_message(row) for row in found), key=lambda m: m.seq)

    async def get(self, chat_id: str, message_id: str) -> Message | None:
        async with self._db.read() as conn:
            row = (await conn.execute(_BY_ID, {"b_id": message_id})).first()
        return to_message(row) if row is not None and row.chat_id == chat_id else None

    async def _change(self, message: Message, values: dict) -> Message | None:
        """Take the chat's next change count and write `values` with it, in one transaction;
        None (and nothing written) if the message was deleted meanwhile."""
        preview = preview_of(replace(message, **{k: v for k, v in values.items() if k in _MESSAGE_FIELDS}))
        try:
            async with self._db.write() as conn:
                await self._write_change(conn, message, values, preview)
        except _Deleted:
            return None
        return await self.get(message.chat_id, message.id)

    @staticmethod
    async def _write_change(conn, message: Message, values: dict, preview: str) -> None:
        chats, messages = ChatRow.__table__, MessageRow.__table__
        change = (
            await conn.execute(
                update(chats)
                .where(chats.c.id == message.chat_id)
                .values(
                    last_change=chats.c.last_change + 1,
                    preview=case((chats.c.last_seq == message.seq, preview), else_=chats.c.preview),
                )
                .returning(chats.c.last_change)
            )
        ).scalar_one_or_none()
        if change is None:
            raise _Deleted  # the chat is gone
        written = await conn.execute(
            update(messages)
            .where(messages.c.id == message.id, messages.c.deleted.is_(False))
            .values(change=change, **values)
        )
        if written.rowcount != 1:
            raise _Deleted  # rolls the change count back too

    async def edit(self, chat_id: str, message_id: str, text: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return None
        return await self._change(message, {"text": text, "edited_at": at})

    async def delete(self, chat_id: str, message_id: str, at: datetime) -> Message | None:
        message = await self.get(chat_id, message_id)
        if message is None or message.deleted:
            return message
        return await self._change(message, dict(_TOMBSTONE)) or await self.get(chat_id, message_id)

    async def erase_sender(self, chat_id: str, sender_id: str) -> list[Image | Attachment]:
        chats, messages = ChatRow.__table__, MessageRow.__table__
        theirs = and_(
            messages.c.chat_id == chat_id, messages.c.sender_id == sender_id, messages.c.deleted.is_(False)
        )
        image = (
            messages.c.image_url,
            messages.c.image_public_id,
            messages.c.image_width,
            messages.c.image_height,
            messages.c.attachment,
        )
        async with self._db.write() as conn:
            rows = (
                await conn.execute(select(messages.c.id, *image).where(theirs).order_by(messages.c.seq))
            ).all()
            if not rows:
                return []
            last = (
                await conn.execute(
                    update(chats)
                    .where(chats.c.id == chat_id)
                    .values(
                        last_change=chats.c.last_change + len(rows),
                        preview=case(
                            (chats.c.preview_sender_id == sender_id, DELETED_PREVIEW), else_=chats.c.preview
                        ),
                    )
                    .returning(chats.c.last_change)
                )
            ).scalar_one_or_none()
            if last is None:
                return []  # the chat is gone
            first = last - len(rows)
            await conn.execute(
                update(messages)
                .where(messages.c.id == bindparam("message_id"))
                .values(change=bindparam("next_change"), **_TOMBSTONE),
                [{"message_id": row.id, "next_change": first + i} for i, row in enumerate(rows, start=1)],
            )
        images = [Image(row[1], row[2] or "", row[3] or 0, row[4] or 0) for row in rows if row[1]]
        return images + [attachment_of(json.loads(row[5])) for row in rows if row[5]]

    async def react(self, chat_id: str, message_id: str, user_id: str, emoji: str) -> Message | None:
        chats, messages = ChatRow.__table__, MessageRow.__table__
        try:
            async with self._db.write() as conn:
                # The chat row first: on PostgreSQL its lock queues the chat's reactions, so
                # this read-modify-write of the message's reactions cannot lose another's.
                change = (
                    await conn.execute(
                        update(chats)
                        .where(chats.c.id == chat_id)
                        .values(last_change=chats.c.last_change + 1)
                        .returning(chats.c.last_change)
                    )
                ).scalar_one_or_none()
                current = (
                    await conn.execute(
                        select(messages.c.reactions).where(
                            messages.c.id == message_id,
                            messages.c.chat_id == chat_id,
                            messages.c.deleted.is_(False),
                        )
                    )
                ).scalar_one_or_none()
                if change is None or current is None:
                    raise _Deleted
                after = toggled(reactions_from_json(current), emoji, user_id)
                await conn.execute(
                    update(messages)
                    .where(messages.c.id == message_id)
                    .values(reactions=reactions_to_json(after), change=change)
                )
        except _Deleted:
            return None
        return await self.get(chat_id, message_id)

    async def purge_search_index(self) -> None:
        if self._db.backend != "sqlite":
            return  # PostgreSQL's search_vector is a generated column of the row
        async with self._db.write() as conn:
            # 'optimize' merges every segment into one, leaving deleted entries out.
            await conn.execute(text("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')"))

    async def changed_after(self, chat_id: str, change: int, limit: int) -> list[Message]:
        async with self._db.read() as conn:
            found = await conn.execute(
                _CHANGED_AFTER, {"b_chat": chat_id, "b_change": change, "b_limit": limit}
            )
            return [to_message(row) for row in found]

    async def page_before(self, chat_id: str, before_seq: int | None, limit: int) -> list[Message]:
        query = _PAGE_LATEST if before_seq is None else _PAGE_BEFORE
        async with self._db.read() as conn:
            found = await conn.execute(query, {"b_chat": chat_id, "b_seq": before_seq, "b_limit": limit})
            return [to_message(row) for row in reversed(found.all())]

    async def mark_seen(self, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
        table = MessageRow.__table__
        async with self._db.write() as conn:
            await conn.execute(
                update(table)
                .where(table.c.chat_id == chat_id, table.c.seq > after_seq, table.c.seq <= up_to_seq)
                .where(table.c.seen_at.is_(None))
                .values(seen_at=at)
            )

    async def page_after(self, chat_id: str, after_seq: int, limit: int) -> list[Message]:
        async with self._db.read() as conn:
            found = await conn.execute(_PAGE_AFTER, {"b_chat": chat_id, "b_seq": after_seq, "b_limit": limit})
            return [to_message(row) for row in found]

    async def search(
        self, user_id: str, query: SearchQuery, limit: int, before: str | None = None
    ) -> list[SearchHit]:
        if query.empty:
            return []
        async with self._db.reads() as session:
            if self._db.backend == "sqlite":
                mine = (
                    await session.exec(select(MemberRow.chat_id).where(MemberRow.user_id == user_id))
                ).all()
                if not mine:
                    return []
                statement, params = _sqlite_search(query, mine, before)
            else:
                common = _is_common(query, await self._word_shares(session))
                statement, params = _postgres_search(query, before, common)
            rows = (await session.exec(statement, params={**params, "user": user_id, "limit": limit})).all()
            if not rows:
                return []
            # The hits' chats with their members, in one round trip.
            chats: dict[str, ChatRow] = {}
            members: dict[str, list[str]] = defaultdict(list)
            for chat, member_id in await session.exec(
                select(ChatRow, MemberRow.user_id)
                .join(MemberRow, col(MemberRow.chat_id) == col(ChatRow.id))
                .where(col(ChatRow.id).in_({row.chat_id for row in rows}))
                .order_by(MemberRow.joined_at, MemberRow.user_id)
            ):
                chats[chat.id] = chat
                members[chat.id].append(member_id)
        hits = []
        for row in rows:
            message = to_message(row)
            chat = to_chat(chats[row.chat_id], tuple(members[row.chat_id]))
            hits.append(SearchHit(message, chat, _key_of(self._db.backend, row)))
        return hits


# --- search: each backend's own full-text engine (migration 0004) ----------------------------

_MESSAGE_COLUMNS = list(MessageRow.__table__.c)
_SELECT_MESSAGE = ", ".join(f"m.{c.name}" for c in _MESSAGE_COLUMNS)
_BAD_CURSOR = "cursor is not valid; pass nextCursor back as it was given."
_MY_CHATS = "m.chat_id IN (SELECT chat_id FROM members WHERE user_id = :user)"

# FTS5 hands out matches in rowid order, which is the order messages were stored: reading
# it backwards gives newest first. The match names my chats too (chat_id is indexed), so
# FTS5 intersects the words' doclists with my chats' and no row outside them is looked
# at; the members condition stays as the access check.
_SQLITE_SEARCH = f"""
SELECT {_SELECT_MESSAGE}, f.rowid AS search_key
FROM messages_fts AS f JOIN messages AS m ON m.rowid = f.rowid
WHERE messages_fts MATCH :match AND f.rowid < :before AND NOT m.deleted AND {_MY_CHATS}{{longer}}
ORDER BY f.rowid DESC
LIMIT :limit
"""

# PostgreSQL, two plans, picked by how common the words are (the planner cannot tell well
# enough: it prices a GIN scan of a word in a fifth of all messages far below what it costs).
# A rare word: the GIN index finds its few messages anywhere, my chats filter them.
_POSTGRES_RARE = f"""
SELECT {_SELECT_MESSAGE}
FROM messages AS m
WHERE m.search_vector @@ to_tsquery('simple'::regconfig, :match) AND NOT m.deleted AND {_MY_CHATS}
  {{after}}
ORDER BY m.created_at DESC, m.id DESC
LIMIT :limit
"""
# A common word: read each of my chats newest first (ix_messages_search_recent), a page at
# most from each, stopping early since matches are everywhere. ts_match_vq is the function
# behind @@, which no index answers: it keeps the GIN index out of this plan.
_POSTGRES_COMMON = f"""
SELECT {_SELECT_MESSAGE}
FROM members AS me CROSS JOIN LATERAL (
    SELECT * FROM messages AS m
    WHERE m.chat_id = me.chat_id AND NOT m.deleted {{after}}
      AND ts_match_vq(m.search_vector, to_tsquery('simple'::regconfig, :match))
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT :limit
) AS m
WHERE me.user_id = :user
ORDER BY m.created_at DESC, m.id DESC
LIMIT :limit
"""
COMMON_WORD_SHARE = 0.01  # a word in at least this share of messages takes the "common" plan
_WORD_STATS_TTL = 300.0  # seconds between reads of the planner statistics
_WORD_STATS = text(
    "SELECT most_common_elems::text::text[] AS words, most_common_elem_freqs AS shares FROM pg_stats "
    "WHERE tablename = 'messages' AND attname = 'search_vector' AND schemaname = current_schema()"
)


def _columns(statement: str, *extra):
    return text(statement).columns(*_MESSAGE_COLUMNS, *extra)


def _fts_string(value: str) -> str:
    # A quoted FTS5 string: never an operator (OR, NOT, NEAR, *, -, :).
    return '"' + value.replace('"', '""') + '"'


# The starts FTS5 keeps of every word (migration 0009). It answers a start of that length from
# its index, read newest first and stopped after a page; a longer one, by merging the lists of
# every word it starts, all of them, before the first row (15 ms for "lunc" among a million
# messages, growing with the table). So a longer start asks FTS5 for its first 3 characters
# and checks the rest on each row found (starts_a_word): the rows read are my chats' messages
# with a word starting so, newest first, until a page is full.
_FTS_PREFIX_MAX = 3


def _fts_words(query: SearchQuery) -> str:
    # Whole words as quoted strings; the prefix a quoted string with FTS5's `*` after it.
    start = query.prefix[:_FTS_PREFIX_MAX]
    prefix = [f"{_fts_string(start)} *"] if start else []
    return " ".join([*(_fts_string(word) for word in query.words), *prefix])


def _tsquery(query: SearchQuery) -> str:
    # Each word a quoted tsquery lexeme (never an operator: & | ! ( ) : * <->), the prefix
    # with `:*` after it; all of them joined by `&`.
    def quoted(word: str) -> str:
        return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

    prefix = [f"{quoted(query.prefix)}:*"] if query.prefix else []
    return " & ".join([*(quoted(word) for word in query.words), *prefix])


def _is_common(query: SearchQuery, shares: dict[str, float]) -> bool:
    # A prefix counts with the words it starts that the statistics know (a lower bound).
    if any(shares.get(word, 0.0) >= COMMON_WORD_SHARE for word in query.words):
        return True
    starts = sum(share for word, share in shares.items() if query.prefix and word.startswith(query.prefix))
    return starts >= COMMON_WORD_SHARE


def _sqlite_search(query: SearchQuery, chat_ids: Sequence[str], before: str | None):
    words = _fts_words(query)
    chats = " OR ".join(_fts_string(chat_id) for chat_id in chat_ids)
    match = f"text : ({words}) AND chat_id : ({chats})"
    if before is None:
        start = 2**63 - 1
    elif before.isascii() and before.isdigit() and len(before) <= 18:
        start = int(before)
    else:
        raise BadInput(_BAD_CURSOR)
    params = {"match": match, "before": start}
    longer = ""
    if len(query.prefix) > _FTS_PREFIX_MAX:
        longer, params["prefix"] = " AND starts_a_word(m.text, :prefix)", query.prefix
    statement = _SQLITE_SEARCH.replace("{longer}", longer)
    return _columns(statement, column("search_key", Integer)), params


def _postgres_search(query: SearchQuery, before: str | None, common: bool):
    # The words, the user and the limit go into the statement as quoted literals, not bound
    # parameters: then the planner sees them every time and picks per query (a common word:
    # read my chats newest first; a rare one: the GIN index), where the generic plan that a
    # prepared statement falls back to after five runs picked one plan for every word.
    params: dict = {"match": _tsquery(query)}
    after = ""
    if before is not None:
        at, _, message_id = before.partition("~")
        try:
            params["at"] = datetime.fromisoformat(at)
        except ValueError:
            raise BadInput(_BAD_CURSOR) from None
        if params["at"].tzinfo is None or not message_id or len(message_id) > 32:
            raise BadInput(_BAD_CURSOR)
        params["id"] = message_id
        after = "AND (m.created_at, m.id) < (:at, :id)"
    statement = _columns((_POSTGRES_COMMON if common else _POSTGRES_RARE).replace("{after}", after))
    literals = [bindparam(name, type_=String(), literal_execute=True) for name in ("match", "user")]
    return statement.bindparams(*literals, bindparam("limit", type_=Integer(), literal_execute=True)), params


def _key_of(backend: str, row) -> str:
    if backend == "sqlite":
        return str(row.search_key)
    return f"{utc(row.created_at).isoformat()}~{row.id}"
