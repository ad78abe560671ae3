"""Web Push end to end on the server side: a message goes from a send to a decrypted push at
the stand-in push service (tests/support/push_service.py), embedded (in-process queue) and
through RabbitMQ's send-push with a push worker (mailer/push.py) consuming it."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pika
import pytest

from chat_web import container
from chat_web.adapters.mail.topology import dead_queue, retry_queue
from chat_web.adapters.push.keys import new_keys
from chat_web.config import Settings
from chat_web.domain.sending import Sent
from mailer.push import PushWorker
from tests.conftest import RABBITMQ_URL, need_service, port_open
from tests.integration.conftest import new_session, running_api
from tests.support.push_service import PushService

KEYS = new_keys()


class WorkerThread:
    """`python -m mailer.push`'s worker, in a thread of this process."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="push-worker", daemon=True)
        self.worker: PushWorker | None = None

    def _run(self) -> None:
        self.worker = PushWorker(self._settings)  # its event loop is this thread's
        self._ready.set()
        try:
            self.worker.run()
        finally:
            self.worker.close()

    def start(self) -> WorkerThread:
        self._thread.start()
        assert self._ready.wait(30), "the push worker did not start"
        return self

    def stop(self) -> None:
        self.worker.stop()
        self._thread.join(15)


def _delete_queues(name: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for queue in (name, retry_queue(name), dead_queue(name)):
            channel.queue_delete(queue)
    finally:
        connection.close()


@pytest.fixture
def push_service():
    with PushService(KEYS.public) as service:
        yield service


@pytest.fixture(params=["embedded", "rabbitmq"])
async def app(request, tmp_path):
    """The app's services with push on (a short read delay), and its push worker if any."""
    broker = {}
    if request.param == "rabbitmq":
        need_service("RabbitMQ", port_open("127.0.0.1", 5672), RABBITMQ_URL)
        broker = {"rabbitmq_url": RABBITMQ_URL, "push_queue": f"test-send-push-{uuid.uuid4().hex[:8]}"}
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        REFLEX_ENV_MODE="dev",
        vapid_private_key=KEYS.private,
        vapid_public_key=KEYS.public,
        # Short, and still long enough that a read right after a send lands before it ends.
        push_read_delay_seconds=1.0,
        **broker,
    )
    worker = None
    async with container.running(settings) as running:
        if request.param == "rabbitmq":
            worker = await asyncio.to_thread(WorkerThread(settings).start)
        try:
            yield running
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.stop)
                _delete_queues(settings.push_queue)


