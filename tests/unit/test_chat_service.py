"""The chat service over in-memory adapters: checks, then writes, then events."""

from __future__ import annotations

import asyncio

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput, Forbidden, NotFound
from chat_web.domain.events import user_topic
from chat_web.services.chats import ChatService
from chat_web.services.validation import OFFSET_MAX, SEQ_MAX


class RecordingFanOut(InProcessFanOut):
    def __init__(self):
        super().__init__()
        self.published: list[tuple[str, dict]] = []

    async def publish(self, topic, event, replayable=False):
        self.published.append((topic, event))
        await super().publish(topic, event, replayable)


@pytest.fixture
def world(clock):
    store = InMemoryStore(clock)
    fanout = RecordingFanOut()
    service = ChatService(store.users, store.chats, store.messages, fanout, clock)
    return service, store, fanout


async def people(store, *names):
    return [await store.users.get_or_create(f"{n}@example.com", n) for n in names]


async def test_direct_chat_rules(world):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    first = await chats.open_direct(ann, bob.id)
    assert (await chats.open_direct(bob, ann.id)).id == first.id
    with pytest.raises(BadInput, match="yourself"):
        await chats.open_direct(ann, ann.id)
    with pytest.raises(NotFound):
        await chats.open_direct(ann, "no-such-user")
    with pytest.raises(BadInput):
        await chats.open_direct(ann, None)


async def test_two_users_converse_and_events_follow_the_writes(world):
    chats, store, fanout = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    sent, created = await chats.send_text(ann, chat.id, "  hello Bob  ", "c1")
    assert created and sent.text == "hello Bob" and sent.seq == 1
    topics = [t for t, e in fanout.published if e["type"] == "message.new"]
    assert sorted(topics) == sorted([user_topic(ann.id), user_topic(bob.id)])
    event = fanout.published[-1][1]
    assert event["message"]["seq"] == 1 and event["message"]["text"] == "hello Bob"

    listing = (await chats.list_chats(bob)).items
    assert listing[0].unread == 1 and [u.name for u in listing[0].others] == ["ann"]
    page = await chats.history(bob, chat.id)
    assert [v.message.text for v in page.messages] == ["hello Bob"]
    assert (await chats.list_chats(bob)).items[0].unread == 0  # the latest page reads the chat
    assert any(e["type"] == "chat.read" for _, e in fanout.published)


async def test_the_chat_list_pages_with_a_cursor_over_chats_that_share_a_time(world, clock):
    chats, store, _ = world
    me, *friends = await people(store, "me", "a", "b", "c", "d", "e")
    for friend in friends:  # the clock stands still: every chat has the same updated_at
        await chats.open_direct(me, friend.id)
    pages = [await chats.list_chats(me, limit=2)]
    while pages[-1].next_cursor:
        pages.append(await chats.list_chats(me, limit=2, cursor=pages[-1].next_cursor))
    assert [len(p.items) for p in pages] == [2, 2, 1]
    listed = [s.chat.id for p in pages for s in p.items]
    assert sorted(listed, reverse=True) == listed and len(set(listed)) == 5
    clock.advance(seconds=1)
    await chats.send_text(me, listed[-1], "news")
    assert (await chats.list_chats(me, limit=1)).items[0].chat.id == listed[-1]  # activity moves it up
    assert (await chats.list_chats(me)).next_cursor is None


@pytest.mark.parametrize("cursor", ["nope", "W10", "x" * 500, 7, '["2026-01-01T00:00:00", "naive"]'])
async def test_a_cursor_that_is_not_ours_is_refused(world, cursor):
    chats, store, _ = world
    (me,) = await people(store, "me")
    with pytest.raises(BadInput, match="cursor"):
        await chats.list_chats(me, cursor=cursor)


async def test_a_retried_send_returns_the_first_result_and_publishes_once(world):
    chats, store, fanout = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    first, _ = await chats.send_text(ann, chat.id, "once", "retry-1")
    count = len(fanout.published)
    again, created = await chats.send_text(ann, chat.id, "once", "retry-1")
    assert again == first and not created and len(fanout.published) == count


