"""The chat page's state handlers over in-memory adapters, without a browser.

A real ChatState instance (in a real Reflex state tree) is driven the way the page
and the live hub drive it: on_load, sends, and fan-out events.
"""

from __future__ import annotations

import dataclasses
import json

from chat_web.domain.events import chat_read, message_new, user_typing
from chat_web.state import chat as chat_module
from chat_web.state.chat import WINDOW_HARD, WINDOW_MAX, ChatState
from chat_web.state.chat_list import CHAT_PAGE, LIST_PARTS, ChatListState
from chat_web.state.composer import ComposerState
from chat_web.state.rows import TAIL_BLOCK, WINDOW_PARTS
from tests.support import images
from tests.support.chat_page import composer, open_page, run, session_of


def screen(state):
    """What the conversation shows, top to bottom: older pages and the window (my sends not
    stored yet are the page script's, assets/sends.js)."""
    return state._window()


def texts(state):
    return [row.text for row in screen(state)]


def shown(state):
    """The stored messages on screen: `older` and the short tail blocks, as one list."""
    return state._window()


async def test_opening_a_chat_shows_its_latest_page_marks_it_read_and_pages_back(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for n in range(45):
        await world.send(bob, chat.id, f"m{n}")
    state = world.tab(ann)
    await open_page(state)
    assert [r.title for r in state._all_rows()] == ["bob"] and state._all_rows()[0].badge == "45"

    await open_page(state, f"/chat/{chat.id}")
    assert state.open_title == "bob" and state.open_peer == bob.id
    assert texts(state) == [f"m{n}" for n in range(15, 45)]
    assert state.has_older and state._all_rows()[0].badge == ""
    assert shown(state)[0].new_day and not shown(state)[1].new_day  # one day separator

    await run(ChatState.load_older, state)
    assert texts(state) == [f"m{n}" for n in range(45)]
    assert not state.has_older
    assert sum(row.new_day for row in shown(state)) == 1


async def test_live_messages_arrive_once_in_order_and_a_gap_is_filled_from_storage(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    first = await world.send(bob, chat.id, "one")
    await state._apply_events([message_new(first), message_new(first)])  # a duplicate changes nothing
    assert texts(state) == ["one"]
    # Two messages whose events were lost, then a third: the page asks storage for the gap.
    await world.send(bob, chat.id, "two")
    await world.send(bob, chat.id, "three")
    fourth = await world.send(bob, chat.id, "four")
    await state._apply_events([message_new(fourth)])
    assert texts(state) == ["one", "two", "three", "four"]
    assert [row.seq for row in shown(state)] == [1, 2, 3, 4]


async def test_my_stored_sends_and_late_messages_end_up_in_seq_order(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    early = await world.send(bob, chat.id, "bob's, stored first")  # its event is still on its way
    mine = await world.send(ann, chat.id, "mine, stored second")  # through the API, as the page does
    await state._apply_events([message_new(mine)])  # my send comes back to my tab
    await state._apply_events([message_new(early)])  # arrives late: goes in its place
    later = await world.send(bob, chat.id, "bob again")
    await state._apply_events([message_new(later)])
    assert [(r.seq, r.text) for r in screen(state)] == [
        (1, "bob's, stored first"),
        (2, "mine, stored second"),
        (3, "bob again"),
    ]
    assert [r.mine for r in screen(state)] == [False, True, False]


async def test_a_message_in_another_chat_raises_its_badge_and_moves_it_up(world):
    ann, bob, cyd = await world.user("ann"), await world.user("bob"), await world.user("cyd")
    with_bob = await world.chats.open_direct(ann, bob.id)
    world.clock.advance(seconds=1)
    with_cyd = await world.chats.open_direct(ann, cyd.id)
    state = world.tab(ann, f"/chat/{with_cyd.id}")
    await open_page(state)
    assert [r.title for r in state._all_rows()] == ["cyd", "bob"]
    for n in range(101):
        world.clock.advance(seconds=1)
        message = await world.send(bob, with_bob.id, f"hi {n}")
        await state._apply_events([message_new(message)])
    assert [r.title for r in state._all_rows()] == ["bob", "cyd"]
    assert state._all_rows()[0].badge == "99+" and state._all_rows()[0].preview == "hi 100"
    assert texts(state) == []  # the open chat is another one


async def test_read_ticks_follow_the_other_members_cursor(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    for text in ("first", "second"):
        await state._apply_events([message_new(await world.send(ann, chat.id, text))])
    assert [(r.text, r.seq, r.mine) for r in screen(state)] == [("first", 1, True), ("second", 2, True)]
    assert state.seen_upto == 0
    await state._apply_events([chat_read(chat.id, bob.id, 1)])
    assert state.seen_upto == 1
    await state._apply_events([chat_read(chat.id, bob.id, 2)])
    assert state.seen_upto == 2


async def test_typing_shows_for_the_chat_and_a_message_from_the_typist_clears_it(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await state._apply_events([user_typing(chat.id, bob.id, "bob")])
    assert state.typing_label == {chat.id: "typing…"}
    key = state.typing_key[chat.id]
    await state._apply_events([user_typing(chat.id, bob.id, "bob")])
    assert state.typing_key[chat.id] != key  # a new key restarts the 5 s timer in the browser
    await state._apply_events([user_typing(chat.id, ann.id, "ann")])  # my own typing: ignored
    message = await world.send(bob, chat.id, "done typing")
    await state._apply_events([message_new(message)])
    assert state.typing_label == {}


async def test_the_live_window_stays_bounded_however_long_the_chat(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    sizes = []
    for n in range(400):
        message = await world.send(bob, chat.id, f"live message {n:04d}")
        await state._apply_events([message_new(message)])
        sizes.append(len(json.dumps([dataclasses.asdict(row) for row in shown(state)])))
    assert len(shown(state)) <= WINDOW_MAX and shown(state)[-1].text == "live message 0399"
    # What the window holds does not grow with the history (seqs gain a digit: 5%).
    assert max(sizes[200:]) <= 1.05 * max(sizes[:100])
    assert state._all_rows()[0].badge == ""  # read as it arrived: the reader is at the bottom


async def test_a_live_message_re_sends_a_short_tail_not_the_whole_window(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for n in range(40):
        await world.send(bob, chat.id, f"earlier {n}")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    resent = []  # rows of the message lists that changed (Reflex sends a changed list whole)
    for n in range(100):
        before = {name: state.get_value(name) for name in WINDOW_PARTS}
        message = await world.send(bob, chat.id, f"live {n}")
        await state._apply_events([message_new(message)])
        resent.append(
            sum(len(state.get_value(name)) for name in before if state.get_value(name) is not before[name])
        )
        assert texts(state)[-1] == f"live {n}"
    assert max(resent) <= WINDOW_MAX + 1  # a fold or a trim: the window, once in a while
    assert sum(resent) / len(resent) <= 2 * TAIL_BLOCK  # not the window each time
    assert [row.text for row in shown(state)][-3:] == ["live 97", "live 98", "live 99"]
    assert sum(row.new_day for row in shown(state)) == 1  # labels still right across the fold


async def test_a_message_in_the_top_chat_re_sends_its_row_not_the_list(world):
    ann = await world.user("ann")
    friends = [await world.user(f"friend{n:02d}") for n in range(CHAT_PAGE)]
    chats = []
    for friend in friends:
        chats.append(await world.chats.open_direct(ann, friend.id))
        world.clock.advance(seconds=1)
    state = world.tab(ann, f"/chat/{chats[0].id}")
    await open_page(state)
    top_chat, top_friend = chats[-1], friends[-1]  # the newest chat is on top

    def blocks():
        return {name: state.get_value(name) for name in LIST_PARTS}

    listed = blocks()
    for n in range(3):
        await state._apply_events([message_new(await world.send(top_friend, top_chat.id, f"hi {n}"))])
    assert blocks() == listed and all(blocks()[n] is listed[n] for n in LIST_PARTS)  # only the top_* vars
    assert (state._all_rows()[0].preview, state._all_rows()[0].badge) == ("hi 2", "3")

    # Eighth on the list (the second block): it moves to the top, the blocks below it stay.
    eighth = chats[-8]
    assert [r.id for r in state._all_rows()].index(eighth.id) == 7
    await state._apply_events([message_new(await world.send(friends[-8], eighth.id, "me first"))])
    now = blocks()
    assert now["rows"] is not listed["rows"] and now["rows1"] is not listed["rows1"]
    assert all(now[name] is listed[name] for name in LIST_PARTS[2:])  # not re-sent
    assert [r.title for r in state._all_rows()][:2] == [friends[-8].name, top_friend.name]
    assert [(r.preview, r.badge) for r in state._all_rows()[:2]] == [("me first", "1"), ("hi 2", "3")]
    assert len(state._all_rows()) == CHAT_PAGE


async def test_a_reader_far_up_the_history_gets_jump_to_latest_instead_of_an_endless_list(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await run(ChatState.set_attentive, state, False)
    for n in range(WINDOW_HARD + 20):
        message = await world.send(bob, chat.id, f"m{n}")
        await state._apply_events([message_new(message)])
    assert len(shown(state)) <= WINDOW_HARD and state.newer_waiting
    assert state._all_rows()[0].badge == str(WINDOW_HARD + 20) or state._all_rows()[0].badge == "99+"
    await run(ChatState.jump_to_latest, state)
    assert not state.newer_waiting and texts(state)[-1] == f"m{WINDOW_HARD + 19}"


async def test_times_are_shown_in_the_readers_zone(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(bob, chat.id, "noon in UTC")  # the test clock says 12:00 UTC
    state = world.tab(ann, f"/chat/{chat.id}")
    state.tz = ""
    await open_page(state)
    assert state._window()[0].time == "12:00"
    await run(ChatState.set_timezone, state, "America/New_York")
    assert state.tz == "America/New_York" and state._window()[0].time == "07:00"
    await run(ChatState.set_timezone, state, "Not/AZone")  # ignored
    assert state.tz == "America/New_York"


async def test_a_chat_i_am_not_in_sends_me_back_to_the_list(world):
    ann, bob, cyd = await world.user("ann"), await world.user("bob"), await world.user("cyd")
    theirs = await world.chats.open_direct(bob, cyd.id)
    state = world.tab(ann, f"/chat/{theirs.id}")
    result = await open_page(state)
    assert state.open_id == "" and texts(state) == []
    assert any("/chat" in str(item) for item in result)


def test_the_page_module_keeps_its_limits_consistent():
    assert chat_module.WINDOW_KEEP < WINDOW_MAX < WINDOW_HARD


async def test_the_chat_list_loads_a_page_at_a_time(world):
    ann = await world.user("ann")
    for n in range(CHAT_PAGE + 5):
        world.clock.advance(seconds=1)
        await world.chats.open_direct(ann, (await world.user(f"friend{n:02d}")).id)
    state = world.tab(ann)
    await open_page(state)
    assert len(state._all_rows()) == CHAT_PAGE and state.chats_cursor
    assert state._all_rows()[0].title == f"friend{CHAT_PAGE + 4:02d}"  # the newest first
    await run(ChatListState.load_more_chats, state.parent_state)  # the list's own substate
    assert len(state._all_rows()) == CHAT_PAGE + 5 and not state.chats_cursor
    assert len({row.id for row in state._all_rows()}) == len(state._all_rows())


async def test_a_reply_reads_what_came_before_so_my_ticks_double(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await run(ComposerState.save_edit, composer(state), {"text": "question"})
    assert state.seen_upto == 0
    reply = await world.send(bob, chat.id, "answer")  # e.g. through the REST API
    await state._apply_events([message_new(reply)])
    assert state.seen_upto == reply.seq


async def test_a_chat_new_to_my_list_shows_whether_its_person_is_online_once_we_exchanged(world):
    ann, bob, cat = await world.user("ann"), await world.user("bob"), await world.user("cat")
    state = world.tab(ann)
    await open_page(state)
    assert state._all_rows() == []
    await world.live.attach("bob-tab", bob.id)  # Bob and Cat are online
    await world.live.attach("cat-tab", cat.id)
    chat = await world.chats.open_direct(bob, ann.id)
    first = await world.send(bob, chat.id, "hi Ann")
    await state._apply_events([message_new(first)])
    assert [r.title for r in state._all_rows()] == ["bob"] and state._all_rows()[0].badge == "1"
    assert state.online_ids == []  # only Bob has written: his presence is not mine to see
    mine = await world.chats.open_direct(ann, cat.id)
    await world.send(ann, mine.id, "hi Cat")
    answer = await world.send(cat, mine.id, "hi Ann")
    await state._apply_events([message_new(answer)])
    assert state.online_ids == [cat.id]


async def test_a_tab_signs_out_when_its_session_ends_elsewhere(world):
    from chat_web.domain.events import session_ended
    from chat_web.services.tokens import token_id

    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    here, other_browser = world.tab(ann, f"/chat/{chat.id}"), world.tab(ann, tab_id="tab-2")
    other_browser.token = world.tokens.issue(ann.id)  # another sign-in, another token
    world.clock.advance(seconds=1)
    other_browser.token = world.tokens.issue(ann.id)
    for state in (here, other_browser):
        await open_page(state)
    # Signed out in a tab that shares this one's token: this tab goes too, the other browser stays.
    event = session_ended(token_id=token_id(here.token))
    await here._apply_events([event])
    await other_browser._apply_events([event])
    assert here.session_ended and here.token == "" and here.user_id == ""
    assert not other_browser.session_ended and other_browser.user_id == ann.id
    # Signed out everywhere: every token issued before the new version ends.
    await other_browser._apply_events([session_ended(version=1)])
    assert other_browser.session_ended


async def test_the_unread_total_counts_every_chat_once_and_leaves_muted_ones_out(world):
    ann = await world.user("ann")
    friends = []
    for n in range(CHAT_PAGE + 2):  # two chats beyond the first page
        world.clock.advance(seconds=1)
        friend = await world.user(f"friend{n:02d}")
        friends.append((friend, await world.chats.open_direct(ann, friend.id)))
    oldest, oldest_chat = friends[0]
    await world.send(oldest, oldest_chat.id, "not on the first page")  # now it is the newest
    state = world.tab(ann)
    await open_page(state)
    assert state.unread_total == 1

    for friend, chat in friends[1:3]:  # chats beyond the page come to the top with a message
        world.clock.advance(seconds=1)
        await state._apply_events([message_new(await world.send(friend, chat.id, "hi"))])
    newest, newest_chat = friends[-1]
    message = await world.send(newest, newest_chat.id, "hello")
    await state._apply_events([message_new(message), message_new(message)])  # a repeat counts once
    assert state.unread_total == 4 == await world.chats.unread_total(ann)

    await open_page(state, f"/chat/{newest_chat.id}")  # reading it takes its message off
    assert state.unread_total == 3
    await run(ChatState.toggle_mute, state)
    assert state.open_muted and [r.muted for r in state._all_rows() if r.id == newest_chat.id] == [True]
    muted_message = await world.send(newest, newest_chat.id, "muted")
    state._attentive = False  # the reader looks elsewhere: it stays unread, but not counted
    await state._apply_events([message_new(muted_message)])
    assert state.unread_total == 3 == await world.chats.unread_total(ann)

    # Read in another tab of mine, in a chat this tab does not list: storage is asked again.
    unlisted = friends[3][1]
    await world.send(friends[3][0], unlisted.id, "elsewhere")
    state._set_rows([r for r in state._all_rows() if r.id != unlisted.id])
    await state._count_unread_elsewhere(await world.store.users.get(ann.id))
    assert state.unread_total == 4
    await world.chats.mark_read(ann, unlisted.id, 1)
    await state._apply_events([chat_read(unlisted.id, ann.id, 1)])
    assert state.unread_total == 3


async def test_notifications_are_offered_for_others_messages_in_chats_not_muted(world):
    ann, bob, cyd = await world.user("ann"), await world.user("bob"), await world.user("cyd")
    with_bob = await world.chats.open_direct(ann, bob.id)
    group = await world.chats.create_group(ann, "Team", [bob.id, cyd.id])
    state = world.tab(ann, f"/chat/{group.id}")
    await open_page(state)

    from_bob = await world.send(bob, with_bob.id, "ping")
    await state._apply_events([message_new(from_bob)])
    assert state.notify == {"key": from_bob.id, "chat": with_bob.id, "title": "bob", "body": "ping"}

    # The open chat, read at the bottom of a visible tab: shown read, nothing to notify.
    seen = await world.send(cyd, group.id, "here?")
    await state._apply_events([message_new(seen)])
    assert state.notify["key"] == from_bob.id
    await run(ChatState.set_attentive, state, False)  # the tab went to the background

    in_group = await world.send(cyd, group.id, "standup?")
    await state._apply_events([message_new(in_group)])
    assert state.notify["title"] == "Team" and state.notify["body"] == "cyd: standup?"

    mine = await world.send(ann, group.id, "on my way")  # from another tab of mine
    await state._apply_events([message_new(mine)])
    assert state.notify["key"] == in_group.id

    await run(ChatState.toggle_mute, state)  # the group is open: mute it
    quiet = await world.send(cyd, group.id, "muted now")
    await state._apply_events([message_new(quiet)])
    assert state.notify["key"] == in_group.id
    assert (await world.chats.summary_of(ann, group.id)).muted


async def test_a_mention_marks_the_row_until_read_and_the_notification_says_so(world):
    ann, bob, cyd = await world.user("ann"), await world.user("bob"), await world.user("cyd")
    group = await world.chats.create_group(bob, "Team", [ann.id, cyd.id])
    state = world.tab(ann)
    await open_page(state)
    named = await world.send(bob, group.id, "@Ann can you check?")
    await state._apply_events([message_new(named)])
    assert named.mention_ids == (ann.id,)
    assert [(r.mentioned, r.badge) for r in state._all_rows()] == [(True, "1")]
    assert state.notify["body"] == "bob mentioned you: @Ann can you check?"
    other = await world.send(cyd, group.id, "@bob too")
    await state._apply_events([message_new(other)])
    assert state._all_rows()[0].mentioned and state.notify["body"] == "@bob too"  # not me

    reloaded = world.tab(ann, tab_id="tab-2")
    await open_page(reloaded)
    assert reloaded._all_rows()[0].mentioned  # kept in storage
    await open_page(state, f"/chat/{group.id}")
    assert not state._all_rows()[0].mentioned and state._all_rows()[0].badge == ""
    assert json.loads(state.mention_names) == ["bob", "cyd"]


async def test_edits_and_deletions_show_live_and_after_a_catch_up(world):
    from chat_web.domain.events import message_deleted, message_edited

    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    sent = [await world.send(ann, chat.id, f"m{n}") for n in range(3)]
    reader = world.tab(bob, f"/chat/{chat.id}")
    await open_page(reader)
    writer = world.tab(ann, f"/chat/{chat.id}", tab_id="tab-ann")
    await open_page(writer)

    # Ann edits from her tab: her rows change at once, Bob's when the event comes.
    await run(ComposerState.start_edit, composer(writer), 1)
    assert (composer(writer).editing_seq, composer(writer).editing_text) == (1, "m0")
    await run(ComposerState.save_edit, composer(writer), {"text": "m0, fixed"})
    assert composer(writer).editing_seq == 0 and (writer._window()[0].text, writer._window()[0].edited) == (
        "m0, fixed",
        True,
    )
    edited = await world.store.messages.get(chat.id, sent[0].id)
    await reader._apply_events([message_edited(edited)])
    assert [(r.text, r.edited) for r in reader._window()] == [
        ("m0, fixed", True),
        ("m1", False),
        ("m2", False),
    ]

    # Deleting the latest message turns it into a tombstone and the chat's preview follows.
    await run(ComposerState.ask_delete, composer(writer), 3)
    await run(ComposerState.confirm_delete, composer(writer))
    assert writer._window()[2].deleted and writer._all_rows()[0].preview == "Message deleted"

    # Bob missed that event: the next one (or a reconnect) finds the gap and catches up.
    gone_too = await world.chats.delete_message(ann, chat.id, sent[1].id)
    await reader._apply_events([message_deleted(gone_too)])
    assert [(r.text, r.deleted) for r in reader._window()] == [("m0, fixed", False), ("", True), ("", True)]
    assert reader._all_rows()[0].preview == "Message deleted"

    # Bob cannot edit or delete Ann's messages; a deleted one cannot be edited.
    await run(ComposerState.start_edit, composer(reader), 1)
    await run(ComposerState.ask_delete, composer(reader), 1)
    assert composer(reader).editing_seq == 0 and composer(reader).deleting_seq == 0
    await writer._apply_events([message_deleted(gone_too)])  # from her other device
    await run(ComposerState.start_edit, composer(writer), 2)
    assert composer(writer).editing_seq == 0


async def test_an_edit_refused_keeps_the_text_in_the_box(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(ann, chat.id, "first")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await run(ComposerState.start_edit, composer(state), 1)
    nonce = composer(state).editing_nonce
    world.clock.advance(minutes=16)
    await run(ComposerState.save_edit, composer(state), {"text": "too late"})
    assert (
        composer(state).editing_seq == 1
        and composer(state).editing_text == "too late"
        and composer(state).editing_nonce != nonce
    )
    assert state._window()[0].text == "first"
    await run(ComposerState.cancel_edit, composer(state))
    assert composer(state).editing_seq == 0


async def test_reactions_show_as_chips_with_who_and_mine(world):
    from chat_web.domain.events import message_reacted

    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    sent = await world.send(ann, chat.id, "cake?")
    ann_tab = world.tab(ann, f"/chat/{chat.id}")
    await open_page(ann_tab)
    bob_tab = world.tab(bob, f"/chat/{chat.id}", tab_id="tab-bob")
    await open_page(bob_tab)
    await run(ChatState.react, bob_tab, 1, "❤️")
    assert [(c.emoji, c.count, c.mine, c.who) for c in bob_tab._window()[0].reactions] == [
        ("❤️", 1, True, "bob")
    ]
    reacted = await world.store.messages.get(chat.id, sent.id)
    await ann_tab._apply_events([message_reacted(reacted)])
    assert [(c.emoji, c.count, c.mine, c.who) for c in ann_tab._window()[0].reactions] == [
        ("❤️", 1, False, "bob")
    ]
    await run(ChatState.react, ann_tab, 1, "❤️")
    assert [(c.count, c.mine, c.who) for c in ann_tab._window()[0].reactions] == [(2, True, "bob, ann")]


async def test_a_reply_shows_its_quote_and_a_click_pages_back_to_the_original(world):
    from chat_web.domain.events import message_deleted

    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    first = await world.send(ann, chat.id, "the very first")
    for n in range(80):
        await world.send(bob, chat.id, f"m{n}")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await run(ComposerState.start_reply, composer(state), 81)
    assert (composer(state).replying_seq, composer(state).replying_sender, composer(state).replying_text) == (
        81,
        "bob",
        "m79",
    )
    sent, _ = await world.chats.send_text(ann, chat.id, "sure", "s1", reply_to=composer(state).replying_seq)
    await state._apply_events([message_new(sent)])
    mine = shown(state)[-1]
    assert (mine.seq, mine.reply_seq, mine.reply_sender, mine.reply_text) == (82, 81, "bob", "m79")

    reply, _ = await world.chats.send_text(bob, chat.id, "remember this?", "r1", reply_to=1)
    await state._apply_events([message_new(reply)])
    row = shown(state)[-1]
    assert (row.reply_seq, row.reply_sender, row.reply_text) == (1, "You", "the very first")
    assert state._held_row(1) is None  # far above the window
    await run(ChatState.jump_to, state, 1)
    assert state._held_row(1) is not None and state.focus.startswith("1:")
    assert texts(state)[0] == "the very first"

    gone = await world.chats.delete_message(ann, chat.id, first.id)
    await state._apply_events([message_deleted(gone)])
    assert shown(state)[-1].reply_text == "Message deleted"


async def test_an_image_arrives_live_with_a_thumbnail_sized_before_it_loads(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    sent, _ = await world.chats.send_image(bob, chat.id, images.encoded("JPEG", (1600, 1000)), "look", "i1")
    await state._apply_events([message_new(sent)])  # through the wire JSON, as the hub delivers it
    (row,) = screen(state)
    assert row.text == "look"
    assert row.image == sent.image.url and row.thumb == sent.image.url + "/thumb"
    assert (row.thumb_w, row.thumb_h) == (320, 200)
    assert state._all_rows()[0].preview == "📷 Image"
    # Reopened from storage, the row is the same.
    await open_page(state, "/chat")
    await open_page(state, f"/chat/{chat.id}")
    assert screen(state)[0] == row


async def test_a_refused_upload_becomes_a_toast_and_nothing_else(world):
    ann = await world.user("ann")
    state = world.tab(ann)
    toast = ComposerState.not_sent.fn(composer(state), "That file is not an image")
    assert "That file is not an image" in str(toast)
    assert ComposerState.not_sent.fn(composer(state), "") is None
    assert ComposerState.not_sent.fn(composer(state), None) is None


async def test_a_search_result_opens_its_chat_at_the_message_and_pages_both_ways(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for n in range(1, 301):
        await world.send(bob, chat.id, f"m{n}")
    state = world.tab(ann)
    await open_page(state)
    redirect = await run(ChatState.open_at, state, chat.id, 100)
    assert redirect is not None and state.open_id == chat.id
    assert state.focus.startswith("100:")
    held = [row.seq for row in screen(state)]
    assert 100 in held and held == list(range(held[0], held[-1] + 1))
    assert held[0] < 100 < held[-1] and state.has_older and state.newer_waiting
    assert state._all_rows()[0].badge == "99+"  # looking at an old message reads nothing

    # A live message while the window stops short of the end waits (scrolling down fetches it).
    late = await world.send(bob, chat.id, "m301")
    await state._apply_events([message_new(late)])
    assert "m301" not in texts(state)

    pages = 0
    while state.newer_waiting:
        await run(ChatState.load_newer, state)
        pages += 1
        seqs = [row.seq for row in screen(state)]
        assert len(seqs) <= WINDOW_HARD and seqs == list(range(seqs[0], seqs[-1] + 1))
    assert texts(state)[-1] == "m301" and pages >= 3
    assert state.has_older  # what scrolled away at the top pages back in
    await run(ChatState.load_older, state)
    seqs = [row.seq for row in screen(state)]
    assert seqs == list(range(seqs[0], 302))

    # At the live end again, live messages arrive as usual.
    newest = await world.send(bob, chat.id, "m302")
    await state._apply_events([message_new(newest)])
    assert texts(state)[-1] == "m302"


async def test_opening_at_a_message_of_a_chat_i_am_not_in_is_refused(world):
    ann, bob, cy = await world.user("ann"), await world.user("bob"), await world.user("cy")
    theirs = await world.chats.open_direct(bob, cy.id)
    await world.send(bob, theirs.id, "private")
    state = world.tab(ann)
    await open_page(state)
    await run(ChatState.open_at, state, theirs.id, 1)
    assert state.open_id == "" and screen(state) == []


async def test_my_send_from_far_up_the_history_waits_below_until_the_page_jumps_to_it(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for n in range(1, 101):
        await world.send(bob, chat.id, f"m{n}")
    state = world.tab(ann)
    await open_page(state)
    await run(ChatState.open_at, state, chat.id, 10)
    await open_page(state, f"/chat/{chat.id}")
    assert state.newer_waiting
    await state._apply_events([message_new(await world.send(ann, chat.id, "answer"))])
    assert state.newer_waiting and "answer" not in texts(state)  # it waits below, with the rest
    await run(ChatState.jump_to_latest, state)  # what the page script asks after a send from up there
    assert not state.newer_waiting and texts(state)[-1] == "answer" and "m100" in texts(state)


def search_tab(world, user):
    from chat_web.state.search import MessageSearchState

    chat_state = world.tab(user)
    session = session_of(chat_state)
    return session.substates[MessageSearchState.get_name()], chat_state


async def test_the_sidebar_finds_messages_newest_first_and_loads_more(world):
    from chat_web.state.search import SEARCH_PAGE, MessageSearchState

    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for n in range(SEARCH_PAGE + 5):
        await world.send(bob, chat.id, f"report <i>{n}</i> done")
    await world.send(ann, chat.id, "my report")
    search, _ = search_tab(world, ann)
    await run(MessageSearchState.set_mode, search, "messages")
    await run(MessageSearchState.search, search, "REPORT")
    first = search.results[0]
    assert first.title == "bob" and first.seq == SEARCH_PAGE + 6
    assert [(p.text, p.hit) for p in first.pieces] == [("You: ", False), ("my ", False), ("report", True)]
    assert len(search.results) == SEARCH_PAGE and search.cursor
    await run(MessageSearchState.load_more, search)
    assert len(search.results) == SEARCH_PAGE + 6 and search.cursor == ""
    assert [r.seq for r in search.results] == list(range(SEARCH_PAGE + 6, 0, -1))
    assert search.results[-1].pieces[1].text == " <i>0</i> done"  # shown as text
    await run(MessageSearchState.search, search, "nothing here at all")
    assert search.results == [] and search.searched
    await run(MessageSearchState.set_mode, search, "people")
    assert search.query == "" and search.results == []
