"""Reflex's Redis state manager as the app installs it (chat_web/state/guard.py), on the real
Redis: leases spread in time, and a state write that came too late makes the tab resync."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import State
from reflex_base.utils.exceptions import LockExpiredError

from chat_web import container
from chat_web.state import guard
from chat_web.state.chat import ChatState
from tests.conftest import open_redis


@pytest.fixture
async def manager():
    redis = await open_redis()
    manager = guard._guarded_redis_manager(StateManagerRedis(redis=redis, oplock_hold_time_ms=20_000))
    yield manager
    await redis.aclose()


async def test_each_lease_lasts_a_random_share_of_the_hold_time(manager):
    holds = [manager.oplock_hold_time_ms for _ in range(200)]
    assert all(20_000 * guard.LEASE_SPREAD <= hold <= 20_000 for hold in holds)
    assert max(holds) - min(holds) > 20_000 * (1 - guard.LEASE_SPREAD) / 2  # spread, not one value


async def test_a_write_after_the_lock_expired_takes_it_back_when_no_one_else_did(manager, monkeypatch):
    told = []
    monkeypatch.setattr(
        container, "current", lambda: SimpleNamespace(live=SimpleNamespace(resync_tab=told.append))
    )
    token = BaseStateToken(ident=str(uuid.uuid4()), cls=ChatState)
    state = await manager.get_state(token)
    chat = await state.get_state(ChatState)
    chat.open_id = "signed-in-and-busy"
    # The lease's lock expired while the event loop was too busy to write the state back.
    await manager.set_state(token, state, lock_id=b"late-lease")
    assert await manager.redis.get(manager._lock_key(token)) == b"late-lease"  # released as usual later
    saved = await manager.get_state(token)
    assert (await saved.get_state(ChatState)).open_id == "signed-in-and-busy"
    assert told == []


async def test_a_write_whose_lock_another_process_took_is_refused_and_the_tab_resyncs(manager, monkeypatch):
    told = []
    monkeypatch.setattr(
        container, "current", lambda: SimpleNamespace(live=SimpleNamespace(resync_tab=told.append))
    )
    tab = str(uuid.uuid4())
    token = BaseStateToken(ident=tab, cls=ChatState)
    state = await manager.get_state(token)
    assert isinstance(state, State)
    await manager.redis.set(manager._lock_key(token), b"someone-else", px=5000)
    with pytest.raises(LockExpiredError):
        await manager.set_state(token, state, lock_id=b"late-lease")
    assert told == [tab]
    await manager.redis.delete(manager._lock_key(token))
