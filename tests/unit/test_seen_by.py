"""'Seen by' under my latest message in a group: the label's rule (chat_web/state/seen.py),
and a tab's line following the read cursors as events move them."""

from __future__ import annotations

from chat_web.domain.events import chat_read, message_deleted, message_new
from chat_web.state.rows import MsgRow
from chat_web.state.seen import SeenLine, label_of, latest_mine, line_for
from tests.support.chat_page import open_page


def row(seq: int, mine: bool, deleted: bool = False) -> MsgRow:
    return MsgRow(
        key=f"k{seq}", seq=seq, text="", time="", mine=mine, day="", sender="", state="", deleted=deleted
    )


# --- the rule ---------------------------------------------------------------------------------------


def test_the_label_names_a_few_readers_then_counts_the_rest():
    assert label_of([], 4) == ""
    assert label_of(["Ada"], 4) == "Seen by Ada"
    assert label_of(["Ada", "Bob"], 4) == "Seen by Ada, Bob"
    assert label_of(["Ada", "Bob", "Cy"], 4) == "Seen by Ada, Bob, Cy"
    assert label_of(["Ada", "Bob", "Cy", "Dee"], 6) == "Seen by Ada, Bob and 2 others"
    assert label_of(["Ada", "Bob", "Cy", "Dee", "Eve"], 9) == "Seen by Ada, Bob and 3 others"


def test_everyone_when_all_the_others_have_read_but_a_lone_other_is_named():
    assert label_of(["Ada", "Bob"], 2) == "Seen by everyone"
    assert label_of(["Ada", "Bob", "Cy", "Dee", "Eve"], 5) == "Seen by everyone"
    assert label_of(["Ada"], 1) == "Seen by Ada"  # the group's one other member left


def test_the_line_counts_other_members_whose_cursor_reached_the_seq_sorted_by_name():
    cursors = {"me": 9, "b": 5, "a": 7, "c": 4, "gone": 9}
    names = {"me": "Me", "a": "ada", "b": "Bob", "c": "Cy"}  # "gone": a deleted account
    line = line_for(5, "me", cursors, names)
    assert line == SeenLine(5, "Seen by ada, Bob", ["ada", "Bob"], ["Cy"])
    assert line_for(8, "me", cursors, names) == SeenLine(8, "", [], ["ada", "Bob", "Cy"])
    assert line_for(4, "me", cursors, names).label == "Seen by everyone"


def test_my_latest_stored_message_carries_the_line():
    older, tail = [row(1, True), row(2, False)], [row(3, True), row(4, False), row(0, True)]
    assert latest_mine([tail, older]) == 3  # newest part first; a pending one (seq 0) is not stored
    assert latest_mine([[row(5, False)], [], older]) == 1
    assert latest_mine([[row(3, True, deleted=True)], older]) == 1
    assert latest_mine([[row(2, False)]]) == 0


# --- a tab ------------------------------------------------------------------------------------------


async def test_a_group_shows_who_read_my_latest_message_as_their_cursors_move(world):
    ann, bob, cy = [await world.user(n) for n in ("ann", "bob", "cy")]
    group = await world.chats.create_group(ann, "Trip", [bob.id, cy.id])
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)
    assert state.seen == SeenLine()

    first = await world.send(ann, group.id, "first")
    await state._apply_events([message_new(first)])
    assert state.seen == SeenLine(first.seq, "", [], ["bob", "cy"])  # nobody yet: no line

    await state._apply_events([chat_read(group.id, bob.id, first.seq)])
    assert state.seen == SeenLine(first.seq, "Seen by bob", ["bob"], ["cy"])
    assert state.seen_upto == 0  # the ticks still wait for Cy

    # A message of Cy's after mine: sending reads what came before it. The line stays on
    # my latest message, not on the latest one.
    answer = await world.send(cy, group.id, "answer")
    await state._apply_events([message_new(answer)])
    assert state.seen == SeenLine(first.seq, "Seen by everyone", ["bob", "cy"], [])

    # My next message takes the line, read by no one yet.
    second = await world.send(ann, group.id, "second")
    await state._apply_events([message_new(second)])
    assert state.seen == SeenLine(second.seq, "", [], ["bob", "cy"])
    await state._apply_events([chat_read(group.id, cy.id, second.seq)])
    assert state.seen.label == "Seen by cy"


async def test_a_reload_shows_the_line_from_the_stored_cursors(world):
    ann, bob, cy = [await world.user(n) for n in ("ann", "bob", "cy")]
    group = await world.chats.create_group(ann, "Trip", [bob.id, cy.id])
    mine = await world.send(ann, group.id, "hello")
    await world.send(bob, group.id, "hi")  # Bob read it by answering
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)
    assert state.seen == SeenLine(mine.seq, "Seen by bob", ["bob"], ["cy"])


async def test_many_readers_are_counted_past_a_few_names(world):
    ann = await world.user("ann")
    others = [await world.user(n) for n in ("bob", "cy", "dee", "eve", "fay")]
    group = await world.chats.create_group(ann, "Club", [u.id for u in others])
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)
    mine = await world.send(ann, group.id, "who is in?")
    await state._apply_events([message_new(mine)])
    await state._apply_events([chat_read(group.id, u.id, mine.seq) for u in others[:4]])
    assert state.seen.label == "Seen by bob, cy and 2 others"
    assert state.seen.unread == ["fay"]
    await state._apply_events([chat_read(group.id, others[4].id, mine.seq)])
    assert state.seen.label == "Seen by everyone"


async def test_my_deleted_message_gives_the_line_to_my_message_before_it(world):
    ann, bob, cy = [await world.user(n) for n in ("ann", "bob", "cy")]
    group = await world.chats.create_group(ann, "Trip", [bob.id, cy.id])
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)
    first = await world.send(ann, group.id, "first")
    second = await world.send(ann, group.id, "oops")
    await state._apply_events([message_new(first), message_new(second)])
    await state._apply_events([chat_read(group.id, bob.id, first.seq)])
    assert state.seen == SeenLine(second.seq, "", [], ["bob", "cy"])
    gone = await world.chats.delete_message(ann, group.id, second.id)
    await state._apply_events([message_deleted(gone)])  # the line moves back at once
    assert state.seen == SeenLine(first.seq, "Seen by bob", ["bob"], ["cy"])
    await state._apply_events([chat_read(group.id, cy.id, first.seq)])
    assert state.seen == SeenLine(first.seq, "Seen by everyone", ["bob", "cy"], [])


async def test_a_direct_chat_keeps_its_ticks_and_shows_no_line(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    mine = await world.send(ann, chat.id, "hi")
    await state._apply_events([message_new(mine), chat_read(chat.id, bob.id, mine.seq)])
    assert state.seen_upto == mine.seq
    assert state.seen == SeenLine()


async def test_switching_from_a_group_to_a_direct_chat_drops_the_line(world):
    ann, bob, cy = [await world.user(n) for n in ("ann", "bob", "cy")]
    group = await world.chats.create_group(ann, "Trip", [bob.id, cy.id])
    direct = await world.chats.open_direct(ann, bob.id)
    await world.send(ann, group.id, "hello")
    await world.send(bob, group.id, "hi")
    await world.send(ann, direct.id, "just us")
    await world.send(bob, direct.id, "yes")
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)
    assert state.seen.label == "Seen by bob"
    await open_page(state, f"/chat/{direct.id}")
    assert state.seen == SeenLine()