async def test_outsiders_learn_nothing(world):
    chats, store, _ = world
    ann, bob, eve = await people(store, "ann", "bob", "eve")
    chat = await chats.open_direct(ann, bob.id)
    await chats.send_text(ann, chat.id, "secret")
    for chat_id in (chat.id, "no-such-chat"):
        for call in (
            chats.send_text(eve, chat_id, "hi"),
            chats.history(eve, chat_id),
            chats.mark_read(eve, chat_id, 1),
            chats.add_members(eve, chat_id, [eve.id]),
            chats.remove_member(eve, chat_id, ann.id),
        ):
            with pytest.raises(Forbidden) as caught:
                await call
            assert caught.value.message == "You are not a member of this conversation."


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001, None, 5])
async def test_bad_texts_are_refused(world, text):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    with pytest.raises(BadInput):
        await chats.send_text(ann, chat.id, text)
    assert (await store.chats.get(chat.id)).last_seq == 0


async def test_texts_up_to_4000_characters_after_trimming(world):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    message, _ = await chats.send_text(ann, chat.id, "  " + "é" * 4000 + "\n")
    assert len(message.text) == 4000


async def test_groups(world):
    chats, store, fanout = world
    ann, bob, cat, dan = await people(store, "ann", "bob", "cat", "dan")
    with pytest.raises(BadInput, match="3 to 50"):
        await chats.create_group(ann, "Pair", [bob.id])
    with pytest.raises(BadInput):
        await chats.create_group(ann, "", [bob.id, cat.id])
    with pytest.raises(BadInput):
        await chats.create_group(ann, "t" * 81, [bob.id, cat.id])
    with pytest.raises(NotFound):
        await chats.create_group(ann, "Team", [bob.id, "ghost"])
    group = await chats.create_group(ann, " Team ", [bob.id, cat.id, ann.id])
    assert group.title == "Team" and set(group.member_ids) == {ann.id, bob.id, cat.id}

    with pytest.raises(Forbidden, match="creator"):
        await chats.add_members(bob, group.id, [dan.id])
    grown = await chats.add_members(ann, group.id, [dan.id])
    assert dan.id in grown.member_ids
    await chats.send_text(bob, group.id, "hi all")
    received = [t for t, e in fanout.published if e["type"] == "message.new"]
    assert sorted(received) == sorted(user_topic(u.id) for u in (ann, bob, cat, dan))

    with pytest.raises(Forbidden):
        await chats.remove_member(bob, group.id, cat.id)
    left = await chats.remove_member(cat, group.id, cat.id)  # anyone may leave
    assert cat.id not in left.member_ids
    assert dan.id not in (await chats.remove_member(ann, group.id, dan.id)).member_ids


async def test_the_creator_can_leave_and_the_group_passes_to_the_longest_standing_member(world):
    chats, store, fanout = world
    ann, bob, cat, dan = await people(store, "ann", "bob", "cat", "dan")
    group = await chats.create_group(ann, "Team", [bob.id, cat.id])
    store.chats._clock.advance(seconds=5)
    await chats.add_members(ann, group.id, [dan.id])
    fanout.published.clear()
    left = await chats.leave_group(ann, group.id)
    heir = min((bob, cat), key=lambda u: u.id)  # joined together with ann: the first by id
    assert ann.id not in left.member_ids and left.created_by == heir.id
    told = {t for t, e in fanout.published if e["type"] == "chat.changed"}
    assert told == {user_topic(u.id) for u in (ann, bob, cat, dan)}  # the one leaving too
    with pytest.raises(Forbidden):  # no longer a member
        await chats.add_members(ann, group.id, [ann.id])
    store.chats._clock.advance(seconds=5)  # ann comes back after dan
    grown = await chats.add_members(heir, group.id, [ann.id])  # the heir runs the group now
    assert ann.id in grown.member_ids
    other = cat if heir is bob else bob
    assert (await chats.leave_group(heir, group.id)).created_by == other.id
    assert (await chats.leave_group(other, group.id)).created_by == dan.id


async def test_any_member_renames_a_group_once_and_everyone_is_told(world):
    chats, store, fanout = world
    ann, bob, cat, eve = await people(store, "ann", "bob", "cat", "eve")
    group = await chats.create_group(ann, "Team", [bob.id, cat.id])
    fanout.published.clear()
    renamed = await chats.rename_group(cat, group.id, "  Lunch  ")  # not the creator
    assert renamed.title == "Lunch" and renamed.updated_at == group.updated_at
    told = {t for t, e in fanout.published if e == {"type": "chat.changed", "chatId": group.id}}
    assert told == {user_topic(u.id) for u in (ann, bob, cat)}
    fanout.published.clear()
    assert (await chats.rename_group(bob, group.id, "Lunch")).title == "Lunch"
    assert fanout.published == []  # the same title: nothing changed, nothing to tell
    with pytest.raises(Forbidden):
        await chats.rename_group(eve, group.id, "Mine")
    with pytest.raises(BadInput, match="needs a title"):
        await chats.rename_group(ann, group.id, " \t ")
    direct = await chats.open_direct(ann, bob.id)
    with pytest.raises(BadInput, match="Only a group can be renamed"):
        await chats.rename_group(ann, direct.id, "Us")
    assert (await store.chats.get(group.id)).title == "Lunch"


