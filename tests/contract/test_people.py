"""Consent between people on every store: direct chats found by pair, a group passing on
when its creator leaves, blocks, and who may see whose presence."""

from __future__ import annotations

import asyncio

from tests.contract.test_storage import fill, new_users


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
