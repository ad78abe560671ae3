"""Storage benchmark: load N messages over M chats, then time the hot queries and search.

    python -m benchmarks.storage                       # 1,000,000 messages, 10,000 chats
    python -m benchmarks.storage --messages 100000 --backends sqlite

Backends: sqlite (a file under /tmp), postgresql (a fresh database on 127.0.0.1), congodb
(the MongoDB wire-protocol test server: NOT MongoDB, its figures say nothing of MongoDB),
mongodb (a real server from MONGODB_URI). Prints p50/p99 in milliseconds.

Message texts are a few words drawn from a vocabulary with a Zipf-like spread, so a full-text
index sees realistic posting lists. Search is timed for one user who is a member of
SEARCHER_CHATS chats, asking for a page of 20 as the page does: a common word (in about one
message in five), a rare word (RARE_COPIES messages in all, some of them in that user's
chats), and a word no message holds; then as someone typing them, the last word a prefix
(two letters that start the commonest words, the starts of the common and the rare word,
a start no word has).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import Progress, percentile, table
from chat_web.domain import NewMessage
from chat_web.domain.search import SearchQuery

ROOT = Path(__file__).resolve().parents[1]
BATCH = 10_000
USERS = 2_000
SEARCHER = 0  # the user whose searches are timed
SEARCHER_CHATS = 50
VOCABULARY = 5_000
COMMON_WORD = "lunch"  # in about one message in five
RARE_WORD = "zeppelin"
RARE_COPIES = 12  # messages that hold it, a third of them in the searcher's chats
MISSING_WORD = "quixotic"
COMMONEST_START = "ba"  # starts the commonest word of the vocabulary ("ba") and 1/65 of the others
SEARCH_PAGE = 20


def _plan(chats: int, messages: int, seed: int = 7):
    """Users, direct-chat pairs and per-chat message counts, the same for every backend."""
    rng = random.Random(seed)
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < chats:
        a, b = rng.sample(range(USERS), 2)
        pairs.add((min(a, b), max(a, b)))
    per_chat = [messages // chats] * chats
    for i in range(messages - sum(per_chat)):
        per_chat[i] += 1
    return sorted(pairs), per_chat


def _searcher_chats(pairs) -> list[int]:
    """The chats the searcher is in: their own direct chats, and others joined to reach ~50."""
    rng = random.Random(5)
    own = [i for i, pair in enumerate(pairs) if SEARCHER in pair]
    others = [i for i in range(len(pairs)) if SEARCHER not in pairs[i]]
    return sorted(own + rng.sample(others, max(0, SEARCHER_CHATS - len(own))))


class Texts:
    """Deterministic message texts: 4-12 words, Zipf-like, with the search words placed."""

    def __init__(self, total: int, searcher_chats: list[int], per_chat: list[int], seed: int = 3):
        self.rng = random.Random(seed)
        self.words = [_pseudo_word(i) for i in range(VOCABULARY)]
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
        # Where the rare word goes: a third in the searcher's chats, the rest anywhere.
        mine = [
            (c, self.rng.randint(1, per_chat[c])) for c in self.rng.sample(searcher_chats, RARE_COPIES // 3)
        ]
        anywhere = [
            (c, self.rng.randint(1, per_chat[c]))
            for c in self.rng.sample(range(len(per_chat)), RARE_COPIES - len(mine))
        ]
        self.rare = set(mine + anywhere)

    def text(self, chat: int, seq: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cumulative, k=self.rng.randint(4, 12))
        if self.rng.random() < 0.2:
            words.insert(self.rng.randrange(len(words) + 1), COMMON_WORD)
        if (chat, seq) in self.rare:
            words.append(RARE_WORD)
        return " ".join(words).capitalize()


def _pseudo_word(i: int) -> str:
    # Pronounceable, distinct, never one of the search words above.
    consonants, vowels = "bcdfgkmnprstv", "aeiou"
    letters = []
    while True:
        letters.append(consonants[i % 13] + vowels[(i // 13) % 5])
        i //= 65
        if i == 0:
            return "".join(letters)


# --- loaders: bulk inserts straight into each backend's tables --------------------------------

START = datetime(2026, 1, 1, tzinfo=UTC)


def _chats_and_members(pairs, per_chat, user_ids, chat_ids, id_field: str):
    """Rows for the direct chats of the plan and their two members, in either backend's ids."""
    chats, members = [], []
    for i, ((a, b), count) in enumerate(zip(pairs, per_chat, strict=True)):
        chats.append(
            {
                id_field: chat_ids[i],
                "kind": "direct",
                "title": None,
                "direct_key": ":".join(sorted((str(user_ids[a]), str(user_ids[b])))),
                "created_by": user_ids[a],
                "created_at": START,
                "updated_at": START + timedelta(seconds=i),
                "last_seq": count,
                "preview": "hello",
                "preview_sender_id": user_ids[a],
            }
        )
        members += [
            {"chat_id": chat_ids[i], "user_id": user_ids[u], "last_read_seq": count // 2, "joined_at": START}
            for u in (a, b)
        ]
    return chats, members


def _joined(searcher_chats, pairs, chat_ids, user_ids) -> list[dict]:
    """The searcher's memberships in chats that are not their own (their ~50 chats)."""
    return [
        {"chat_id": chat_ids[i], "user_id": user_ids[SEARCHER], "last_read_seq": 0, "joined_at": START}
        for i in searcher_chats
        if SEARCHER not in pairs[i]
    ]


async def _pause_search_index(store) -> None:
    """A bulk load: the search index is built once at the end, not row by row (as a restore
    would). Searches are timed on the finished index, appends with its triggers back."""
    async with store.db.engine.begin() as conn:
        if store.backend == "sqlite":
            for trigger in ("messages_fts_insert", "messages_fts_delete", "messages_fts_update"):
                await conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        else:
            await conn.exec_driver_sql("DROP INDEX ix_messages_search")


async def _build_search_index(store) -> None:
    from chat_web.adapters.storage.sql import search_migration

    migration = search_migration()
    async with store.db.engine.begin() as conn:
        if store.backend == "sqlite":
            await conn.exec_driver_sql(migration.SQLITE_REBUILD)
            for statement in migration.SQLITE_TRIGGERS:
                await conn.exec_driver_sql(statement)
        else:
            await conn.exec_driver_sql(migration.PG_GIN_INDEX)


async def load_sql(store, pairs, per_chat) -> tuple[list[str], list[str]]:
    from sqlalchemy import insert, text

    from chat_web.adapters.storage.sql_schema import ChatRow, MemberRow, MessageRow, UserRow

    user_ids = [uuid.uuid4().hex for _ in range(USERS)]
    chat_ids = [uuid.uuid4().hex for _ in pairs]
    async with store.db.engine.begin() as conn:
        await conn.execute(
            insert(UserRow.__table__),
            [
                {"id": u, "email": f"bench{i}@example.com", "name": f"Bench {i}", "created_at": START}
                for i, u in enumerate(user_ids)
            ],
        )
        chats, members = _chats_and_members(pairs, per_chat, user_ids, chat_ids, "id")
        await conn.execute(insert(ChatRow.__table__), chats)
        searcher_chats = _searcher_chats(pairs)
        await conn.execute(
            insert(MemberRow.__table__), members + _joined(searcher_chats, pairs, chat_ids, user_ids)
        )
    texts = Texts(sum(per_chat), searcher_chats, per_chat)
    progress = Progress(f"{store.backend}: messages", sum(per_chat))
    await _pause_search_index(store)
    rows = []

    async def flush():
        async with store.db.engine.begin() as conn:
            await conn.execute(insert(MessageRow.__table__), rows)
        progress.advance(len(rows))
        rows.clear()

    for i, ((a, b), count) in enumerate(zip(pairs, per_chat, strict=True)):
        for seq in range(1, count + 1):
            rows.append(
                {
                    "id": uuid.uuid4().hex,
                    "chat_id": chat_ids[i],
                    "seq": seq,
                    "sender_id": user_ids[a if seq % 2 else b],
                    "kind": "text",
                    "text": texts.text(i, seq),
                    "client_id": None,
                    "created_at": START,
                    "deleted": False,
                }
            )
            if len(rows) >= BATCH:
                await flush()
    if rows:
        await flush()
    await _build_search_index(store)
    async with store.db.engine.connect() as conn:
        # Planner statistics, as a database that has been running would have them.
        await conn.execute(text("ANALYZE"))
        await conn.commit()
    return user_ids, chat_ids


async def load_mongo(store, pairs, per_chat) -> tuple[list[str], list[str]]:
    from bson import ObjectId

    user_ids = [ObjectId() for _ in range(USERS)]
    await store.db.users.insert_many(
        [
            {
                "_id": u,
                "email": f"bench{i}@example.com",
                "name": f"Bench {i}",
                "name_lower": f"bench {i}",
                "created_at": START,
            }
            for i, u in enumerate(user_ids)
        ]
    )
    chat_ids = [ObjectId() for _ in pairs]
    chats, members = _chats_and_members(pairs, per_chat, user_ids, chat_ids, "_id")
    searcher_chats = _searcher_chats(pairs)
    for i, (chat, (a, b)) in enumerate(zip(chats, pairs, strict=True)):
        chat["member_ids"] = [user_ids[a], user_ids[b]]  # Mongo keeps members on the chat too
        if i in searcher_chats and SEARCHER not in (a, b):
            chat["member_ids"].append(user_ids[SEARCHER])
    await store.db.chats.insert_many(chats)
    await store.db.members.insert_many(members + _joined(searcher_chats, pairs, chat_ids, user_ids))
    texts = Texts(sum(per_chat), searcher_chats, per_chat)
    progress = Progress(f"{store.backend}: messages", sum(per_chat))
    docs = []
    for i, ((a, b), count) in enumerate(zip(pairs, per_chat, strict=True)):
        for seq in range(1, count + 1):
            docs.append(
                {
                    "chat_id": chat_ids[i],
                    "seq": seq,
                    "sender_id": user_ids[a if seq % 2 else b],
                    "kind": "text",
                    "text": texts.text(i, seq),
                    "image": None,
                    "created_at": START,
                    "deleted": False,
                }
            )
            if len(docs) >= BATCH:
                await store.db.messages.insert_many(docs, ordered=False)
                progress.advance(len(docs))
                docs = []
    if docs:
        await store.db.messages.insert_many(docs, ordered=False)
        progress.advance(len(docs))
    return [str(u) for u in user_ids], [str(c) for c in chat_ids]


# --- measurements -------------------------------------------------------------------------------


async def _timed(samples: int, call) -> list[float]:
    times = []
    for i in range(samples):
        began = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - began) * 1000)
    return times


