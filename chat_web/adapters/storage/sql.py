"""SQL storage on SQLModel / SQLAlchemy async: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Integer, String, and_, bindparam, case, column, event, func, insert, or_, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from chat_web.adapters.outage import translate_outages
from chat_web.adapters.storage.sql_schema import (
    ChatRow,
    MemberRow,
    MessageRow,
    UserRow,
    reactions_from_json,
    reactions_to_json,
    to_chat,
    to_member,
    to_message,
    to_user,
    utc,
)
from chat_web.domain import (
    BadInput,
    Chat,
    ChatView,
    Member,
    Message,
    NewMessage,
    NotFound,
    ServiceUnavailable,
    User,
    direct_key,
    preview_of,
    toggled,
)
from chat_web.domain.people import people_query
from chat_web.domain.search import SearchHit
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


# SQLSTATE classes of a server that is away, starting, stopping or full: connection
# exception, insufficient resources, operator intervention (shutdown), system error.
_OUTAGE_SQLSTATE_CLASSES = {"08", "53", "57", "58"}


def is_outage(exc: BaseException) -> bool:
    """The database is away or overloaded (not: a constraint refused a row, a bad query)."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout, OSError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return exc.connection_invalidated or sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES


# Every repository method: a database that went away answers 503 naming it, never a 500.
_outages = translate_outages(is_outage, lambda repo: f"The database ({repo._db.backend})")


