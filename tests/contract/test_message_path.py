"""The message path's use cases (send, read_up_to, the announcement outbox) on every store."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chat_web.domain import Conflict, Forbidden, NewMessage, NotFound
from tests.contract.conftest import CONGO_NO_UNIQUE, known_gap
from tests.contract.test_storage import new_users, text

LATER = timedelta(seconds=5)


def soon() -> datetime:
    return datetime.now(UTC) + LATER


async def test_send_stores_with_the_next_seq_and_moves_the_senders_cursor(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    first = await store.messages.send(text(chat, ann, "hello", "c-1"))
    second = await store.messages.send(text(chat, ann, "again", "c-2"))
    assert (first.message.seq, second.message.seq) == (1, 2)
    assert first.created and not first.announced
    assert set(first.member_ids) == {ann.id, bob.id}
    assert (await store.chats.member(chat.id, ann.id)).last_read_seq == 2
    stored = await store.chats.get(chat.id)
    assert stored.last_seq == 2 and stored.preview == "again" and stored.preview_sender_id == ann.id


async def test_a_retried_client_id_returns_the_stored_message_before_any_check(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    original = await store.messages.send(text(chat, bob, "question"))
    reply = NewMessage(chat.id, ann.id, "text", text="answer", client_id="r-1", reply_to=original.message.seq)
    first = await store.messages.send(reply)
    assert first.message.quote is not None and first.message.quote.text == "question"
    await store.messages.delete(chat.id, original.message.id, datetime.now(UTC))
    again = await store.messages.send(reply)  # the original is gone: a new reply would be refused
    assert not again.created and again.message.id == first.message.id and again.message.seq == 2
    assert (await store.chats.get(chat.id)).last_seq == 2
    found = await store.messages.find_sent(chat.id, ann.id, "r-1")
    assert found is not None and found.message.id == first.message.id and not found.created


async def test_send_refuses_outsiders_missing_and_deleted_originals(store):
    ann, bob, eve = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    with pytest.raises(Forbidden):
        await store.messages.send(text(chat, eve, "let me in"))
    with pytest.raises(NotFound):
        await store.messages.send(NewMessage(chat.id, ann.id, "text", text="re", reply_to=7))
    gone = await store.messages.send(text(chat, bob, "soon gone"))
    await store.messages.delete(chat.id, gone.message.id, datetime.now(UTC))
    with pytest.raises(Conflict):
        await store.messages.send(NewMessage(chat.id, ann.id, "text", text="re", reply_to=gone.message.seq))
    assert (await store.chats.get(chat.id)).last_seq == 1  # nothing refused took a seq


async def test_a_send_to_a_chat_id_no_store_could_hold_is_refused_as_an_outsiders(store):
    # The API takes ids up to ID_MAX (64) characters; a SQL chat id is 32 (the fuzzer found
    # a 37-character one made PostgreSQL's one-statement send fail instead of refusing).
    (ann,) = await new_users(store, 1)
    with pytest.raises(Forbidden):
        await store.messages.send(NewMessage("x" * 64, ann.id, "text", text="hello?", client_id="long-1"))


async def test_send_marks_the_mentioned_members_of_a_group(store):
    ann, bob, cy = await new_users(store, 3)
    group = await store.chats.create_group(ann.id, "Team", [bob.id, cy.id])
    asked = []

    def mentions(people):
        asked.append(sorted(people))
        return tuple(uid for uid, name in people if name == bob.name)

    sent = await store.messages.send(text(group, ann, f"hi @{bob.name}"), mentions)
    assert sent.message.mention_ids == (bob.id,)
    assert sorted(uid for uid, _ in asked[0]) == sorted([ann.id, bob.id, cy.id])
    assert (await store.chats.member(group.id, bob.id)).mention_seq == 1
    assert (await store.chats.member(group.id, cy.id)).mention_seq == 0
    direct = await store.chats.get_or_create_direct(ann.id, bob.id)
    await store.messages.send(text(direct, ann, "@nobody here"), mentions)
    assert len(asked) == 1  # direct chats have no mentions


async def test_answering_stamps_seen_on_what_the_answer_read(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    first = await store.messages.send(text(chat, ann, "one"))
    await store.messages.send(text(chat, bob, "two"))  # bob answered: he read "one"
    (one,) = await store.messages.by_seqs(chat.id, [first.message.seq])
    assert one.seen_at is not None


async def test_read_up_to_moves_forward_only_caps_at_the_end_and_stamps_seen(store):
    ann, bob, eve = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    for body in ("a", "b", "c"):
        await store.messages.send(text(chat, ann, body))
    at = datetime.now(UTC)
    move = await store.chats.read_up_to(chat.id, bob.id, 2, at)
    assert (move.before, move.after, move.moved) == (0, 2, True)
    assert move.member.last_read_seq == 2 and set(move.member_ids) == {ann.id, bob.id}
    seen = await store.messages.by_seqs(chat.id, [1, 2, 3])
    assert [m.seen_at is not None for m in seen] == [True, True, False]
    back = await store.chats.read_up_to(chat.id, bob.id, 1, at)
    assert (back.before, back.after, back.moved) == (2, 2, False)
    past = await store.chats.read_up_to(chat.id, bob.id, 99, at)
    assert past.after == 3
    assert await store.chats.read_up_to(chat.id, eve.id, 3, at) is None


async def test_unannounced_messages_are_listed_until_marked(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    sent = await store.messages.send(text(chat, ann, "tell bob"))
    waiting = [s for s in await store.messages.unannounced(soon(), 1000) if s.message.id == sent.message.id]
    assert len(waiting) == 1 and set(waiting[0].member_ids) == {ann.id, bob.id}
    assert not await store.messages.unannounced(sent.message.created_at - LATER, 1000) or all(
        s.message.id != sent.message.id
        for s in await store.messages.unannounced(sent.message.created_at, 1000)
    )
    await store.messages.mark_announced([sent.message.id])
    assert all(s.message.id != sent.message.id for s in await store.messages.unannounced(soon(), 1000))
    retry = await store.messages.send(text(chat, ann, "tell bob"))  # no client id: a new message
    assert retry.created and retry.message.seq == 2


async def test_concurrent_sends_to_one_chat_take_every_seq_once(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    sent = await asyncio.gather(
        *(
            store.messages.send(text(chat, ann if i % 2 else bob, f"m{i}", uuid.uuid4().hex))
            for i in range(12)
        )
    )
    assert sorted(s.message.seq for s in sent) == list(range(1, 13))
    assert (await store.chats.get(chat.id)).last_seq == 12
    assert [m.seq for m in await store.messages.page_after(chat.id, 0, 50)] == list(range(1, 13))


async def test_concurrent_retries_of_one_client_id_store_one_message(request, store):
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    sent = await asyncio.gather(*(store.messages.send(text(chat, ann, "once", "same-id")) for _ in range(6)))
    assert len({s.message.id for s in sent}) == 1
    assert sum(s.created for s in sent) == 1
    assert (await store.chats.get(chat.id)).last_seq == 1


async def test_the_first_answer_in_a_direct_chat_opens_the_exchange_once(store):
    ann, bob, cy = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    first = await store.messages.send(text(chat, ann, "hi"))
    again = await store.messages.send(text(chat, ann, "anyone?"))
    answer = await store.messages.send(text(chat, bob, "here"))
    later = await store.messages.send(text(chat, bob, "still here"))
    assert [s.opened_exchange for s in (first, again, answer, later)] == [False, False, True, False]
    group = await store.chats.create_group(ann.id, "Team", [bob.id, cy.id])
    await store.messages.send(text(group, ann, "hi all"))
    assert not (await store.messages.send(text(group, bob, "hi"))).opened_exchange  # groups: always


async def test_concurrent_answers_leave_what_both_have_read_seen(request, store):
    # Both members answering at once: each answer reads the other's messages, so everything up
    # to the lower of the two cursors ends seen, whichever send waited for the other.
    known_gap(request, store, "congodb", reason=CONGO_NO_UNIQUE)
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    for round_ in range(4):
        await asyncio.gather(
            *(store.messages.send(text(chat, who, f"{round_}", uuid.uuid4().hex)) for who in (ann, bob) * 3)
        )
    cursors = [(await store.chats.member(chat.id, who.id)).last_read_seq for who in (ann, bob)]
    read_by_both = await store.messages.page_after(chat.id, 0, min(cursors))
    assert len(read_by_both) == min(cursors)
    assert [m.seq for m in read_by_both if m.seen_at is None] == []


async def test_a_window_without_reading_carries_the_chat_its_people_the_page_changes_and_quotes(store):
    ann, bob, eve = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    for i in range(1, 6):
        await store.messages.send(text(chat, ann if i % 2 else bob, f"m{i}"))
    await store.messages.send(NewMessage(chat.id, bob.id, "text", text="re: m2", reply_to=2))  # seq 6
    second = (await store.messages.by_seqs(chat.id, [2]))[0]
    edited = await store.messages.edit(chat.id, second.id, "m2, edited", datetime.now(UTC))

    after = await store.messages.window(chat.id, ann.id, limit=3, after_seq=1)
    assert [m.seq for m in after.messages] == [2, 3, 4] and after.read is None
    assert after.chat.id == chat.id and after.chat.last_seq == 6
    assert set(after.chat.member_ids) == {ann.id, bob.id}
    assert {m.user_id for m in after.members} == {ann.id, bob.id}
    assert set(after.people) == {ann.id, bob.id} and after.people[bob.id].name == bob.name
    assert after.changes == []

    before = await store.messages.window(chat.id, ann.id, limit=2, before_seq=4)
    assert [m.seq for m in before.messages] == [2, 3]  # oldest first
    latest = await store.messages.window(
        chat.id, ann.id, limit=2, changed_after=0, changes_max=10
    )  # the latest page, not read
    assert [m.seq for m in latest.messages] == [5, 6] and latest.read is None
    assert latest.messages[1].quote is not None and latest.messages[1].quote.text == "m2, edited"
    assert [m.id for m in latest.changes] == [edited.id]
    member = next(m for m in latest.members if m.user_id == ann.id)
    assert member.last_read_seq == 5  # a window that does not read moves no cursor

    assert await store.messages.window(chat.id, eve.id, limit=5, after_seq=0) is None


async def test_my_chat_list_comes_newest_first_in_pages_with_its_people(store):
    ann, bob, cy, dee = await new_users(store, 4)
    chats = [await store.chats.get_or_create_direct(ann.id, other.id) for other in (bob, cy, dee)]
    for chat in (chats[1], chats[0], chats[2]):  # dee's chat is the latest, then bob's, then cy's
        await asyncio.sleep(0.01)
        await store.messages.send(text(chat, ann, "hi"))
    await store.messages.send(text(chats[0], bob, "unread for ann"))  # bob's chat: latest now
    await store.users.delete(cy.id)

    first = await store.chats.listing(ann.id, 2)
    assert [v.chat.id for v in first.views] == [chats[0].id, chats[2].id]
    assert [v.unread for v in first.views] == [1, 0]
    assert set(first.views[0].chat.member_ids) == {ann.id, bob.id}
    assert {ann.id, bob.id, dee.id} <= set(first.people) and first.people[bob.id].name == bob.name
    last = first.views[-1].chat
    rest = await store.chats.listing(ann.id, 2, (last.updated_at, last.id))
    assert [v.chat.id for v in rest.views] == [chats[1].id]
    assert set(rest.views[0].chat.member_ids) == {ann.id, cy.id}
    assert cy.id not in rest.people  # an account that is gone: in the chat, not among the people


async def test_a_refused_send_among_concurrent_ones_is_refused_alone(store):
    # SQLite runs the sends waiting for its writer in one transaction: a refusal stays the sender's.
    ann, bob, eve = await new_users(store, 3)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    senders = (ann, eve, bob, eve, ann)
    results = await asyncio.gather(
        *(store.messages.send(text(chat, who, f"m{i}", uuid.uuid4().hex)) for i, who in enumerate(senders)),
        return_exceptions=True,
    )
    assert [isinstance(r, Forbidden) for r in results] == [False, True, False, True, False]
    assert sorted(r.message.seq for r in results if not isinstance(r, BaseException)) == [1, 2, 3]
    assert (await store.chats.get(chat.id)).last_seq == 3