async def eventually(check, timeout: float = 10.0):
    """Poll an async condition until it holds (or fail saying so): no fixed sleeps."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


async def arrived(service: PushService, count: int):
    """The pushes so far once `count` arrived (the app runs on this loop: wait in a thread)."""
    return await asyncio.to_thread(service.wait_for, count)


async def people(app, *names):
    return [await app.store.users.get_or_create(f"{n}-{uuid.uuid4().hex[:8]}@example.com", n) for n in names]


async def subscribe(app, service: PushService, user):
    browser = service.browser()
    keys = browser.subscription_json()["keys"]
    await app.push.subscribe(user, browser.endpoint, keys["p256dh"], keys["auth"])
    return browser


def messages_pushed(service: PushService, browser) -> list[str]:
    return [p.payload["messageId"] for p in service.pushes_to(browser)]


async def test_an_offline_reader_gets_a_push_saying_who_which_chat_and_the_first_line(app, push_service):
    ann, bob = await people(app, "Ann", "Bob")
    phone = await subscribe(app, push_service, bob)
    chat = await app.chats.open_direct(ann, bob.id)
    message, _ = await app.chats.send_text(ann, chat.id, "Lunch at one?\nI booked the usual place.")

    (push,) = await arrived(push_service, 1)
    assert push_service.refused == []  # VAPID token and encryption checked by the stand-in
    assert push.token == phone.token
    assert push.payload == {
        "title": "Ann",  # a direct chat is called by the other person's name
        "body": "Lunch at one?",
        "chatId": chat.id,
        "messageId": message.id,
        "tag": f"chat-{chat.id}",
        "url": f"/chat/{chat.id}",
    }


async def test_a_group_push_says_who_wrote_and_that_it_mentions_me(app, push_service):
    ann, bob, cyd = await people(app, "Ann", "Bob", "Cyd")
    bobs, cyds = await subscribe(app, push_service, bob), await subscribe(app, push_service, cyd)
    group = await app.chats.create_group(ann, "Climbing", [bob.id, cyd.id])
    await app.chats.send_text(ann, group.id, "@Bob bring the rope")

    await arrived(push_service, 2)
    (to_bob,), (to_cyd,) = push_service.pushes_to(bobs), push_service.pushes_to(cyds)
    assert (to_bob.payload["title"], to_bob.payload["body"]) == (
        "Climbing",
        "Ann mentioned you: @Bob bring the rope",
    )
    assert (to_cyd.payload["title"], to_cyd.payload["body"]) == ("Climbing", "Ann: @Bob bring the rope")


async def test_muted_chats_and_blocked_senders_push_nothing(app, push_service):
    ann, bob, cyd = await people(app, "Ann", "Bob", "Cyd")
    phone = await subscribe(app, push_service, bob)
    muted = await app.chats.open_direct(ann, bob.id)
    await app.chats.set_muted(bob, muted.id, True)
    group = await app.chats.create_group(cyd, "Trip", [ann.id, bob.id])
    await app.chats.send_text(ann, muted.id, "muted chat")
    await app.chats.block(bob, ann.id)  # Bob blocked Ann: her group messages do not reach his phone
    await app.chats.send_text(ann, group.id, "from someone Bob blocked")
    marker, _ = await app.chats.send_text(cyd, group.id, "from Cyd")  # decided after the two above

    await arrived(push_service, 1)
    assert messages_pushed(push_service, phone) == [marker.id]


async def test_a_message_announced_twice_is_pushed_once(app, push_service):
    ann, bob = await people(app, "Ann", "Bob")
    phone = await subscribe(app, push_service, bob)
    chat = await app.chats.open_direct(ann, bob.id)
    message, _ = await app.chats.send_text(ann, chat.id, "once")
    await arrived(push_service, 1)
    # The sweep (or a retried send) publishes it again: the claim stops the second push.
    again = Sent(message=message, created=False, member_ids=(ann.id, bob.id), announced=False)
    assert await app.chats.announcer.announce(again)
    marker, _ = await app.chats.send_text(ann, chat.id, "then this")

    await arrived(push_service, 2)
    assert messages_pushed(push_service, phone) == [message.id, marker.id]


async def test_a_subscription_the_push_service_calls_gone_is_dropped(app, push_service):
    ann, bob = await people(app, "Ann", "Bob")
    phone = await subscribe(app, push_service, bob)
    phone.status = 410
    chat = await app.chats.open_direct(ann, bob.id)
    await app.chats.send_text(ann, chat.id, "anyone there?")

    await arrived(push_service, 1)

    async def dropped() -> bool:
        return await app.store.push.for_users([bob.id]) == []

    await eventually(dropped)


async def test_a_reader_with_a_tab_open_gets_a_push_only_if_the_tab_did_not_read_it(app, push_service):
    ann, bob = await people(app, "Ann", "Bob")
    phone = await subscribe(app, push_service, bob)
    chat = await app.chats.open_direct(ann, bob.id)
    await app.presence.renew([(bob.id, "bobs-tab")])  # Bob has a tab connected
    read, _ = await app.chats.send_text(ann, chat.id, "read at once")
    await app.chats.mark_read(bob, chat.id, read.seq)  # his tab showed it before the delay ended
    unread, _ = await app.chats.send_text(ann, chat.id, "left unread")

    await arrived(push_service, 1)
    assert messages_pushed(push_service, phone) == [unread.id]


async def test_the_api_gives_the_key_and_turns_a_browser_on_and_off(tmp_path, push_service):
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        REFLEX_ENV_MODE="dev",
        vapid_private_key=KEYS.private,
        vapid_public_key=KEYS.public,
    )
    async with running_api(settings) as client:
        me = await new_session(client, settings, "ann")
        headers = me["headers"]
        key = await client.get("/push/key", headers=headers)
        assert key.status_code == 200 and key.json() == {"publicKey": KEYS.public}
        assert (await client.get("/push/key")).status_code == 401

        browser = push_service.browser()
        body = browser.subscription_json()
        bad_key = {**body, "keys": {**body["keys"], "p256dh": "AAAA"}}
        assert (await client.post("/push/subscription", json=bad_key, headers=headers)).status_code == 422
        not_a_url = {**body, "endpoint": "javascript:alert(1)"}
        assert (await client.post("/push/subscription", json=not_a_url, headers=headers)).status_code == 422
        assert (await client.post("/push/subscription", json=body, headers=headers)).status_code == 204
        store = container.current().store
        (saved,) = await store.push.for_users([me["user"]["id"]])
        assert saved.endpoint == browser.endpoint

        off = await client.request(
            "DELETE", "/push/subscription", json={"endpoint": browser.endpoint}, headers=headers
        )
        assert off.status_code == 204
        assert await store.push.for_users([me["user"]["id"]]) == []