async def test_group_of_more_than_fifty_is_refused(world):
    chats, store, _ = world
    members = await people(store, *[f"p{i}" for i in range(51)])
    with pytest.raises(BadInput):
        await chats.create_group(members[0], "Big", [m.id for m in members[1:]])
    group = await chats.create_group(members[0], "Max", [m.id for m in members[1:50]])
    assert len(group.member_ids) == 50


async def test_direct_chats_have_no_members_to_change(world):
    chats, store, _ = world
    ann, bob, cat = await people(store, "ann", "bob", "cat")
    chat = await chats.open_direct(ann, bob.id)
    with pytest.raises(BadInput):
        await chats.add_members(ann, chat.id, [cat.id])


async def test_seen_and_seen_at(world, clock):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    await chats.send_text(ann, chat.id, "one")
    await chats.send_text(ann, chat.id, "two")
    page = await chats.history(ann, chat.id, before_seq=99)
    assert [v.seen for v in page.messages] == [False, False]
    clock.advance(minutes=1)
    await chats.mark_read(bob, chat.id, 1)
    page = await chats.history(ann, chat.id, before_seq=99)
    assert [v.seen for v in page.messages] == [True, False]
    assert page.messages[0].message.seen_at == clock.now()
    clock.advance(minutes=1)
    await chats.send_text(bob, chat.id, "reply")  # answering reads what came before
    page = await chats.history(ann, chat.id, before_seq=99)
    assert [v.seen for v in page.messages] == [True, True, False]
    assert page.messages[1].message.seen_at == clock.now()
    assert page.messages[0].message.seen_at < clock.now()


async def test_paging_arguments(world):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    for i in range(7):
        await chats.send_text(ann, chat.id, f"m{i}")
    latest = await chats.history(bob, chat.id, limit=3)
    assert [v.message.seq for v in latest.messages] == [5, 6, 7] and latest.has_more
    older = await chats.history(bob, chat.id, before_seq=5, limit=3)
    assert [v.message.seq for v in older.messages] == [2, 3, 4] and older.has_more
    oldest = await chats.history(bob, chat.id, before_seq=2, limit=3)
    assert [v.message.seq for v in oldest.messages] == [1] and not oldest.has_more
    caught_up = await chats.history(bob, chat.id, after_seq=5, limit=3)
    assert [v.message.seq for v in caught_up.messages] == [6, 7] and not caught_up.has_more
    with pytest.raises(BadInput):
        await chats.history(bob, chat.id, before_seq=3, after_seq=1)
    for bad in (0, 101, -1, "10"):
        with pytest.raises(BadInput):
            await chats.history(bob, chat.id, limit=bad)
    for bad_seq in (-1, SEQ_MAX + 1, 2**63, True):
        for call in (
            chats.history(bob, chat.id, before_seq=bad_seq),
            chats.history(bob, chat.id, after_seq=bad_seq),
            chats.mark_read(bob, chat.id, bad_seq),
        ):
            with pytest.raises(BadInput, match=str(SEQ_MAX)):
                await call
    with pytest.raises(BadInput, match="offset"):
        await chats.search_users(bob, "a", offset=OFFSET_MAX + 1)


async def test_search_users_excludes_me(world):
    chats, store, _ = world
    ann, anna, bob = await people(store, "ann", "anna", "bob")
    found = await chats.search_users(ann, "an")
    assert [u.id for u in found] == [anna.id]
    assert await chats.search_users(ann, "") == []  # an empty query lists no one


async def test_subscribers_receive_live_events(world):
    chats, store, fanout = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    async with fanout.subscribe(user_topic(bob.id)) as events:
        await chats.send_text(ann, chat.id, "live")
        event = await asyncio.wait_for(anext(events), 1)
    assert event["type"] == "message.new" and event["message"]["text"] == "live"


