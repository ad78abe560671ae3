"""Who gets a push and when (services/push.py), over in-memory ports and a fake clock: the
"tab open but not read within the delay" rule without waiting for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import NewMessage
from chat_web.domain.push import PushJob, PushSubscription, subscription_id
from chat_web.services.push import PushNotifier

DELAY = timedelta(seconds=5)


class RecordingQueue:
    def __init__(self) -> None:
        self.jobs: list[PushJob] = []

    async def publish(self, jobs) -> None:
        self.jobs.extend(jobs)


class World:
    def __init__(self, clock):
        self.clock = clock
        self.store = InMemoryStore(clock)
        self.presence = InMemoryPresence()
        self.queue = RecordingQueue()
        self.notifier = PushNotifier(
            self.store.users, self.store.chats, self.store.push, self.presence, self.queue, clock, DELAY
        )

    async def person(self, name: str, subscribed: bool = True):
        user = await self.store.users.get_or_create(f"{name}@example.com", name)
        if subscribed:
            endpoint = f"https://push.example/{name}"
            sub = PushSubscription(subscription_id(endpoint), user.id, endpoint, "k", "a", self.clock.now())
            await self.store.push.save(sub, keep=5)
        return user

    async def send(self, chat, sender, text: str):
        sent = await self.store.messages.send(NewMessage(chat.id, sender.id, "text", text))
        await self.notifier.decide(sent)
        return sent.message

    async def tab_open(self, user) -> None:
        await self.presence.touch(
            [(user.id, "tab")], self.clock.now() + timedelta(minutes=5), self.clock.now()
        )

    def pushed(self) -> list[tuple[str, str]]:
        """(user name in the endpoint, message text) of every push queued so far."""
        return [(j.endpoint.rsplit("/", 1)[-1], j.payload["body"]) for j in self.queue.jobs]


@pytest.fixture
async def world(clock):
    return World(clock)


async def test_no_tab_connected_means_a_push_at_once(world):
    ann, bob = await world.person("ann"), await world.person("bob")
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.send(chat, ann, "hello")
    assert world.pushed() == [("bob", "hello")]  # not to the sender
    assert world.notifier.waiting == 0


async def test_a_connected_tab_that_reads_within_the_delay_means_no_push(world, clock):
    ann, bob = await world.person("ann"), await world.person("bob")
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.tab_open(bob)
    message = await world.send(chat, ann, "seen in the tab")
    assert world.pushed() == [] and world.notifier.waiting == 1

    clock.advance(seconds=4)
    await world.store.chats.mark_read(chat.id, bob.id, message.seq)  # his tab showed it
    clock.advance(seconds=1)
    await world.notifier.check_due()
    assert world.pushed() == [] and world.notifier.waiting == 0


async def test_a_connected_tab_that_does_not_read_it_gets_the_push_when_the_delay_ends(world, clock):
    ann, bob = await world.person("ann"), await world.person("bob")
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.tab_open(bob)
    await world.send(chat, ann, "tab open, not looking")

    clock.advance(seconds=4.9)
    await world.notifier.check_due()
    assert world.pushed() == []  # not yet
    clock.advance(seconds=0.1)
    await world.notifier.check_due()
    assert world.pushed() == [("bob", "tab open, not looking")]


async def test_offline_members_go_at_once_and_online_ones_wait_in_the_same_group(world, clock):
    ann, bob, cyd = await world.person("ann"), await world.person("bob"), await world.person("cyd")
    group = await world.store.chats.create_group(ann.id, "Trip", [ann.id, bob.id, cyd.id])
    await world.tab_open(cyd)
    await world.send(group, ann, "we leave at 8")
    assert world.pushed() == [("bob", "ann: we leave at 8")]
    clock.advance(seconds=5)
    await world.notifier.check_due()
    assert world.pushed() == [("bob", "ann: we leave at 8"), ("cyd", "ann: we leave at 8")]


async def test_muting_during_the_delay_cancels_the_push(world, clock):
    ann, bob = await world.person("ann"), await world.person("bob")
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.tab_open(bob)
    await world.send(chat, ann, "noise")
    await world.store.chats.set_muted(chat.id, bob.id, True)
    clock.advance(seconds=5)
    await world.notifier.check_due()
    assert world.pushed() == []


async def test_people_without_a_subscription_cost_one_lookup_and_get_nothing(world):
    ann, bob = await world.person("ann"), await world.person("bob", subscribed=False)
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.send(chat, ann, "hi")
    assert world.pushed() == [] and world.notifier.waiting == 0


async def test_every_browser_of_the_reader_gets_its_own_push(world):
    ann, bob = await world.person("ann"), await world.person("bob")
    second = PushSubscription(
        subscription_id("https://push.example/bob2"),
        bob.id,
        "https://push.example/bob2",
        "k",
        "a",
        world.clock.now(),
    )
    await world.store.push.save(second, keep=5)
    chat = await world.store.chats.get_or_create_direct(ann.id, bob.id)
    await world.send(chat, ann, "both")
    assert sorted(world.pushed()) == [("bob", "both"), ("bob2", "both")]
    assert {j.message_id for j in world.queue.jobs} == {world.queue.jobs[0].message_id}
