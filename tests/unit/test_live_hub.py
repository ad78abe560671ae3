"""The live hub over in-memory adapters: routing to tabs, tab liveness, presence, resync."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import ServiceUnavailable
from chat_web.domain.events import user_topic
from chat_web.services.live import LiveHub
from chat_web.services.presence import PresenceService


class Tabs:
    """A TabGateway that records what each tab was given."""

    def __init__(self):
        self.got: dict[str, list[dict]] = {}
        self.connected_tabs: set[str] = set()
        self.arrived = asyncio.Event()

    async def deliver(self, tab, user_id, events):
        self.got.setdefault(tab, []).extend(events)
        self.arrived.set()
        return True

    def connected(self, tab):
        return tab in self.connected_tabs

    def open(self, *tabs):
        self.connected_tabs.update(tabs)


async def settle_loop():
    """Let queued deliveries run: the hub hands events on in tasks of its own."""
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.fixture
async def world(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600)
    ann = await store.users.get_or_create("ann@example.com", "ann")
    bob = await store.users.get_or_create("bob@example.com", "bob")
    await store.chats.get_or_create_direct(ann.id, bob.id)
    yield hub, tabs, fanout, presence, ann, bob
    await hub.close()


async def test_each_event_reaches_every_tab_of_its_user_only(world):
    hub, tabs, fanout, _, ann, bob = world
    tabs.open("a1", "a2", "b1")
    assert await hub.attach("a1", ann.id) is True
    assert await hub.attach("a1", ann.id) is False  # already followed: nothing to catch up
    await hub.attach("a2", ann.id)
    await hub.attach("b1", bob.id)
    tabs.got.clear()
    await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": 1})
    await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": 2})
    await settle_loop()

    def messages(tab):
        return [e["n"] for e in tabs.got.get(tab, []) if e["type"] == "message.new"]

    assert messages("a1") == messages("a2") == [1, 2]
    assert messages("b1") == []


async def test_a_tab_whose_socket_left_is_dropped_and_its_user_goes_offline_after_the_grace(world, clock):
    hub, tabs, fanout, presence, ann, bob = world
    tabs.open("a1", "b1")
    await hub.attach("b1", bob.id)
    await hub.attach("a1", ann.id)
    # Bob's tab heard that Ann came online.
    await settle_loop()
    assert {"type": "presence", "userId": ann.id, "online": True, "lastSeen": None} in tabs.got["b1"]
    assert (await presence.status([ann.id])).online == {ann.id}

    tabs.connected_tabs.discard("a1")
    left_at = clock.now()
    await hub.sweep()
    assert hub.user_of("a1") is None
    clock.advance(seconds=5)
    await hub.sweep()
    assert (await presence.status([ann.id])).online == {ann.id}  # within the grace: still online
    clock.advance(seconds=6)
    await hub.sweep()
    await settle_loop()
    status = await presence.status([ann.id])
    assert status.online == set() and status.last_seen == {ann.id: left_at}
    offline = [e for e in tabs.got["b1"] if e["type"] == "presence" and not e["online"]]
    assert offline == [{"type": "presence", "userId": ann.id, "online": False, "lastSeen": _iso(left_at)}]


async def test_a_reload_within_the_grace_does_not_go_offline(world, clock):
    hub, tabs, _, presence, ann, bob = world
    tabs.open("a1", "b1")
    await hub.attach("b1", bob.id)
    await hub.attach("a1", ann.id)
    tabs.connected_tabs.discard("a1")
    await hub.sweep()
    clock.advance(seconds=4)
    tabs.open("a1")
    assert await hub.attach("a1", ann.id) is True  # must catch up: it was not followed meanwhile
    clock.advance(seconds=20)
    await hub.sweep()
    await settle_loop()
    assert (await presence.status([ann.id])).online == {ann.id}
    assert not [e for e in tabs.got["b1"] if e["type"] == "presence" and not e["online"]]


class FlakyFanOut(InProcessFanOut):
    """Refuses the first subscriptions, as Redis does while it is down."""

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures

    @contextlib.asynccontextmanager
    async def subscribe(self, *topics):
        if self.failures:
            self.failures -= 1
            raise ServiceUnavailable("Redis cannot be reached")
        async with super().subscribe(*topics) as events:
            yield events


async def test_a_tab_is_told_to_resync_once_the_fan_out_is_back(clock):
    store = InMemoryStore(clock)
    fanout = FlakyFanOut(failures=1)
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600)
    tabs.open("a1")
    try:
        await hub.attach("a1", "ann")  # does not hang while the fan-out is down
        await asyncio.wait_for(tabs.arrived.wait(), 5)
        assert tabs.got["a1"] == [{"type": "resync"}]
        await fanout.publish(user_topic("ann"), {"type": "chat.changed"})
        await settle_loop()
        assert tabs.got["a1"][-1] == {"type": "chat.changed"}
    finally:
        await hub.close()


def _iso(at):
    from chat_web.domain.wire import iso

    return iso(at)


async def test_presence_news_reaches_a_tab_only_about_people_it_shows(world):
    hub, tabs, fanout, _, ann, bob = world
    tabs.open("a1")
    await hub.attach("a1", ann.id)
    hub.watch("a1", [bob.id])
    await fanout.publish(user_topic(ann.id), {"type": "presence", "userId": "stranger", "online": True})
    await fanout.publish(user_topic(ann.id), {"type": "presence", "userId": bob.id, "online": True})
    await fanout.publish(user_topic(ann.id), {"type": "typing", "userId": "stranger", "chatId": "c"})
    await settle_loop()
    got = [(e["type"], e["userId"]) for e in tabs.got["a1"] if e.get("userId") != ann.id]
    assert got == [("presence", bob.id), ("typing", "stranger")]


async def test_events_that_pile_up_during_a_delivery_go_to_a_tab_in_one_update(world):
    hub, tabs, fanout, _, ann, _ = world
    tabs.open("a1")
    await hub.attach("a1", ann.id)
    await settle_loop()
    calls = []
    release = asyncio.Event()
    original = tabs.deliver

    async def slow_deliver(tab, user_id, events):
        calls.append([e.get("n") for e in events])
        if len(calls) == 1:
            await release.wait()  # the tab is busy with the first event
        return await original(tab, user_id, events)

    tabs.deliver = slow_deliver
    for n in range(5):
        await fanout.publish(user_topic(ann.id), {"type": "message.new", "n": n})
        await settle_loop()
    release.set()
    await settle_loop()
    assert calls == [[0], [1, 2, 3, 4]]


async def test_a_tabs_own_send_or_read_coming_back_does_not_wake_it_but_reaches_its_other_tabs(world):
    from chat_web.services.live import message_echo, read_echo

    hub, tabs, fanout, _, ann, _ = world
    tabs.open("a1", "a2")
    await hub.attach("a1", ann.id)
    await hub.attach("a2", ann.id)
    await settle_loop()
    tabs.got.clear()
    hub.expect_echo("a1", message_echo("c1", ann.id, "cid-1"))
    hub.expect_echo("a1", read_echo("c1", ann.id, 7))
    sent = {"type": "message.new", "chatId": "c1", "message": {"senderId": ann.id, "clientId": "cid-1"}}
    read = {"type": "chat.read", "chatId": "c1", "userId": ann.id, "seq": 7}
    for event in (sent, read, sent):
        await fanout.publish(user_topic(ann.id), event)
    await settle_loop()
    assert tabs.got["a1"] == [sent]  # the same send again (a retry) is news: an echo counts once
    assert tabs.got["a2"] == [sent, read, sent]
