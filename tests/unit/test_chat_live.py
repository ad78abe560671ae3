"""A tab's side of live delivery when something fails: a bad event in a batch, a read that
storage does not take. The page stays consistent with storage and says what went wrong."""

from __future__ import annotations

import contextlib

import pytest

from chat_web.domain import ServiceUnavailable
from chat_web.domain.events import message_new, presence, user_typing
from chat_web.state.live import READ_DELAY, READ_RETRIES, ReflexTabs, StaleTab
from tests.support.chat_page import open_page
from tests.unit.test_chat_state import texts


class Namespace:
    """The socket side of the app: records what is sent to each tab outside its events."""

    def __init__(self):
        self.sent = []

    async def emit_update(self, update, token):
        self.sent.append((token, update))


class App:
    """Just what ReflexTabs uses of a Reflex app: one tab's state, and the socket namespace."""

    def __init__(self, state):
        self.state = state
        self.event_namespace = Namespace()

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        yield self.state


def broken(message):
    """A message.new whose payload cannot be read (a bug, or a peer on another version)."""
    event = message_new(message)
    return {**event, "message": {**event["message"], "createdAt": "not a time"}}


async def test_a_failing_event_does_not_drop_the_rest_of_the_batch_and_the_tab_reloads(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    one = await world.send(bob, chat.id, "one")
    assert await state._apply_events([broken(one), user_typing(chat.id, bob.id, "bob")]) is True
    assert state.typing_label == {chat.id: "typing…"}  # the event after the bad one applied
    assert texts(state) == ["one"]  # the bad one's message came from storage


async def test_a_tab_that_cannot_reload_is_reported_behind_after_what_applied_went_out(world, monkeypatch):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    one = await world.send(bob, chat.id, "one")

    async def down(*args, **kwargs):
        raise ServiceUnavailable("The database cannot be reached.")

    monkeypatch.setattr(world.chats, "list_chats", down)
    tabs = ReflexTabs(App(state))
    with pytest.raises(StaleTab):  # the hub resyncs a tab whose delivery raised
        await tabs.deliver("tab-1", ann.id, [broken(one), user_typing(chat.id, bob.id, "bob")])
    assert state.typing_label == {chat.id: "typing…"}


class Pauses:
    def __init__(self):
        self.taken = []

    async def __call__(self, seconds):
        self.taken.append(seconds)


async def deliver_and_store_read(tabs, user, message):
    """A live message in the open chat, then the delayed store of its read, to its end."""
    await tabs.deliver("tab-1", user.id, [message_new(message)])
    for task in list(tabs._tasks):
        await task


async def test_a_read_storage_refuses_is_retried_then_unshown_with_a_toast(world, monkeypatch):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    attempts = []

    async def unavailable(me, chat_id, seq):
        attempts.append(seq)
        raise ServiceUnavailable("The database cannot be reached.")

    monkeypatch.setattr(world.chats, "mark_read", unavailable)
    pauses = Pauses()
    app = App(state)
    tabs = ReflexTabs(app, pause=pauses)
    one = await world.send(bob, chat.id, "one")
    await deliver_and_store_read(tabs, ann, one)

    assert attempts == [1] * (1 + len(READ_RETRIES))
    assert pauses.taken == [READ_DELAY, *READ_RETRIES]
    assert state._all_rows()[0].badge == "1"  # not shown read: storage does not have it
    ((token, update),) = app.event_namespace.sent
    assert token == "tab-1"
    assert "could not be marked as read" in str(update.events) and "toast" in str(update.events)


async def test_a_read_stored_on_a_retry_stays_read_without_a_toast(world, monkeypatch):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    stored = []
    real = world.chats.mark_read

    async def flaky(me, chat_id, seq):
        if not stored:
            stored.append(None)
            raise ServiceUnavailable("The database cannot be reached.")
        stored.append(seq)
        return await real(me, chat_id, seq)

    monkeypatch.setattr(world.chats, "mark_read", flaky)
    app = App(state)
    tabs = ReflexTabs(app, pause=Pauses())
    one = await world.send(bob, chat.id, "one")
    await deliver_and_store_read(tabs, ann, one)

    assert stored == [None, 1]
    assert state._all_rows()[0].badge == ""
    assert app.event_namespace.sent == []


class TreeApp(App):
    """A Reflex app's modify_state as the state managers give it: the tab's root state, from
    which the hub asks for the substate a batch needs."""

    @contextlib.asynccontextmanager
    async def modify_state(self, token):
        root = _root(self.state)
        root._clean()
        for state in _tree(root):
            state._was_touched = False
        yield root


def _root(state):
    while state.parent_state is not None:
        state = state.parent_state
    return state


def _tree(state):
    yield state
    for substate in state.substates.values():
        yield from _tree(substate)


def touched(state) -> set[str]:
    """The page's states an event changed (what the state manager saves), by class name."""
    return {type(s).__name__ for s in _tree(_root(state)) if s._was_touched}


async def test_a_delivery_changes_only_the_states_its_events_are_about(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(bob, chat.id, "first")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    tabs = ReflexTabs(TreeApp(state))

    # Someone typing, coming online or going: the chat list (its parent, the session, is only
    # read), never the open conversation's window or the composer under it.
    await tabs.deliver("tab-1", ann.id, [user_typing(chat.id, bob.id, "bob")])
    assert touched(state) == {"ChatListState"} and state.typing_label == {chat.id: "typing…"}
    await tabs.deliver("tab-1", ann.id, [presence(bob.id, False, "2026-01-01T10:00:00+00:00")])
    assert touched(state) <= {"ChatListState"}

    # A message: the list (its row, the typing it ends) and the window, nothing else.
    second = await world.send(bob, chat.id, "second")
    await tabs.deliver("tab-1", ann.id, [message_new(second)])
    assert touched(state) == {"ChatListState", "ChatState"}
    assert texts(state) == ["first", "second"] and state.typing_label == {}


async def test_a_list_event_that_fails_reloads_the_conversation_too(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    missed = await world.send(bob, chat.id, "sent while the event was lost")
    tabs = ReflexTabs(TreeApp(state))
    bad = {**presence(bob.id, False, "not a time"), "online": False}
    assert await tabs.deliver("tab-1", ann.id, [bad]) is True
    assert texts(state) == ["sent while the event was lost"]  # the reload reached the window
    assert missed.seq == state._last_held()
