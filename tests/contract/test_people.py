"""Consent between people on every store: direct chats found by pair, a group passing on
when its creator leaves, blocks, and who may see whose presence."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_web.domain import Forbidden
from tests.contract.test_storage import fill, new_users, text


async def test_find_direct_finds_the_pair_whichever_side_asks(store):
    a, b, c = await new_users(store, 3)
    assert await store.chats.find_direct(a.id, b.id) is None
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    assert (await store.chats.find_direct(b.id, a.id)).id == chat.id
    assert await store.chats.find_direct(a.id, c.id) is None


async def test_a_group_passes_to_the_longest_standing_member_when_its_creator_leaves(store):
    a, b, c, d = await new_users(store, 4)
    group = await store.chats.create_group(a.id, "Team", [b.id, c.id])
    await fill(store, group, a, 2)
    await asyncio.sleep(0.01)  # d joins later than everyone else, on every clock
    await store.chats.add_members(group.id, [d.id])
    first, second = sorted((b.id, c.id))  # joined together with a: the first by id
    left = await store.chats.remove_member(group.id, a.id)
    assert set(left.member_ids) == {b.id, c.id, d.id} and left.created_by == first
    assert (await store.chats.get(group.id)).created_by == first
    assert (await store.chats.remove_member(group.id, first)).created_by == second
    assert (await store.chats.remove_member(group.id, d.id)).created_by == second  # not the creator
    alone = await store.chats.remove_member(group.id, second)
    assert alone.member_ids == () and alone.created_by == second  # nobody left to pass it to


async def test_blocks_are_kept_once_listed_and_lifted(store):
    a, b, c = await new_users(store, 3)
    now = datetime.now(UTC)
    assert await store.users.block(a.id, b.id, now)
    assert not await store.users.block(a.id, b.id, now)  # once
    assert await store.users.block(a.id, c.id, now + timedelta(seconds=1))
    assert [u.id for u in await store.users.blocked(a.id)] == [c.id, b.id]  # latest first
    assert await store.users.blocked(b.id) == []  # one way only
    assert await store.users.blockers_among([a.id, b.id, c.id], b.id) == {a.id}
    assert await store.users.blockers_among([a.id], c.id) == {a.id}
    assert await store.users.blockers_among([], b.id) == set()
    assert await store.users.unblock(a.id, b.id)
    assert not await store.users.unblock(a.id, b.id)
    assert [u.id for u in await store.users.blocked(a.id)] == [c.id]
    assert await store.users.blockers_among([a.id], b.id) == set()


async def test_a_blocked_person_cannot_send_in_our_direct_chat_but_still_in_groups(store):
    a, b, c = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    group = await store.chats.create_group(a.id, "Team", [b.id, c.id])
    before = await store.messages.send(text(chat, b, "hello", "b-1"))
    await store.users.block(a.id, b.id, datetime.now(UTC))
    with pytest.raises(Forbidden, match="does not accept"):
        await store.messages.send(text(chat, b, "let me in", "b-2"))
    again = await store.messages.send(text(chat, b, "hello", "b-1"))  # a retry of a stored one
    assert not again.created and again.message.id == before.message.id
    assert (await store.chats.get(chat.id)).last_seq == 1  # nothing refused was stored
    await store.messages.send(text(chat, a, "I still can"))  # the block is one way
    await store.messages.send(text(group, b, "shared groups stay as they are"))
    await store.users.unblock(a.id, b.id)
    assert (await store.messages.send(text(chat, b, "thanks"))).created


async def test_people_search_leaves_out_whoever_blocked_me(store):
    tag = uuid.uuid4().hex[:8]
    a = await store.users.get_or_create(f"a-{tag}@example.com", f"Zed{tag} A")
    b = await store.users.get_or_create(f"b-{tag}@example.com", f"Zed{tag} B")
    c = await store.users.get_or_create(f"c-{tag}@example.com", f"Zed{tag} C")
    await store.users.block(a.id, b.id, datetime.now(UTC))
    assert {u.id for u in await store.users.search(f"zed{tag}", 10, exclude_id=b.id)} == {c.id}
    assert await store.users.search(a.email, 10, exclude_id=b.id) == []  # not by address either
    assert {u.id for u in await store.users.search(f"zed{tag}", 10, exclude_id=a.id)} == {b.id, c.id}


async def test_presence_is_shared_through_groups_and_direct_chats_where_both_have_sent(store):
    a, b, c, d, e = await new_users(store, 5)
    chat_ab = await store.chats.get_or_create_direct(a.id, b.id)
    chat_ac = await store.chats.get_or_create_direct(a.id, c.id)
    assert await store.chats.presence_contacts(a.id) == set()  # a chat alone shares nothing
    await store.messages.send(text(chat_ab, a, "hi b"))
    await store.messages.send(text(chat_ac, c, "hi a"))
    assert await store.chats.presence_contacts(a.id) == set()  # one side only, in each
    await store.messages.send(text(chat_ab, b, "hi a"))
    assert await store.chats.presence_contacts(a.id) == {b.id}
    assert await store.chats.presence_contacts(b.id) == {a.id}
    assert await store.chats.presence_contacts(c.id) == set()
    await store.chats.create_group(d.id, "Team", [a.id, e.id])  # no one has sent there
    assert await store.chats.presence_contacts(a.id) == {b.id, d.id, e.id}
    assert await store.chats.presence_contacts(e.id) == {a.id, d.id}
    assert await store.chats.presence_contacts(a.id, among=[b.id, c.id, e.id]) == {b.id, e.id}
    assert await store.chats.presence_contacts(a.id, among=[]) == set()
    assert len(await store.chats.presence_contacts(a.id, limit=2)) == 2
    await store.users.block(b.id, a.id, datetime.now(UTC))  # either way, no presence across it
    await store.users.block(a.id, e.id, datetime.now(UTC))
    assert await store.chats.presence_contacts(a.id) == {d.id}
    assert await store.chats.presence_contacts(b.id) == set()
    assert await store.chats.presence_contacts(e.id) == {d.id}


async def test_has_sent_survives_as_read_cursors_move(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await store.messages.send(text(chat, a, "one"))
    await store.chats.read_up_to(chat.id, b.id, 1, datetime.now(UTC))
    await store.messages.append(text(chat, b, "two"))  # the other write path marks it too
    await store.chats.read_up_to(chat.id, a.id, 2, datetime.now(UTC))
    assert await store.chats.presence_contacts(a.id) == {b.id}
