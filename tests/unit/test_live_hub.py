"""The live hub over in-memory adapters: routing to tabs, tab liveness, presence, resync."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import NewMessage, ServiceUnavailable
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
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    for who in (ann, bob):  # an exchange: each sees the other's presence
        await store.messages.send(NewMessage(chat.id, who.id, "text", text="hi"))
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
    assert (await presence.status(bob.id, [ann.id])).online == {ann.id}

    tabs.connected_tabs.discard("a1")
    left_at = clock.now()
    await hub.sweep()
    assert hub.user_of("a1") is None
    clock.advance(seconds=5)
    await hub.sweep()
    assert (await presence.status(bob.id, [ann.id])).online == {ann.id}  # within the grace: still online
    clock.advance(seconds=6)
    await hub.sweep()
    await settle_loop()
    status = await presence.status(bob.id, [ann.id])
    assert status.online == set() and status.last_seen == {ann.id: left_at}
    offline = [e for e in tabs.got["b1"] if e["type"] == "presence" and not e["online"]]
    assert offline == [{"type": "presence", "userId": ann.id, "online": False, "lastSeen": _iso(left_at)}]


async def test_an_api_user_stays_online_until_their_last_stream_leaves(world, clock):
    hub, tabs, fanout, presence, ann, bob = world
    await hub.hold_presence("s1", ann.id)
    await hub.hold_presence("s2", ann.id)
    await hub.release_presence("s1")
    clock.advance(seconds=60)
    await hub.sweep()
    assert (await presence.status(bob.id, [ann.id])).online == {ann.id}  # s2 still holds her
    await hub.release_presence("s2")
    await hub.release_presence("s2")  # twice: nothing more happens
    clock.advance(seconds=11)
    await hub.sweep()
    assert (await presence.status(bob.id, [ann.id])).online == set()


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
    assert (await presence.status(bob.id, [ann.id])).online == {ann.id}
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
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600, resync_spread=0)
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


async def test_a_tabs_own_read_coming_back_does_not_wake_it_but_reaches_its_other_tabs(world):
    from chat_web.services.live import read_echo

    hub, tabs, fanout, _, ann, _ = world
    tabs.open("a1", "a2")
    await hub.attach("a1", ann.id)
    await hub.attach("a2", ann.id)
    await settle_loop()
    tabs.got.clear()
    hub.expect_echo("a1", read_echo("c1", ann.id, 7))
    # My send comes back to every tab of mine: the page shows its stored row from it.
    sent = {"type": "message.new", "chatId": "c1", "message": {"senderId": ann.id, "clientId": "cid-1"}}
    read = {"type": "chat.read", "chatId": "c1", "userId": ann.id, "seq": 7}
    for event in (sent, read, read):
        await fanout.publish(user_topic(ann.id), event)
    await settle_loop()
    assert tabs.got["a1"] == [sent, read]  # the same read again is news: an echo counts once
    assert tabs.got["a2"] == [sent, read, read]


async def wait_until(condition, rounds=2000):
    """Run the loop until `condition()` holds (no clock involved: the hub's tasks just run)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def resyncs(tabs, tab):
    return sum(1 for e in tabs.got.get(tab, []) if e["type"] == "resync")


async def test_a_tab_too_far_behind_gets_a_resync_instead_of_an_endless_backlog(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600, queue_max=10, resync_spread=0)
    tabs.open("a1")
    try:
        await hub.attach("a1", "ann")
        release = asyncio.Event()
        original = tabs.deliver

        async def stuck_deliver(tab, user_id, events):
            await release.wait()  # a tab whose state is busy for a long while
            return await original(tab, user_id, events)

        tabs.deliver = stuck_deliver
        for n in range(100):
            await fanout.publish(user_topic("ann"), {"type": "message.new", "n": n})
            await settle_loop()
        release.set()
        await wait_until(lambda: resyncs(tabs, "a1") == 1)
        await settle_loop()
        delivered = [e["n"] for e in tabs.got["a1"] if e["type"] == "message.new"]
        assert len(delivered) <= 1 + 10  # the one in hand, then at most a queue's worth
        assert delivered[-1] == 99  # what came after the resync point still arrives
    finally:
        await hub.close()


class FailingTabs(Tabs):
    """Delivery to the tabs in `failing` raises (a state lock timed out, say), `times` times."""

    def __init__(self, failing, times=1):
        super().__init__()
        self.failing = set(failing)
        self.times = times

    async def deliver(self, tab, user_id, events):
        if tab in self.failing and self.times:
            self.times -= 1
            raise TimeoutError("state lock not acquired")
        return await super().deliver(tab, user_id, events)


async def test_a_tab_whose_delivery_failed_is_told_to_resync(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = FailingTabs({"a1"})
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600, resync_spread=0)
    tabs.open("a1", "a2")
    try:
        await hub.attach("a1", "ann")
        await hub.attach("a2", "ann")
        await fanout.publish(user_topic("ann"), {"type": "message.new", "n": 1})
        await wait_until(lambda: resyncs(tabs, "a1") == 1)
        await settle_loop()
        assert tabs.got["a1"] == [{"type": "resync"}]  # the event it missed: storage has it
        assert tabs.got["a2"] == [{"type": "message.new", "n": 1}]  # the other tab: as usual
    finally:
        await hub.close()


async def test_a_tab_whose_saved_state_fell_behind_is_told_to_resync(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600, resync_spread=0)
    tabs.open("a1", "a2")
    try:
        await hub.attach("a1", "ann")
        await hub.attach("a2", "ann")
        hub.resync_tab("a1")
        hub.resync_tab("nobody's")  # gone meanwhile: nothing to do
        await wait_until(lambda: resyncs(tabs, "a1") == 1)
        await settle_loop()
        assert tabs.got == {"a1": [{"type": "resync"}]}  # that tab only, once
    finally:
        await hub.close()


class SlowPresence(InMemoryPresence):
    """Touching a lease takes a round trip, as it does in Redis; records every lease touched."""

    def __init__(self):
        super().__init__()
        self.touched = []

    async def touch(self, leases, until, now):
        await asyncio.sleep(0)
        self.touched.extend(leases)
        return await super().touch(leases, until, now)


async def test_a_tab_dropped_while_delivering_to_it_still_has_its_lease_renewed(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    leases = SlowPresence()
    presence = PresenceService(leases, store.chats, fanout, clock)
    tabs = Tabs()

    async def signed_out(tab, user_id, events):
        return False  # another account in this tab now

    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600)
    tabs.open("a1")
    try:
        await hub.attach("a1", "ann")
        following = hub._streams["ann"].task
        tabs.deliver = signed_out
        leases.touched.clear()
        await fanout.publish(user_topic("ann"), {"type": "chat.changed"})
        await asyncio.wait([following], timeout=5)
        assert hub.user_of("a1") is None
        assert following.done() and not following.cancelled()  # it ended by itself
        assert leases.touched == [("ann", "a1")]  # the detach's renewal was not cut off
    finally:
        await hub.close()


async def test_resyncs_after_a_fan_out_reconnect_are_spread_over_the_window(clock):
    import random

    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    pauses = []
    go = asyncio.Event()

    async def pause(seconds):
        pauses.append(seconds)
        await go.wait()

    users = [f"u{i}" for i in range(20)]
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600, rng=random.Random(17), pause=pause)
    try:
        for user in users:
            tabs.open(f"{user}-tab")
            await hub.attach(f"{user}-tab", user)
        # What the fan-out does when its connection is back: every reader hears "resync".
        for user in users:
            await fanout.publish(user_topic(user), {"type": "resync"})
        await wait_until(lambda: len(pauses) == len(users))
        assert not any(resyncs(tabs, f"{user}-tab") for user in users)  # nobody at once
        assert all(0 <= p <= 2.0 for p in pauses)
        assert max(pauses) - min(pauses) > 1.0  # spread over the window, not bunched
        go.set()
        await wait_until(lambda: all(resyncs(tabs, f"{user}-tab") == 1 for user in users))
    finally:
        await hub.close()


