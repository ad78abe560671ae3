"""One contract for every storage backend: users, chats, members and messages."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from chat_web.domain import Image, NewMessage, NotFound
from chat_web.domain.models import IMAGE_PREVIEW
from tests.contract.conftest import CONGO_NO_UNIQUE, known_gap


async def new_users(store, count: int):
    tag = uuid.uuid4().hex[:8]
    return [
        await store.users.get_or_create(f"u{i}-{tag}@example.com", f"User {i} {tag}") for i in range(count)
    ]


def text(chat, sender, body: str, client_id: str | None = None) -> NewMessage:
    return NewMessage(chat_id=chat.id, sender_id=sender.id, kind="text", text=body, client_id=client_id)


async def fill(store, chat, sender, count: int):
    return [(await store.messages.append(text(chat, sender, f"m{i}")))[0] for i in range(1, count + 1)]


# --- users -------------------------------------------------------------------------------------


async def test_user_get_or_create_is_idempotent(store):
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    first = await store.users.get_or_create(email, "ada")
    again = await store.users.get_or_create(email, "other name")
    assert again == first
    assert await store.users.get(first.id) == first
    assert await store.users.get_by_email(email) == first
    assert first.created_at.tzinfo is not None


async def test_user_concurrent_creation_gives_one_user(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    users = await asyncio.gather(*[store.users.get_or_create(email, "race") for _ in range(10)])
    assert len({u.id for u in users}) == 1


async def test_token_version_starts_at_zero_and_moves_on_atomically(store):
    (user,) = await new_users(store, 1)
    assert user.token_version == 0
    bumped = await asyncio.gather(*[store.users.bump_token_version(user.id) for _ in range(5)])
    assert sorted(u.token_version for u in bumped)[-1] == 5
    assert (await store.users.get(user.id)).token_version == 5
    assert (await store.users.get_by_email(user.email)).token_version == 5
    assert await store.users.bump_token_version("no-such-user") is None


async def test_user_rename_and_get_many(store):
    a, b = await new_users(store, 2)
    renamed = await store.users.update_name(a.id, "Zoë 🚀")
    assert renamed.name == "Zoë 🚀" and (await store.users.get(a.id)).name == "Zoë 🚀"
    assert {u.id for u in await store.users.get_many([a.id, b.id, a.id])} == {a.id, b.id}
    assert await store.users.update_name("no-such-id", "x") is None


async def test_user_search_by_name_or_whole_email(store):
    tag = uuid.uuid4().hex[:6]
    alice = await store.users.get_or_create(f"alice-{tag}@example.com", f"Alice{tag}")
    alina = await store.users.get_or_create(f"zz-{tag}@example.com", f"Alina{tag}")
    bob = await store.users.get_or_create(f"bob-{tag}@example.com", f"Bob{tag}")
    by_name = await store.users.search("al", 50)
    assert {alice.id, alina.id} <= {u.id for u in by_name} and bob.id not in {u.id for u in by_name}
    assert [u.id for u in await store.users.search(f"ALICE{tag}", 10)] == [alice.id]
    assert [u.id for u in await store.users.search(f"bob-{tag}@example.com", 10)] == [bob.id]
    assert await store.users.search(f"bob-{tag}@", 10) == []  # never by email prefix
    assert alice.id not in {u.id for u in await store.users.search(f"alice{tag}", 10, exclude_id=alice.id)}
    first = await store.users.search("al", 1)
    second = await store.users.search("al", 1, offset=1)
    assert len(first) == len(second) == 1 and first[0].id != second[0].id
    assert await store.users.search("%", 10) == []  # wildcards are literal


@pytest.mark.parametrize("bad_id", ["no-such-id", "", "0" * 24, "zzzzzzzzzzzzzzzzzzzzzzzz"])
async def test_unknown_or_malformed_ids_find_nothing(store, bad_id):
    (user,) = await new_users(store, 1)
    assert await store.users.get(bad_id) is None
    assert await store.chats.get(bad_id) is None
    assert await store.chats.member(bad_id, user.id) is None
    assert await store.chats.members(bad_id) == []
    assert await store.messages.page_before(bad_id, None, 10) == []
    assert await store.chats.mark_read(bad_id, user.id, 1) is None


# --- chats -------------------------------------------------------------------------------------


async def test_direct_chat_is_one_per_pair_whichever_side_asks(store):
    a, b, c = await new_users(store, 3)
    ab = await store.chats.get_or_create_direct(a.id, b.id)
    ba = await store.chats.get_or_create_direct(b.id, a.id)
    ac = await store.chats.get_or_create_direct(a.id, c.id)
    assert ab.id == ba.id and ab.id != ac.id
    assert ab.kind == "direct" and set(ab.member_ids) == {a.id, b.id}
    assert {m.user_id for m in await store.chats.members(ab.id)} == {a.id, b.id}


async def test_direct_chat_concurrent_creation_gives_one_chat(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    a, b = await new_users(store, 2)
    pairs = [(a.id, b.id) if i % 2 else (b.id, a.id) for i in range(12)]
    chats = await asyncio.gather(*[store.chats.get_or_create_direct(x, y) for x, y in pairs])
    assert len({c.id for c in chats}) == 1
    views = await store.chats.list_for_user(a.id)
    assert len([v for v in views if v.chat.kind == "direct"]) == 1


async def test_group_membership(store):
    a, b, c, d = await new_users(store, 4)
    group = await store.chats.create_group(a.id, "Team 🚀", [b.id, c.id, b.id])
    assert group.kind == "group" and group.title == "Team 🚀" and group.created_by == a.id
    assert set(group.member_ids) == {a.id, b.id, c.id}
    await fill(store, group, a, 3)
    grown = await store.chats.add_members(group.id, [d.id, a.id])
    assert set(grown.member_ids) == {a.id, b.id, c.id, d.id}
    newcomer = await store.chats.member(group.id, d.id)
    assert newcomer.last_read_seq == 3  # no backlog of unread for a newcomer
    shrunk = await store.chats.remove_member(group.id, c.id)
    assert set(shrunk.member_ids) == {a.id, b.id, d.id}
    assert await store.chats.member(group.id, c.id) is None
    assert group.id not in {v.chat.id for v in await store.chats.list_for_user(c.id)}


async def test_rename_group(store):
    a, b, c = await new_users(store, 3)
    group = await store.chats.create_group(a.id, "Team", [b.id, c.id])
    await fill(store, group, a, 2)
    before = await store.chats.get(group.id)
    renamed = await store.chats.rename_group(group.id, "Équipe 🚀")
    assert renamed.id == group.id and renamed.title == "Équipe 🚀"
    assert set(renamed.member_ids) == {a.id, b.id, c.id} and renamed.created_by == a.id
    stored = await store.chats.get(group.id)
    assert stored.title == "Équipe 🚀" and stored.last_seq == 2
    assert stored.updated_at == before.updated_at  # a rename is no activity: the list order stays
    listed = {v.chat.id: v.chat for v in await store.chats.list_for_user(b.id)}
    assert listed[group.id].title == "Équipe 🚀"


async def test_rename_refuses_a_direct_chat_and_a_missing_one(store):
    a, b = await new_users(store, 2)
    direct = await store.chats.get_or_create_direct(a.id, b.id)
    assert await store.chats.rename_group(direct.id, "Ours") is None
    assert (await store.chats.get(direct.id)).title is None
    missing = "0" * 24 if store.kind in ("congodb", "mongodb") else "no-such-chat"
    assert await store.chats.rename_group(missing, "Nobody's") is None


async def test_membership_check(store):
    a, b, outsider = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    assert (await store.chats.member(chat.id, a.id)).user_id == a.id
    assert await store.chats.member(chat.id, outsider.id) is None
    await fill(store, chat, b, 2)
    found, members = await store.chats.membership(chat.id, a.id)
    assert found.id == chat.id and found.last_seq == 2 and set(found.member_ids) == {a.id, b.id}
    assert {m.user_id: m.last_read_seq for m in members} == {a.id: 0, b.id: 2}
    assert await store.chats.membership(chat.id, outsider.id) is None
    assert await store.chats.membership("no-such-chat", a.id) is None


# --- messages ----------------------------------------------------------------------------------


async def test_append_assigns_seq_and_updates_the_chat(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    first, created = await store.messages.append(text(chat, a, "hello"))
    second, _ = await store.messages.append(text(chat, b, "hi " * 100))
    assert created and (first.seq, second.seq) == (1, 2)
    assert first.chat_id == chat.id and first.sender_id == a.id and first.text == "hello"
    assert first.kind == "text" and first.image is None and not first.deleted
    stored = await store.chats.get(chat.id)
    assert stored.last_seq == 2 and stored.preview_sender_id == b.id
    assert stored.preview.startswith("hi hi") and len(stored.preview) <= 120
    assert stored.updated_at >= chat.updated_at


async def test_image_messages(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    image = Image(url="https://img.example/x.png", public_id="chat/x", width=640, height=480)
    stored, _ = await store.messages.append(
        NewMessage(chat_id=chat.id, sender_id=a.id, kind="image", text="caption", image=image)
    )
    assert stored.image == image
    (page,) = await store.messages.page_before(chat.id, None, 10)
    assert page.image == image and page.kind == "image" and page.text == "caption"
    assert (await store.chats.get(chat.id)).preview == IMAGE_PREVIEW


async def test_append_to_an_unknown_chat(store):
    (a,) = await new_users(store, 1)
    missing = "0" * 24
    with pytest.raises(NotFound):
        await store.messages.append(NewMessage(chat_id=missing, sender_id=a.id, kind="text", text="x"))


async def test_fifty_concurrent_appends_get_gap_free_seqs(request, store):
    # MongoDB takes the seq by inserting max + 1 under the unique (chat_id, seq) index.
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    results = await asyncio.gather(
        *[store.messages.append(text(chat, a if i % 2 else b, f"msg {i}")) for i in range(50)]
    )
    assert sorted(m.seq for m, _ in results) == list(range(1, 51))
    stored = await store.messages.page_after(chat.id, 0, 100)
    assert [m.seq for m in stored] == list(range(1, 51))
    assert (await store.chats.get(chat.id)).last_seq == 50


async def test_repeated_client_id_returns_the_stored_message(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    first, created = await store.messages.append(text(chat, a, "once", client_id="c-1"))
    again, created_again = await store.messages.append(text(chat, a, "once", client_id="c-1"))
    assert created and not created_again and again == first
    assert (await store.chats.get(chat.id)).last_seq == 1
    # The same client id from another sender is another message.
    other, created_other = await store.messages.append(text(chat, b, "twice", client_id="c-1"))
    assert created_other and other.seq == 2


async def test_concurrent_retries_store_one_message(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    results = await asyncio.gather(
        *[store.messages.append(text(chat, a, "x", client_id="dup")) for _ in range(10)]
    )
    assert len({m.id for m, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(await store.messages.page_after(chat.id, 0, 100)) == 1


async def test_concurrent_retries_leave_no_seq_gap(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await asyncio.gather(*[store.messages.append(text(chat, a, "x", client_id="dup")) for _ in range(10)])
    after, _ = await store.messages.append(text(chat, a, "next"))
    assert after.seq == 2


async def test_paging_both_ways_returns_every_message_once(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await fill(store, chat, a, 25)
    pages, cursor = [], None
    while True:
        page = await store.messages.page_before(chat.id, cursor, 10)
        if not page:
            break
        assert [m.seq for m in page] == sorted(m.seq for m in page)  # oldest first within a page
        pages.append([m.seq for m in page])
        cursor = page[0].seq
    assert pages == [list(range(16, 26)), list(range(6, 16)), list(range(1, 6))]
    forward, cursor = [], 0
    while page := await store.messages.page_after(chat.id, cursor, 10):
        forward += [m.seq for m in page]
        cursor = page[-1].seq
    assert forward == list(range(1, 26))
    assert await store.messages.page_before(chat.id, 1, 10) == []
    assert [m.seq for m in await store.messages.page_before(chat.id, 2, 10)] == [1]
    assert await store.messages.page_after(chat.id, 25, 10) == []
    assert [m.seq for m in await store.messages.page_after(chat.id, 24, 10)] == [25]
    assert [m.text for m in await store.messages.page_after(chat.id, 0, 2)] == ["m1", "m2"]


async def test_unread_counts_rise_and_reset(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await fill(store, chat, a, 3)

    def unread(views):
        return next(v.unread for v in views if v.chat.id == chat.id)

    assert unread(await store.chats.list_for_user(b.id)) == 3
    assert unread(await store.chats.list_for_user(a.id)) == 0  # own messages are read
    assert (await store.chats.mark_read(chat.id, b.id, 2)).last_read_seq == 2
    assert unread(await store.chats.list_for_user(b.id)) == 1
    assert (await store.chats.mark_read(chat.id, b.id, 1)).last_read_seq == 2  # never back
    assert (await store.chats.mark_read(chat.id, b.id, 999)).last_read_seq == 3  # never past the end
    assert unread(await store.chats.list_for_user(b.id)) == 0


async def test_mark_read_for_a_non_member(store):
    a, b, outsider = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await fill(store, chat, a, 1)
    assert await store.chats.mark_read(chat.id, outsider.id, 1) is None


async def test_muting_a_chat_takes_it_out_of_the_unread_total(store):
    me, x, y = await new_users(store, 3)
    with_x = await store.chats.get_or_create_direct(me.id, x.id)
    with_y = await store.chats.get_or_create_direct(me.id, y.id)
    group = await store.chats.create_group(x.id, "Team", [x.id, y.id, me.id])
    await fill(store, with_x, x, 3)
    await fill(store, with_y, y, 2)
    await fill(store, group, y, 4)
    assert await store.chats.unread_total(me.id) == 9
    assert await store.chats.unread_total(x.id) == 4  # y's group messages; x's own count as read

    muted = await store.chats.set_muted(group.id, me.id, True)
    assert muted.muted and muted.last_read_seq == 0
    assert (await store.chats.member(group.id, me.id)).muted
    assert not (await store.chats.member(group.id, x.id)).muted  # mine only
    assert await store.chats.unread_total(me.id) == 5
    assert next(v for v in await store.chats.list_for_user(me.id) if v.chat.id == group.id).me.muted

    await store.chats.mark_read(with_x.id, me.id, 3)
    assert await store.chats.unread_total(me.id) == 2
    assert await store.chats.unread_total(me.id, excluding=[with_y.id]) == 0  # what a tab counts itself
    assert await store.chats.unread_total(me.id, excluding=[with_x.id, "not-an-id"]) == 2
    assert not (await store.chats.set_muted(group.id, me.id, False)).muted
    assert await store.chats.unread_total(me.id) == 6


async def test_muting_by_a_non_member_changes_nothing(store):
    a, b, outsider = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    assert await store.chats.set_muted(chat.id, outsider.id, True) is None
    assert await store.chats.member(chat.id, outsider.id) is None
    assert await store.chats.unread_total(outsider.id) == 0


async def test_a_mention_is_kept_on_the_message_and_unread_until_read(store):
    ann, bob, cyd = await new_users(store, 3)
    group = await store.chats.create_group(ann.id, "Team", [ann.id, bob.id, cyd.id])
    await fill(store, group, ann, 2)
    named, _ = await store.messages.append(
        NewMessage(chat_id=group.id, sender_id=ann.id, kind="text", text="@bob?", mention_ids=(bob.id,))
    )
    await fill(store, group, cyd, 1)
    assert named.mention_ids == (bob.id,)
    assert [m.mention_ids for m in await store.messages.page_before(group.id, None, 10)] == [
        (),
        (),
        (bob.id,),
        (),
    ]

    def mentioned(views):
        return next(v.mentioned for v in views if v.chat.id == group.id)

    assert (await store.chats.member(group.id, bob.id)).mention_seq == named.seq
    assert mentioned(await store.chats.list_for_user(bob.id))
    assert not mentioned(await store.chats.list_for_user(cyd.id))
    await store.chats.mark_read(group.id, bob.id, named.seq - 1)
    assert mentioned(await store.chats.list_for_user(bob.id))  # read up to just before it
    await store.chats.mark_read(group.id, bob.id, named.seq)
    assert not mentioned(await store.chats.list_for_user(bob.id))


@pytest.fixture
def stamps(store, monkeypatch):
    """The time every backend stamps on what it writes, moved by the test: no sleeps needed."""
    from tests.conftest import FakeClock

    clock = FakeClock()
    if store.kind == "memory":
        monkeypatch.setattr(store.chats, "_clock", clock)
        monkeypatch.setattr(store.messages, "_clock", clock)
    elif store.kind in ("sqlite", "postgresql"):
        monkeypatch.setattr("chat_web.adapters.storage.sql._now", clock.now)
    else:
        monkeypatch.setattr("chat_web.adapters.storage.mongo._now", clock.now)
    return clock


async def test_my_chats_latest_activity_first(store, stamps):
    me, x, y, z = await new_users(store, 4)
    chat_x = await store.chats.get_or_create_direct(me.id, x.id)
    chat_y = await store.chats.get_or_create_direct(me.id, y.id)
    others = await store.chats.get_or_create_direct(x.id, y.id)
    group = await store.chats.create_group(z.id, "G", [me.id, x.id])
    for chat, sender in [(chat_x, x), (chat_y, me), (group, z), (chat_x, me)]:
        stamps.advance(seconds=1)
        await store.messages.append(text(chat, sender, "hey"))
    views = await store.chats.list_for_user(me.id)
    assert [v.chat.id for v in views] == [chat_x.id, group.id, chat_y.id]
    assert others.id not in {v.chat.id for v in views}
    assert set(views[1].chat.member_ids) == {z.id, me.id, x.id}
    first = views[0].chat
    older = await store.chats.list_for_user(me.id, limit=2, older_than=(first.updated_at, first.id))
    assert [v.chat.id for v in older] == [group.id, chat_y.id]
    assert [v.chat.id for v in await store.chats.list_for_user(me.id, limit=1)] == [chat_x.id]


async def test_chats_that_share_a_time_are_each_listed_once_across_pages(store, stamps):
    me, *friends = await new_users(store, 6)
    for friend in friends:  # five chats, all created at the same instant
        await store.chats.get_or_create_direct(me.id, friend.id)
    everything = await store.chats.list_for_user(me.id)
    assert len({v.chat.updated_at for v in everything}) == 1
    paged, key = [], None
    while True:
        page = await store.chats.list_for_user(me.id, limit=2, older_than=key)
        if not page:
            break
        paged += [v.chat.id for v in page]
        key = (page[-1].chat.updated_at, page[-1].chat.id)
    assert paged == [v.chat.id for v in everything]
    assert len(set(paged)) == 5


@pytest.mark.parametrize(
    "body",
    ["Zoë says 你好 👋🏽 — ‘quotes’ \u200d", "x" * 4000, "🚀" * 4000, "line one\nline two\ttab"],
)
async def test_texts_round_trip_exactly(store, body):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    stored, _ = await store.messages.append(text(chat, a, body))
    (loaded,) = await store.messages.page_after(chat.id, 0, 10)
    assert stored.text == loaded.text == body


async def test_mark_seen_stamps_only_the_range_once(store):
    from datetime import UTC, datetime, timedelta

    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await fill(store, chat, a, 5)
    first = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    await store.messages.mark_seen(chat.id, 1, 3, first)
    await store.messages.mark_seen(chat.id, 0, 4, first + timedelta(minutes=1))
    seen = {m.seq: m.seen_at for m in await store.messages.page_after(chat.id, 0, 10)}
    assert seen[2] == seen[3] == first  # stamped once, not moved by a later read
    assert seen[1] == seen[4] == first + timedelta(minutes=1)
    assert seen[5] is None


# --- edits and deletions -------------------------------------------------------------------------


async def test_edits_and_deletions_take_the_chats_next_change_count(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    first, second, last = await fill(store, chat, ann, 3)
    at = first.created_at

    edited = await store.messages.edit(chat.id, first.id, "m1, fixed", at)
    assert (edited.text, edited.edited_at is not None, edited.change) == ("m1, fixed", True, 1)
    assert (await store.chats.get(chat.id)).preview == "m3"  # not the latest: the preview stays
    gone = await store.messages.delete(chat.id, last.id, at)
    assert (gone.deleted, gone.text, gone.change, gone.seq) == (True, "", 2, 3)
    after = await store.chats.get(chat.id)
    assert (after.preview, after.last_change, after.last_seq) == ("Message deleted", 2, 3)

    again = await store.messages.delete(chat.id, last.id, at)  # twice: nothing more changes
    assert again.change == 2 and (await store.chats.get(chat.id)).last_change == 2
    assert await store.messages.edit(chat.id, last.id, "back?", at) is None  # a tombstone stays one
    assert await store.messages.edit(chat.id, "0" * 24, "x", at) is None
    other = await store.chats.get_or_create_direct(ann.id, (await new_users(store, 1))[0].id)
    assert await store.messages.get(other.id, second.id) is None  # not in that chat

    assert [(m.seq, m.change) for m in await store.messages.changed_after(chat.id, 0, 10)] == [(1, 1), (3, 2)]
    assert [m.seq for m in await store.messages.changed_after(chat.id, 1, 10)] == [3]
    assert await store.messages.changed_after(chat.id, 2, 10) == []
    history = await store.messages.page_before(chat.id, None, 10)
    assert [(m.seq, m.text, m.deleted) for m in history] == [
        (1, "m1, fixed", False),
        (2, "m2", False),
        (3, "", True),
    ]


async def test_deleting_an_image_message_forgets_the_image(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    image = Image("https://img.example/a.jpg", "chat-images/a", 800, 600)
    sent, _ = await store.messages.append(
        NewMessage(chat_id=chat.id, sender_id=ann.id, kind="image", text="caption", image=image)
    )
    gone = await store.messages.delete(chat.id, sent.id, sent.created_at)
    assert gone.deleted and gone.image is None and gone.text == "" and gone.kind == "image"
    assert (await store.messages.get(chat.id, sent.id)).image is None


async def test_reactions_toggle_per_user_and_emoji_and_count_as_changes(store):
    ann, bob, cyd = await new_users(store, 3)
    group = await store.chats.create_group(ann.id, "Team", [ann.id, bob.id, cyd.id])
    (message,) = await fill(store, group, ann, 1)

    assert (await store.messages.react(group.id, message.id, bob.id, "👍")).reactions == (("👍", (bob.id,)),)
    await store.messages.react(group.id, message.id, cyd.id, "❤️")
    both = await store.messages.react(group.id, message.id, cyd.id, "👍")
    assert both.reactions == (("👍", (bob.id, cyd.id)), ("❤️", (cyd.id,)))  # the fixed set's order
    assert both.change == 3 and (await store.chats.get(group.id)).last_change == 3
    undone = await store.messages.react(group.id, message.id, bob.id, "👍")  # the same again: taken back
    assert undone.reactions == (("👍", (cyd.id,)), ("❤️", (cyd.id,)))
    stored = (await store.messages.page_before(group.id, None, 10))[0]
    assert stored.reactions == undone.reactions
    assert [m.change for m in await store.messages.changed_after(group.id, 3, 10)] == [4]

    gone = await store.messages.delete(group.id, message.id, message.created_at)
    assert gone.reactions == ()
    assert await store.messages.react(group.id, message.id, bob.id, "👍") is None


async def test_concurrent_reactions_to_one_message_all_count(request, store):
    users = await new_users(store, 8)
    group = await store.chats.create_group(users[0].id, "Many", [u.id for u in users])
    (message,) = await fill(store, group, users[0], 1)
    await asyncio.gather(*(store.messages.react(group.id, message.id, u.id, "😂") for u in users))
    stored = await store.messages.get(group.id, message.id)
    assert sorted(stored.reactions[0][1]) == sorted(u.id for u in users)


async def test_a_reply_keeps_the_seq_it_answers_and_messages_come_back_by_seq(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    await fill(store, chat, ann, 4)
    reply, _ = await store.messages.append(
        NewMessage(chat_id=chat.id, sender_id=bob.id, kind="text", text="yes", reply_to=2)
    )
    assert reply.reply_to == 2 and (await store.messages.get(chat.id, reply.id)).reply_to == 2
    assert [m.reply_to for m in await store.messages.page_after(chat.id, 4, 5)] == [2]
    assert [m.seq for m in await store.messages.by_seqs(chat.id, [4, 2, 2, 99])] == [2, 4]
    assert await store.messages.by_seqs(chat.id, []) == []
