"""One suite over every PushRepo: memory, SQLite, PostgreSQL, MongoDB wire server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from chat_web.domain.push import PushSubscription, subscription_id
from tests.contract.conftest import CONGO_NO_UNIQUE, known_gap

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def subscription(user_id: str, endpoint: str | None = None, at: datetime = T0) -> PushSubscription:
    endpoint = endpoint or f"https://push.example/{uuid.uuid4().hex}"
    return PushSubscription(subscription_id(endpoint), user_id, endpoint, "p" * 87, "a" * 22, at)


async def test_subscriptions_are_found_by_user_and_removed_only_by_their_owner(store):
    ann, bob = uuid.uuid4().hex, uuid.uuid4().hex
    phone, laptop = subscription(ann), subscription(ann, at=T0 + timedelta(seconds=1))
    await store.push.save(phone, keep=5)
    await store.push.save(laptop, keep=5)
    await store.push.save(subscription(bob), keep=5)
    assert {s.endpoint for s in await store.push.for_users([ann])} == {phone.endpoint, laptop.endpoint}
    assert await store.push.for_users([]) == []

    assert await store.push.remove(bob, phone.endpoint) is False  # not his
    assert await store.push.remove(ann, phone.endpoint) is True
    assert [s.endpoint for s in await store.push.for_users([ann])] == [laptop.endpoint]
    await store.push.drop(laptop.id)
    assert await store.push.for_users([ann]) == []
    assert len(await store.push.for_users([ann, bob])) == 1


async def test_the_same_browser_registering_again_replaces_its_row_even_for_another_user(store):
    ann, bob = uuid.uuid4().hex, uuid.uuid4().hex
    first = subscription(ann)
    await store.push.save(first, keep=5)
    again = PushSubscription(first.id, bob, first.endpoint, "q" * 87, "b" * 22, T0 + timedelta(minutes=1))
    await store.push.save(again, keep=5)
    assert await store.push.for_users([ann]) == []
    (kept,) = await store.push.for_users([bob])
    assert (kept.user_id, kept.p256dh, kept.auth) == (bob, "q" * 87, "b" * 22)
    assert kept.created_at == again.created_at


async def test_a_user_keeps_only_their_newest_subscriptions(store):
    ann = uuid.uuid4().hex
    made = [subscription(ann, at=T0 + timedelta(seconds=i)) for i in range(4)]
    for sub in made:
        await store.push.save(sub, keep=2)
    assert {s.id for s in await store.push.for_users([ann])} == {made[2].id, made[3].id}


async def test_a_push_is_claimed_once_until_released(store):
    message, sub = uuid.uuid4().hex, uuid.uuid4().hex
    assert await store.push.claim(message, sub, T0) is True
    assert await store.push.claim(message, sub, T0) is False
    assert await store.push.claim(message, uuid.uuid4().hex, T0) is True  # another browser
    await store.push.release(message, sub)
    assert await store.push.claim(message, sub, T0) is True


async def test_concurrent_claims_let_exactly_one_through(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    message, sub = uuid.uuid4().hex, uuid.uuid4().hex
    results = await asyncio.gather(*(store.push.claim(message, sub, T0) for _ in range(8)))
    assert results.count(True) == 1


async def test_old_claims_are_forgotten(store):
    old, new = uuid.uuid4().hex, uuid.uuid4().hex
    await store.push.claim(old, "s", T0 - timedelta(days=2))
    await store.push.claim(new, "s", T0)
    assert await store.push.forget_claims(T0 - timedelta(days=1)) >= 1
    assert await store.push.claim(old, "s", T0) is True  # forgotten: free again
    assert await store.push.claim(new, "s", T0) is False


async def test_a_deleted_account_leaves_no_subscription(store):
    ann, bob = uuid.uuid4().hex, uuid.uuid4().hex
    for user in (ann, ann, bob):
        await store.push.save(subscription(user), keep=5)
    assert await store.push.forget_user(ann) == 2
    assert await store.push.for_users([ann]) == []
    assert len(await store.push.for_users([bob])) == 1