async def test_opening_the_latest_page_shows_the_seen_it_causes(world, clock):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    await chats.send_text(ann, chat.id, "hello")
    clock.advance(seconds=30)
    (view,) = (await chats.history(bob, chat.id)).messages
    assert view.seen and view.message.seen_at == clock.now()
    (mine,) = (await chats.history(ann, chat.id)).messages
    assert mine.seen and mine.message.seen_at == clock.now()


async def test_only_the_sender_edits_and_only_for_fifteen_minutes(world, clock):
    from chat_web.domain import Conflict

    chats, store, fanout = world
    ann, bob, eve = await people(store, "ann", "bob", "eve")
    chat = await chats.open_direct(ann, bob.id)
    sent, _ = await chats.send_text(ann, chat.id, "helo", "c1")
    fanout.published.clear()

    edited = await chats.edit_message(ann, chat.id, sent.id, "  hello  ")
    assert edited.text == "hello" and edited.edited_at == clock.now() and edited.change == 1
    events = [(topic, e["type"], e["message"]["text"]) for topic, e in fanout.published]
    assert sorted(events) == sorted(
        [(user_topic(ann.id), "message.edited", "hello"), (user_topic(bob.id), "message.edited", "hello")]
    )
    fanout.published.clear()
    assert (await chats.edit_message(ann, chat.id, sent.id, "hello")).change == 1  # same text: no change
    assert fanout.published == []

    with pytest.raises(Forbidden, match="sender"):
        await chats.edit_message(bob, chat.id, sent.id, "mine now")
    with pytest.raises(Forbidden, match="member"):
        await chats.edit_message(eve, chat.id, sent.id, "hi")
    with pytest.raises(NotFound):
        await chats.edit_message(ann, chat.id, "0" * 24, "hi")
    with pytest.raises(BadInput):
        await chats.edit_message(ann, chat.id, sent.id, "   ")
    clock.advance(seconds=15 * 60 + 1)
    with pytest.raises(Forbidden, match="15 minutes"):
        await chats.edit_message(ann, chat.id, sent.id, "too late")

    with pytest.raises(Forbidden, match="sender"):
        await chats.delete_message(bob, chat.id, sent.id)
    gone = await chats.delete_message(ann, chat.id, sent.id)  # deleting has no time limit
    assert gone.deleted and gone.text == "" and gone.change == 2
    assert [e["type"] for _, e in fanout.published] == ["message.deleted"] * 2
    assert (await chats.delete_message(ann, chat.id, sent.id)).change == 2  # twice: the same tombstone
    clock.advance(seconds=-20 * 60)
    with pytest.raises(Conflict, match="deleted"):
        await chats.edit_message(ann, chat.id, sent.id, "resurrected?")


async def test_a_catch_up_brings_the_edits_and_deletions_since_a_change_count(world):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    chat = await chats.open_direct(ann, bob.id)
    sent = [(await chats.send_text(ann, chat.id, f"m{n}", f"c{n}"))[0] for n in range(3)]
    seen = await chats.history(bob, chat.id, changed_after=0)
    assert seen.last_change == 0 and seen.changes == []
    await chats.edit_message(ann, chat.id, sent[0].id, "m0 fixed")
    await chats.delete_message(ann, chat.id, sent[2].id)
    later = await chats.history(bob, chat.id, after_seq=3, changed_after=seen.last_change)
    assert later.messages == [] and later.last_change == 2
    assert [(v.message.seq, v.message.text, v.message.deleted) for v in later.changes] == [
        (1, "m0 fixed", False),
        (3, "", True),
    ]
    assert (await chats.history(bob, chat.id, changed_after=2)).changes == []
    assert (await chats.summary_of(bob, chat.id)).chat.preview == "Message deleted"


async def test_any_member_reacts_with_one_of_the_set_and_everyone_hears(world):
    chats, store, fanout = world
    ann, bob, eve = await people(store, "ann", "bob", "eve")
    chat = await chats.open_direct(ann, bob.id)
    sent, _ = await chats.send_text(ann, chat.id, "cake?", "c1")
    fanout.published.clear()
    liked = await chats.react(bob, chat.id, sent.id, "👍")
    assert liked.reactions == (("👍", (bob.id,)),)
    assert sorted(t for t, e in fanout.published if e["type"] == "message.reacted") == sorted(
        [user_topic(ann.id), user_topic(bob.id)]
    )
    assert fanout.published[-1][1]["message"]["reactions"] == [{"emoji": "👍", "userIds": [bob.id]}]
    assert (await chats.react(bob, chat.id, sent.id, "👍")).reactions == ()  # toggled back
    for bad in ("🍕", "", None, "👍👍"):
        with pytest.raises(BadInput, match="one of"):
            await chats.react(bob, chat.id, sent.id, bad)
    with pytest.raises(Forbidden):
        await chats.react(eve, chat.id, sent.id, "👍")
    await chats.delete_message(ann, chat.id, sent.id)
    with pytest.raises(NotFound):
        await chats.react(bob, chat.id, sent.id, "❤️")