async def measure(store, user_ids, chat_ids, pairs, samples: int) -> dict[str, list[float]]:
    rng = random.Random(11)
    chat_index = {cid: i for i, cid in enumerate(chat_ids)}

    async def latest_page(_):
        page = await store.messages.page_before(rng.choice(chat_ids), None, 50)
        assert page, "every chat has messages"

    async def my_chats(_):
        await store.chats.list_for_user(rng.choice(user_ids), 50)

    async def send(i):
        # The app's send use case: membership, seq, insert (+ the search index), preview,
        # the sender's cursor and the seen stamp, in one transaction.
        chat_id = rng.choice(chat_ids)
        a, b = pairs[chat_index[chat_id]]
        await store.messages.send(
            NewMessage(
                chat_id=chat_id,
                sender_id=user_ids[a if i % 2 else b],
                kind="text",
                text=f"bench append {i}",
                client_id=uuid.uuid4().hex,
            )
        )

    async def window(_):
        chat_id = rng.choice(chat_ids)
        a, _ = pairs[chat_index[chat_id]]
        assert (await store.messages.window(chat_id, user_ids[a], limit=51)).messages

    def search(query: SearchQuery, expect_some: bool | None):
        async def run(_):
            hits = await store.messages.search(user_ids[SEARCHER], query, SEARCH_PAGE + 1)
            assert expect_some is None or bool(hits) == expect_some, f"{query}: {len(hits)} hits"

        return run

    searches = {
        f"search, common word (page of {SEARCH_PAGE})": search(SearchQuery((COMMON_WORD,)), True),
        "search, rare word": search(SearchQuery((RARE_WORD,)), True),
        "search, no match": search(SearchQuery((MISSING_WORD,)), False),
        # As the page asks while typing: the last word is a prefix (domain.search).
        f"typing '{COMMONEST_START}' (starts the commonest words)": search(
            SearchQuery((), COMMONEST_START), True
        ),
        f"typing '{COMMON_WORD[:2]}' (starts the common word)": search(
            SearchQuery((), COMMON_WORD[:2]), True
        ),
        f"typing '{COMMON_WORD[:4]}'": search(SearchQuery((), COMMON_WORD[:4]), True),
        # The worst case of a start longer than FTS5's prefix indexes: its first 3 letters start
        # the common word, so every one of my chats' messages with it is read and checked.
        f"typing '{COMMON_WORD[:3]}x' (no word, but '{COMMON_WORD[:3]}' is common)": search(
            SearchQuery((), COMMON_WORD[:3] + "x"), False
        ),
        f"typing '{RARE_WORD[:3]}' (starts the rare word)": search(SearchQuery((), RARE_WORD[:3]), True),
        f"typing '{MISSING_WORD[:3]}' (starts no word)": search(SearchQuery((), MISSING_WORD[:3]), False),
        f"typing '{COMMON_WORD} {RARE_WORD[:2]}'": search(SearchQuery((COMMON_WORD,), RARE_WORD[:2]), None),
    }
    for warm in (latest_page, my_chats, *searches.values()):
        await _timed(50, warm)
    results = {
        "send (append)": await _timed(samples, send),
        "latest 50 messages": await _timed(samples, latest_page),
        "history window (members, page, people)": await _timed(samples, window),
        "my 50 most recent chats": await _timed(samples, my_chats),
    }
    for name, call in searches.items():
        results[name] = await _timed(samples, call)
    return results


