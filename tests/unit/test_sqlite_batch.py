"""SQLite's sends in batches (chat_web/adapters/storage/sqlite_batch.py): one transaction for the
sends waiting, a refusal stays its sender's, an error rolls the batch back and reruns it."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from chat_web.adapters.storage.sqlite_batch import SendBatches
from chat_web.domain import Forbidden


@pytest.fixture
def batches(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'batch.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    thread = ThreadPoolExecutor(1)
    yield SendBatches(engine, thread), engine
    thread.shutdown()
    engine.dispose()


def note(body: str, fail: BaseException | None = None):
    def use_case(conn):
        conn.execute(text("INSERT INTO notes VALUES (:body)"), {"body": body})
        if fail is not None:
            raise fail
        return body

    return use_case


def refuse(conn):
    raise Forbidden("not yours")


def stored(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(row.body for row in conn.execute(text("SELECT body FROM notes")))


async def test_the_waiting_sends_are_stored_together_and_each_caller_gets_its_own(batches):
    sends, engine = batches
    results = await asyncio.gather(*(sends.run(note(f"n{i}")) for i in range(10)))
    assert results == [f"n{i}" for i in range(10)]
    assert stored(engine) == sorted(f"n{i}" for i in range(10))


async def test_a_refusal_is_its_senders_alone(batches):
    sends, engine = batches
    results = await asyncio.gather(
        sends.run(note("a")), sends.run(refuse), sends.run(note("b")), return_exceptions=True
    )
    assert results[0] == "a" and isinstance(results[1], Forbidden) and results[2] == "b"
    assert stored(engine) == ["a", "b"]


async def test_an_error_after_a_write_takes_back_that_write_only(batches):
    sends, engine = batches
    broken = note("half", fail=RuntimeError("disk"))
    results = await asyncio.gather(
        sends.run(note("a")), sends.run(broken), sends.run(note("b")), return_exceptions=True
    )
    assert results[0] == "a" and isinstance(results[1], RuntimeError) and results[2] == "b"
    assert stored(engine) == ["a", "b"]  # the batch was rolled back and each ran alone