async def test_a_reply_quotes_the_first_line_of_a_message_of_the_same_chat(world):
    from chat_web.domain import Conflict

    chats, store, fanout = world
    ann, bob, cyd = await people(store, "ann", "bob", "cyd")
    chat = await chats.open_direct(ann, bob.id)
    other = await chats.open_direct(ann, cyd.id)
    original, _ = await chats.send_text(ann, chat.id, "Dinner at 8?\nor 9", "c1")
    await chats.send_text(ann, other.id, "elsewhere", "c2")
    reply, _ = await chats.send_text(bob, chat.id, "8 is great", "c3", reply_to=1)
    assert reply.reply_to == 1 and reply.quote.text == "Dinner at 8?" and reply.quote.sender_id == ann.id
    announced = next(e for _, e in reversed(fanout.published) if e["type"] == "message.new")
    assert announced["message"]["replyTo"] == {
        "seq": 1,
        "senderId": ann.id,
        "text": "Dinner at 8?",
        "kind": "text",
        "deleted": False,
    }
    page = await chats.history(ann, chat.id)
    assert [v.message.quote.text if v.message.quote else None for v in page.messages] == [
        None,
        "Dinner at 8?",
    ]
    with pytest.raises(NotFound, match="not in this conversation"):
        await chats.send_text(bob, chat.id, "?", "c4", reply_to=7)
    await chats.delete_message(ann, chat.id, original.id)
    with pytest.raises(Conflict, match="deleted"):
        await chats.send_text(bob, chat.id, "too late", "c5", reply_to=1)
    after = await chats.history(ann, chat.id)
    assert after.messages[1].message.quote.deleted  # the reply now quotes a tombstone


async def test_blocking_stops_messages_group_adds_and_search_but_not_shared_groups(world):
    chats, store, fanout = world
    ann, bob, cat = await people(store, "ann", "bob", "cat")
    chat = await chats.open_direct(bob, ann.id)
    group = await chats.create_group(cat, "Team", [ann.id, bob.id])
    with pytest.raises(BadInput):
        await chats.block(ann, ann.id)
    with pytest.raises(NotFound):
        await chats.block(ann, "ghost")
    fanout.published.clear()
    assert (await chats.block(ann, bob.id)).id == bob.id
    hidden = [(t, e) for t, e in fanout.published if e["type"] == "presence"]
    assert (
        user_topic(bob.id),
        {"type": "presence", "userId": ann.id, "online": False, "lastSeen": None},
    ) in hidden
    await chats.block(ann, bob.id)  # twice: nothing more
    assert [u.id for u in await chats.blocked(ann)] == [bob.id]
    assert await chats.blocked(bob) == []
    with pytest.raises(Forbidden, match="does not accept"):
        await chats.send_text(bob, chat.id, "please")
    await chats.send_text(ann, chat.id, "I can still write")
    await chats.send_text(bob, group.id, "the shared group stays")
    with pytest.raises(Forbidden, match="does not accept"):
        await chats.create_group(bob, "Again", [ann.id, cat.id])
    own = await chats.create_group(bob, "Mine", [cat.id, (await people(store, "dan"))[0].id])
    with pytest.raises(Forbidden, match="does not accept"):
        await chats.add_members(bob, own.id, [ann.id])
    assert await chats.search_users(bob, "ann") == []
    assert [u.id for u in await chats.search_users(cat, "ann")] == [ann.id]
    assert [u.id for u in await chats.search_users(ann, "bob")] == [bob.id]  # one way
    await chats.unblock(ann, bob.id)
    await chats.send_text(bob, chat.id, "thanks")
    assert [u.id for u in await chats.search_users(bob, "ann")] == [ann.id]


async def test_a_new_direct_chat_with_someone_who_blocked_me_is_refused(world):
    chats, store, _ = world
    ann, bob = await people(store, "ann", "bob")
    await chats.block(ann, bob.id)
    with pytest.raises(Forbidden):
        await chats.open_direct(bob, ann.id)
    assert await store.chats.find_direct(ann.id, bob.id) is None