# --- backends -----------------------------------------------------------------------------------


async def open_backend(name: str):
    """(store, cleanup) for a fresh, empty backend."""
    if name == "sqlite":
        from chat_web.adapters.storage.sql import SqlDatabase, SqlStore

        path = Path(f"/tmp/chat-bench-{os.getpid()}.db")
        db = SqlDatabase(f"sqlite+aiosqlite:///{path}")
        await db.start()

        async def cleanup():
            await db.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return SqlStore(db), cleanup
    if name == "postgresql":
        import asyncpg

        from chat_web.adapters.storage.sql import SqlDatabase, SqlStore

        admin_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        dbname = f"chat_bench_{os.getpid()}"
        conn = await asyncpg.connect(admin_url)
        await conn.execute(f'CREATE DATABASE "{dbname}"')
        await conn.close()
        db = SqlDatabase(
            admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{dbname}"
        )
        await db.start()

        async def cleanup():
            await db.close()
            conn = await asyncpg.connect(admin_url)
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await conn.close()

        return SqlStore(db), cleanup
    from chat_web.adapters.storage.mongo import MongoStore

    process = None
    if name == "congodb":
        entry = ROOT / ".tools/congodb/node_modules/@push.rocks/smartmongo/dist_ts/congodb/index.js"
        port = 27900 + os.getpid() % 50
        process = subprocess.Popen(
            [
                "node",
                "--max-old-space-size=8192",
                str(ROOT / "tests/support/congo_server.mjs"),
                str(entry),
                str(port),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        process.stdout.readline()
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
    else:
        uri = os.environ["MONGODB_URI"]
    store = MongoStore(uri, database=f"bench_{os.getpid()}")
    await store.prepare()

    async def cleanup():
        await store.client.drop_database(store.db.name)
        await store.close()
        if process:
            process.terminate()
            process.wait(timeout=10)

    return store, cleanup


async def run(args) -> None:
    pairs, per_chat = _plan(args.chats, args.messages)
    rows = []
    for name in args.backends.split(","):
        store, cleanup = await open_backend(name)
        try:
            began = time.monotonic()
            loader = load_mongo if name in ("congodb", "mongodb") else load_sql
            user_ids, chat_ids = await loader(store, pairs, per_chat)
            load_seconds = time.monotonic() - began
            results = await measure(store, user_ids, chat_ids, pairs, args.samples)
        finally:
            await cleanup()
        for query, times in results.items():
            rows.append(
                [
                    name,
                    f"{args.messages:,}",
                    query,
                    str(len(times)),
                    f"{percentile(times, 50):.2f}",
                    f"{percentile(times, 99):.2f}",
                    f"{load_seconds:.0f}",
                ]
            )
        print(
            table(
                ["backend", "messages", "operation", "samples", "p50 ms", "p99 ms", "load s"],
                rows[-len(results) :],
            ),
            flush=True,
        )
    print(
        "\nAll backends:\n"
        + table(["backend", "messages", "operation", "samples", "p50 ms", "p99 ms", "load s"], rows)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1_000)
    default = "sqlite,postgresql" + (",mongodb" if os.environ.get("MONGODB_URI") else "")
    parser.add_argument(
        "--backends", default=default, help=f"comma-separated (default {default}; also congodb)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