async def test_no_presence_without_an_exchange_nor_across_a_block(clock):
    store = InMemoryStore(clock)
    fanout = InProcessFanOut()
    presence = PresenceService(InMemoryPresence(), store.chats, fanout, clock)
    tabs = Tabs()
    hub = LiveHub(fanout, presence, clock, tabs, sweep_every=3600)
    ann, bob, cat = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "cat")]
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)  # bob opened it: no message
    await store.messages.send(NewMessage(chat.id, bob.id, "text", text="hello?"))  # one side only
    try:
        tabs.open("a1", "b1")
        await hub.attach("b1", bob.id)
        await hub.attach("a1", ann.id)
        await settle_loop()
        assert not [e for e in tabs.got.get("b1", []) if e["type"] == "presence"]
        status = await presence.status(bob.id, [ann.id])
        assert status.online == set() and status.last_seen == {}
        await store.messages.send(NewMessage(chat.id, ann.id, "text", text="hi bob"))
        assert (await presence.status(bob.id, [ann.id])).online == {ann.id}  # now they exchanged
        await store.chats.create_group(cat.id, "Team", [ann.id, bob.id])
        assert (await presence.status(cat.id, [ann.id, bob.id])).online == {ann.id, bob.id}  # groups share
        await store.users.block(ann.id, bob.id, clock.now())
        assert (await presence.status(bob.id, [ann.id])).online == set()  # even in a shared group
        assert (await presence.status(ann.id, [bob.id])).online == set()  # either way
        tabs.connected_tabs.discard("a1")
        await hub.sweep()
        clock.advance(seconds=11)
        await hub.sweep()
        await settle_loop()
        assert not [e for e in tabs.got.get("b1", []) if e["type"] == "presence"]
        assert (await presence.status(bob.id, [ann.id])).last_seen == {}
        assert ann.id in (await presence.status(cat.id, [ann.id])).last_seen
    finally:
        await hub.close()
