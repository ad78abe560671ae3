"""Composition root: Settings -> adapters -> services. Built once per process by the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.clock import SystemClock
from chat_web.adapters.exports.local import LocalExportArchives
from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.mail.delivery import sender_for
from chat_web.adapters.mail.inprocess import InProcessMailQueue
from chat_web.adapters.presence.memory import InMemoryPresence
from chat_web.adapters.probes import Probe, database_probe, rabbitmq_probe, redis_probe
from chat_web.config import Settings
from chat_web.domain import ServiceUnavailable
from chat_web.metrics.gauges import count_tabs_with
from chat_web.metrics.ports import CountedMail, CountedMessages
from chat_web.ports import Clock, FanOut, MailQueue, MediaStore, PresenceStore, PushQueue, Store, TabGateway
from chat_web.services.accounts import AccountService
from chat_web.services.announcer import Announcer
from chat_web.services.auth import AuthService, OtpPolicy
from chat_web.services.chats import ChatService
from chat_web.services.exports import ExportService
from chat_web.services.limits import AbuseLimits, Limit, LimitGate, TabLimits
from chat_web.services.live import LiveHub
from chat_web.services.media import MediaService
from chat_web.services.presence import PresenceService
from chat_web.services.push import PushNotifier
from chat_web.services.push_delivery import PushDelivery
from chat_web.services.push_subscriptions import PushSubscriptions
from chat_web.services.sessions import SessionCache
from chat_web.services.stream import EventStreams
from chat_web.services.sync import SyncService
from chat_web.services.tokens import TokenService

log = logging.getLogger("chat_web")


@dataclass
class Container:
    settings: Settings
    clock: Clock
    store: Store
    fanout: FanOut
    auth: AuthService
    chats: ChatService
    presence: PresenceService
    live: LiveHub
    streams: EventStreams
    sync: SyncService
    media: MediaService
    # Web Push subscriptions (None: PUSH_ENABLED is off).
    push: PushSubscriptions | None = None
    backends: dict[str, str] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)  # service name -> does it answer now?
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Paging limits of the chat page; None (no limit) in tests that build a Container by hand.
    tab_limits: TabLimits | None = None
    accounts: AccountService | None = None  # None in tests that build a Container by hand
    exports: ExportService | None = None

    async def close(self) -> None:
        await _close_all(self._closers)


async def _close_all(closers: list[Callable[[], Awaitable[None]]]) -> None:
    for closer in reversed(closers):
        with contextlib.suppress(Exception):
            await closer()


async def _redis_client(url: str):
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        # The driver's words (host, port, reason) go to the log; callers read only the name.
        log.warning("REDIS_URL: Redis cannot be reached: %s", exc)
        raise ServiceUnavailable("Redis cannot be reached; try again shortly.") from exc
    return client


MEDIA_URL_PREFIX = "/api/v1/media"  # the local store's images: chat_web/api/media.py serves them


def open_media_store(settings: Settings) -> MediaStore:
    """Cloudinary when CLOUDINARY_URL is set (or the original's three Cloud_* names), else local disk."""
    if settings.cloudinary_url.get_secret_value():
        from chat_web.adapters.media.cloudinary import CloudinaryMediaStore

        return CloudinaryMediaStore(settings.cloudinary_url.get_secret_value())
    from chat_web.adapters.media.local import LocalMediaStore

    return LocalMediaStore(settings.media_folder, MEDIA_URL_PREFIX)


def open_file_store(settings: Settings, media_store: MediaStore):
    """Files and voice recordings stay on local disk, also when images go to Cloudinary: the app
    serves them itself, to the chat's members only (README "Files and voice messages")."""
    from chat_web.adapters.media.local import LocalMediaStore

    if isinstance(media_store, LocalMediaStore):
        return media_store
    return LocalMediaStore(settings.media_folder, MEDIA_URL_PREFIX)


def abuse_limits(settings: Settings) -> AbuseLimits:
    minute, day = timedelta(minutes=1), timedelta(days=1)
    return AbuseLimits(
        codes_per_client=Limit(settings.limit_codes_per_client_per_minute, minute),
        codes_total=Limit(settings.limit_codes_per_minute, minute),
        codes_per_account=Limit(settings.limit_codes_per_account_per_day, day),
        verifies_per_client=Limit(settings.limit_verify_per_client_per_minute, minute),
        messages_burst=Limit(settings.limit_messages_per_10_seconds, timedelta(seconds=10)),
        messages_sustained=Limit(settings.limit_messages_per_hour, timedelta(hours=1)),
        searches=Limit(settings.limit_searches_per_minute, minute),
        typing=Limit(settings.limit_typing_per_minute, minute),
        chats_created=Limit(settings.limit_chats_per_minute, minute),
    )


async def open_store(settings: Settings) -> Store:
    """MongoDB when MONGODB_URI is set, else SQL (DATABASE_URL, or SQLite under DATA_DIR)."""
    if settings.mongodb_uri:
        from chat_web.adapters.storage.mongo import MongoStore

        mongo = MongoStore(settings.mongodb_uri.get_secret_value())
        try:
            await mongo.prepare()
        except BaseException:
            await mongo.close()
            raise
        return mongo
    from chat_web.adapters.storage.sql import SqlDatabase, SqlStore

    db = SqlDatabase(settings.sql_url, settings.db_pool_size)
    try:
        await db.start()
    except BaseException:
        await db.close()
        raise
    return SqlStore(db)


async def build_container(settings: Settings, tabs: TabGateway | None = None) -> Container:
    """`tabs`: how live events reach the browser tabs of this process (the Reflex app's side)."""
    closers: list[Callable[[], Awaitable[None]]] = []
    try:
        return await _build(settings, closers, tabs)
    except BaseException:
        # Whatever was opened before the failure is closed again.
        await _close_all(closers)
        raise


async def _build(
    settings: Settings, closers: list[Callable[[], Awaitable[None]]], tabs: TabGateway | None
) -> Container:
    clock = SystemClock()
    backends: dict[str, str] = {}

    store = await open_store(settings)
    closers.append(store.close)
    backends["storage"] = store.backend
    probes: dict[str, Probe] = {"database": database_probe(store)}

    fanout: FanOut
    presence_store: PresenceStore
    if settings.redis_url:
        from chat_web.adapters.auth.redis import RedisOtpStore, RedisRateLimiter
        from chat_web.adapters.fanout.redis import RedisFanOut
        from chat_web.adapters.presence.redis import RedisPresence

        redis = await _redis_client(settings.redis_url.get_secret_value())
        closers.append(redis.aclose)
        otps, limiter = RedisOtpStore(redis), RedisRateLimiter(redis)
        fanout = RedisFanOut(
            redis, replay_seconds=settings.event_replay_seconds, replay_count=settings.event_replay_max
        )
        presence_store = RedisPresence(redis)
        closers.append(fanout.close)
        backends["otp"] = backends["fan-out"] = backends["presence"] = "redis"
        probes["redis"] = redis_probe(redis)
    else:
        otps, limiter = InMemoryOtpStore(clock), InMemoryRateLimiter(clock)
        fanout = InProcessFanOut(
            replay_seconds=settings.event_replay_seconds, replay_count=settings.event_replay_max
        )
        presence_store = InMemoryPresence()
        backends["otp"] = backends["fan-out"] = backends["presence"] = "in-process"

    mail: MailQueue
    if settings.rabbitmq_url:
        from chat_web.adapters.mail.amqp import AmqpMailQueue

        amqp = AmqpMailQueue(settings.rabbitmq_url.get_secret_value(), settings.mail_queue)
        closers.append(amqp.close)
        if not await asyncio.to_thread(amqp.check):
            # Not fatal: sign-in answers 503 until the broker is back, then recovers by itself.
            log.warning("RABBITMQ_URL: RabbitMQ cannot be reached now; sign-in codes will fail until it is")
        mail = amqp
        backends["mail"] = f"rabbitmq queue {settings.mail_queue}"
        probes["rabbitmq"] = rabbitmq_probe(amqp)
    else:
        mail = InProcessMailQueue(sender_for(settings))
        backends["mail"] = "in-process -> " + ("smtp" if settings.smtp_host else "dev outbox")
        if not settings.smtp_host:
            log.info("no SMTP_HOST: sign-in codes are not mailed; read them at %s", _outbox_address())

    secret = settings.jwt_secret.get_secret_value()
    tokens = TokenService(secret, settings.jwt_lifetime, clock, settings.jwt_issuer, settings.jwt_audience)
    limits = abuse_limits(settings)
    sessions = SessionCache(fanout, clock)  # session checks without storage: see services/sessions.py
    sessions.start()
    closers.append(sessions.close)
    auth = AuthService(
        users=store.users,
        otps=otps,
        limiter=limiter,
        mail=CountedMail(mail),
        tokens=tokens,
        clock=clock,
        # Codes are hashed with a key derived from the JWT secret: one secret to manage.
        hash_key=hashlib.sha256(b"otp:" + secret.encode()).digest(),
        policy=OtpPolicy(
            ttl=settings.otp_ttl,
            resend_after=timedelta(seconds=settings.otp_resend_seconds),
            max_attempts=settings.otp_max_attempts,
        ),
        limits=limits,
        events=fanout,
        sessions=sessions,
    )
    media_store = open_media_store(settings)
    backends["media"] = media_store.backend
    media = MediaService(
        media_store,
        store.chats,
        max_bytes=settings.max_image_bytes,
        workers=settings.image_workers,
        files=open_file_store(settings, media_store),
        max_file_bytes=settings.max_file_bytes,
    )
    messages = CountedMessages(store.messages)
    push, notifier = await _open_push(settings, store, presence_store, clock, closers, backends)
    announcer = Announcer(messages, fanout, clock, on_announced=notifier.notice if notifier else None)
    announcer.start()  # its first sweep announces what a process that died left unannounced
    closers.append(announcer.stop)
    chats = ChatService(
        store.users,
        store.chats,
        messages,
        fanout,
        clock,
        limiter=limiter,
        limits=limits,
        media=media,
        announcer=announcer,
    )
    presence = PresenceService(presence_store, store.chats, fanout, clock)
    live = LiveHub(fanout, presence, clock, tabs)
    closers.append(live.close)
    count_tabs_with(lambda: live.tab_count)
    closers.append(_stop_counting_tabs)
    streams = EventStreams(fanout, live, auth, max_per_user=settings.limit_event_streams_per_user)
    sync = SyncService(store.users, store.chats, store.messages, clock)
    archives = LocalExportArchives(settings.exports_folder)
    exports = ExportService(
        store.users,
        store.chats,
        store.messages,
        media_store,
        archives,
        clock,
        ttl=timedelta(hours=settings.export_ttl_hours),
        files=media.files,
        gate=LimitGate(limiter),
    )
    closers.append(exports.close)
    return Container(
        settings,
        clock,
        store,
        fanout,
        auth,
        chats,
        presence,
        live,
        streams,
        sync,
        media,
        push,
        backends,
        probes,
        closers,
        tab_limits=TabLimits(limiter, Limit(settings.limit_pages_per_second, timedelta(seconds=1))),
        accounts=AccountService(
            auth,
            store,
            fanout,
            LimitGate(limiter),
            media,
            exports=exports,
            resend_after=auth.policy.resend_after,
        ),
        exports=exports,
    )


async def _open_push(
    settings: Settings,
    store: Store,
    presence: PresenceStore,
    clock: Clock,
    closers: list[Callable[[], Awaitable[None]]],
    backends: dict[str, str],
) -> tuple[PushSubscriptions | None, PushNotifier | None]:
    """Web Push: pushes decided here and sent by the send-push workers (RABBITMQ_URL), or
    sent by this process."""
    if not settings.push_enabled:
        backends["push"] = "off"
        return None, None
    from chat_web.adapters.push.keys import vapid_keys

    keys = vapid_keys(settings)
    queue: PushQueue
    if settings.rabbitmq_url:
        from chat_web.adapters.push.amqp import AmqpPushQueue

        amqp = AmqpPushQueue(settings.rabbitmq_url.get_secret_value(), settings.push_queue)
        closers.append(amqp.close)
        queue = amqp
        backends["push"] = f"rabbitmq queue {settings.push_queue}"
    else:
        from chat_web.adapters.mail.topology import RetryPolicy
        from chat_web.adapters.push.inprocess import InProcessPushQueue
        from chat_web.adapters.push.threaded import ThreadedDelivery
        from chat_web.adapters.push.webpush import WebPushSender

        async def delivery_of_its_own():
            # Opened on the push thread's loop: storage connections and an HTTP client of its own.
            own_store = await open_store(settings)
            sender = WebPushSender(keys, settings.vapid_subject)

            async def close() -> None:
                await sender.close()
                await own_store.close()

            return PushDelivery(own_store.push, sender, clock), close

        delivery = ThreadedDelivery()
        closers.append(delivery.close)
        await delivery.open(delivery_of_its_own)
        policy = RetryPolicy(
            settings.push_max_attempts, settings.push_retry_base_seconds, settings.push_retry_max_seconds
        )
        embedded = InProcessPushQueue(delivery, policy)
        closers.append(embedded.close)
        queue = embedded
        backends["push"] = "in-process"
    notifier = PushNotifier(
        store.users,
        store.chats,
        store.push,
        presence,
        queue,
        clock,
        read_delay=timedelta(seconds=settings.push_read_delay_seconds),
    )
    notifier.start()
    closers.append(notifier.stop)
    subscriptions = PushSubscriptions(
        store.push, clock, keys.public, allow_http=settings.is_dev, hosts=settings.push_hosts
    )
    return subscriptions, notifier


async def _stop_counting_tabs() -> None:
    count_tabs_with(None)


_current: Container | None = None
_waiting_for = "The app is still starting; try again in a moment."


def current() -> Container:
    """The running process's container (set by the lifespan)."""
    if _current is None:
        raise ServiceUnavailable(_waiting_for)
    return _current


def _started(container: Container) -> Container:
    global _current
    _current = container
    log.info("chat_web started: %s", ", ".join(f"{k}={v}" for k, v in container.backends.items()))
    return container


def _outbox_address() -> str:
    """Where a newcomer reads the sign-in codes the app did not mail (the /dev/outbox page)."""
    try:
        from reflex_base.config import get_config

        base = get_config().deploy_url or ""
    except Exception:  # noqa: BLE001 - outside a Reflex project (tests): the path alone
        base = ""
    return f"{base.rstrip('/')}/dev/outbox"


def _waiting_message(exc: Exception) -> str:
    """What requests are told while start-up waits: a missing service by name, else no internals."""
    if isinstance(exc, ServiceUnavailable):
        return exc.message
    return "The app cannot start its services yet (the server log says why); it keeps trying."


async def _keep_trying(settings: Settings, every: float, tabs: TabGateway | None) -> None:
    # Whatever fails is tried again: a task that died here would leave the app on 503 for good.
    global _waiting_for
    while True:
        await asyncio.sleep(every)
        try:
            _started(await build_container(settings, tabs))
            return
        except ServiceUnavailable as exc:
            _waiting_for = exc.message
            log.warning("still waiting: %s", exc.message)
        except Exception as exc:  # noqa: BLE001
            _waiting_for = _waiting_message(exc)
            log.exception("start-up failed; trying again in %.0f s", every)


@contextlib.asynccontextmanager
async def running(
    settings: Settings, retry_every: float | None = None, tabs: TabGateway | None = None
) -> AsyncIterator[Container | None]:
    """Build the container for the lifetime of the block.

    Without retry_every a missing service raises. With it (the app's lifespan), start-up
    goes on: every request answers 503 naming the missing service, and the container is
    built as soon as the service answers, with no restart.
    """
    global _current, _waiting_for
    waiting: asyncio.Task | None = None
    try:
        container: Container | None = _started(await build_container(settings, tabs))
    except Exception as exc:
        if retry_every is None:
            log.error("cannot start: %s", _waiting_message(exc))
            raise
        if isinstance(exc, ServiceUnavailable):
            # Not a crash: the app serves 503 naming the service until it answers.
            log.error("waiting: %s (trying again every %.0f s)", exc.message, retry_every)
        else:
            log.error("start-up failed (trying again every %.0f s)", retry_every, exc_info=exc)
        _waiting_for, container = _waiting_message(exc), None
        waiting = asyncio.create_task(_keep_trying(settings, retry_every, tabs), name="wait-for-services")
    try:
        yield container
    finally:
        if waiting is not None:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
        closing, _current = _current, None
        _waiting_for = "The app is still starting; try again in a moment."
        if closing is not None:
            await closing.close()