def search_migration():
    """The message-search migration module (its number may change as branches merge)."""
    path = next((MIGRATIONS / "versions").glob("*_message_search.py"))
    spec = importlib.util.spec_from_file_location("message_search_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _upgrade(connection) -> None:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class SqlDatabase:
    """Owns the engine; one per process, closed by the app's lifespan."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Every use ends its transaction explicitly (engine.begin / session), so the
            # pool skips its rollback-on-return: one less thread hop per query on aiosqlite.
            self.engine: AsyncEngine = create_async_engine(url, pool_reset_on_return=None)
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            # No ping before every checkout (a round trip per query on the hot paths): when the
            # server went away, the first failing query answers 503 and SQLAlchemy discards
            # every pooled connection older than the failure, so the next request reconnects.
            self.engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=False)
        self.session = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)
        # Reads need no transaction: on PostgreSQL, autocommit saves the BEGIN and the
        # ROLLBACK around every lookup (two round trips of three).
        reader = (
            self.engine
            if self.backend == "sqlite"
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self.reads = async_sessionmaker(reader, class_=AsyncSession, expire_on_commit=False)
        self._checkpointer: asyncio.Task | None = None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    async def migrate(self) -> None:
        """Bring the schema to the latest Alembic revision."""
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
        while True:
            await asyncio.sleep(_CHECKPOINT_EVERY)
            try:
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
        await self.engine.dispose()


class SqlStore:
    """The three repositories over one database."""

    def __init__(self, db: SqlDatabase):
        self.db = db
        self.backend = db.backend
        self.users = SqlUserRepo(db)
        self.chats = SqlChatRepo(db)
        self.messages = SqlMessageRepo(db)

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
        if wanted.email:
            # Stored addresses are normalized (lower-case): the unique index answers.
            found = select(UserRow).where(UserRow.email == wanted.email)
        else:
            # Each word starts the name or follows a space in it.
            name = func.lower(UserRow.name)
            found = select(UserRow).where(
                *(
                    or_(name.like(f"{_like(w)}%", escape="\\"), name.like(f"% {_like(w)}%", escape="\\"))
                    for w in wanted.words
                )
            )
        if exclude_id:
            found = found.where(UserRow.id != exclude_id)
        found = found.order_by(func.lower(UserRow.name), UserRow.id).offset(offset).limit(limit)
        async with self._db.reads() as session:
            return [to_user(row) for row in await session.exec(found)]

    async def delete(self, user_id: str) -> None:
        async with self._db.session() as session, session.begin():
            row = await session.get(UserRow, user_id)
            if row is not None:
                await session.delete(row)


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
    .values(last_read_seq=bindparam("b_seq"))
)


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

    async def _by_client_id(self, message: NewMessage) -> Message | None:
        async with self._db.reads() as session:
            row = (
                await session.exec(
                    select(MessageRow).where(
                        MessageRow.chat_id == message.chat_id,
                        MessageRow.client_id == message.client_id,
                        MessageRow.sender_id == message.sender_id,
                    )
                )
            ).first()
            return to_message(row) if row else None

    async def append(self, message: NewMessage) -> tuple[Message, bool]:
        now = _now()
        image = message.image
        row = MessageRow(
            id=_new_id(),
            chat_id=message.chat_id,
            seq=0,
            sender_id=message.sender_id,
            kind=message.kind,
            text=message.text,
            image_url=image.url if image else None,
            image_public_id=image.public_id if image else None,
            image_width=image.width if image else None,
            image_height=image.height if image else None,
            client_id=message.client_id,
            created_at=now,
            mentions=" ".join(message.mention_ids),
            reply_to=message.reply_to,
        )
        try:
            async with self._db.engine.begin() as conn:
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
                row.seq = seq
                await conn.execute(_INSERT_MESSAGE, row.model_dump())
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
        return to_message(row), True

    async def by_seqs(self, chat_id: str, seqs: Sequence[int]) -> list[Message]:
        if not seqs:
            return []
        query = (
            select(MessageRow)
            .where(MessageRow.chat_id == chat_id, col(MessageRow.seq).in_(set(seqs)))
            .order_by(col(MessageRow.seq))
        )
        async with self._db.reads() as session:
            return [to_message(row) for row in (await session.exec(query)).all()]

    async def get(self, chat_id: str, message_id: str) -> Message | None:
        async with self._db.reads() as session:
            row = await session.get(MessageRow, message_id)
            return to_message(row) if row is not None and row.chat_id == chat_id else None

    async def _change(self, message: Message, values: dict) -> Message | None:
        """Take the chat's next change count and write `values` with it, in one transaction;
        None (and nothing written) if the message was deleted meanwhile."""
        preview = preview_of(replace(message, **{k: v for k, v in values.items() if k in _MESSAGE_FIELDS}))
        try:
            async with self._db.engine.begin() as conn:
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
        tombstone = {
            "text": "",
            "deleted": True,
            "mentions": "",
            "reactions": "",
            "image_url": None,
            "image_public_id": None,
            "image_width": None,
            "image_height": None,
        }
        return await self._change(message, tombstone) or await self.get(chat_id, message_id)

    async def react(self, chat_id: str, message_id: str, user_id: str, emoji: str) -> Message | None:
        chats, messages = ChatRow.__table__, MessageRow.__table__
        try:
            async with self._db.engine.begin() as conn:
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

    async def changed_after(self, chat_id: str, change: int, limit: int) -> list[Message]:
        query = (
            select(MessageRow)
            .where(MessageRow.chat_id == chat_id, col(MessageRow.change) > change)
            .order_by(col(MessageRow.change))
            .limit(limit)
        )
        async with self._db.reads() as session:
            return [to_message(row) for row in (await session.exec(query)).all()]

    async def page_before(self, chat_id: str, before_seq: int | None, limit: int) -> list[Message]:
        query = select(MessageRow).where(MessageRow.chat_id == chat_id)
        if before_seq is not None:
            query = query.where(col(MessageRow.seq) < before_seq)
        query = query.order_by(col(MessageRow.seq).desc()).limit(limit)
        async with self._db.reads() as session:
            rows = (await session.exec(query)).all()
        return [to_message(row) for row in reversed(rows)]

    async def mark_seen(self, chat_id: str, after_seq: int, up_to_seq: int, at: datetime) -> None:
        table = MessageRow.__table__
        async with self._db.engine.begin() as conn:
            await conn.execute(
                update(table)
                .where(table.c.chat_id == chat_id, table.c.seq > after_seq, table.c.seq <= up_to_seq)
                .where(table.c.seen_at.is_(None))
                .values(seen_at=at)
            )

    async def page_after(self, chat_id: str, after_seq: int, limit: int) -> list[Message]:
        query = (
            select(MessageRow)
            .where(MessageRow.chat_id == chat_id, col(MessageRow.seq) > after_seq)
            .order_by(col(MessageRow.seq))
            .limit(limit)
        )
        async with self._db.reads() as session:
            return [to_message(row) for row in await session.exec(query)]

    async def search(
        self, user_id: str, terms: Sequence[str], limit: int, before: str | None = None
    ) -> list[SearchHit]:
        if not terms:
            return []
        async with self._db.reads() as session:
            if self._db.backend == "sqlite":
                mine = (
                    await session.exec(select(MemberRow.chat_id).where(MemberRow.user_id == user_id))
                ).all()
                if not mine:
                    return []
                statement, params = _sqlite_search(terms, mine, before)
            else:
                shares = await self._word_shares(session)
                common = any(shares.get(term, 0.0) >= COMMON_WORD_SHARE for term in terms)
                statement, params = _postgres_search(terms, before, common)
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
            message = to_message(MessageRow(**{c.name: getattr(row, c.name) for c in _MESSAGE_COLUMNS}))
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
WHERE messages_fts MATCH :match AND f.rowid < :before AND NOT m.deleted AND {_MY_CHATS}
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


def _sqlite_search(terms: Sequence[str], chat_ids: Sequence[str], before: str | None):
    words = " ".join(_fts_string(term) for term in terms)
    chats = " OR ".join(_fts_string(chat_id) for chat_id in chat_ids)
    match = f"text : ({words}) AND chat_id : ({chats})"
    if before is None:
        start = 2**63 - 1
    elif before.isascii() and before.isdigit() and len(before) <= 18:
        start = int(before)
    else:
        raise BadInput(_BAD_CURSOR)
    return _columns(_SQLITE_SEARCH, column("search_key", Integer)), {"match": match, "before": start}


def _postgres_search(terms: Sequence[str], before: str | None, common: bool):
    # Words are letters and digits only (domain.search), so none is tsquery syntax. The
    # words, the user and the limit go into the statement as quoted literals, not bound
    # parameters: then the planner sees them every time and picks per query (a common word:
    # read my chats newest first; a rare one: the GIN index), where the generic plan that a
    # prepared statement falls back to after five runs picked one plan for every word.
    params: dict = {"match": " & ".join(terms)}
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
