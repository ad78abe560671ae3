"""Where a subscription may point: in production only at a browser's push service (the server
POSTs to it, so any other address would let a signed-in user aim it at ours)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from chat_web.adapters.storage.memory_push import InMemoryPushRepo
from chat_web.config import Settings
from chat_web.domain import BadInput, User
from chat_web.services.push_subscriptions import PushSubscriptions

ADA = User("a" * 32, "ada@example.com", "Ada", datetime(2026, 1, 1, tzinfo=UTC))
P256 = base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).decode().rstrip("=")
AUTH = base64.urlsafe_b64encode(b"\x02" * 16).decode().rstrip("=")


class Clock:
    def now(self) -> datetime:
        return datetime(2026, 12, 6, tzinfo=UTC)


def production_hosts() -> tuple[str, ...]:
    settings = Settings(_env_file=None, REFLEX_ENV_MODE="prod", push_enabled=False)
    hosts = settings.push_hosts
    assert hosts is not None
    return hosts


def subscriptions(hosts) -> PushSubscriptions:
    return PushSubscriptions(InMemoryPushRepo(), Clock(), "public-key", allow_http=False, hosts=hosts)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGuQ",
        "https://wns2-par02p.notify.windows.com/w/?token=x",
        "https://FCM.googleapis.com./fcm/send/upper-and-trailing-dot",
    ],
)
async def test_the_browsers_push_services_are_accepted(endpoint):
    stored = await subscriptions(production_hosts()).subscribe(ADA, endpoint, P256, AUTH)
    assert stored.endpoint == endpoint


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push",  # the server itself
        "https://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "https://redis.internal:6379/",
        "https://fcm.googleapis.com.evil.example/fcm/send/x",  # a lookalike suffix
        "https://evilfcm.googleapis.com.example/x",
        "https://notfcm.googleapis.co/x",
        "http://fcm.googleapis.com/fcm/send/x",  # not https
    ],
)
async def test_any_other_address_is_refused_in_production(endpoint):
    with pytest.raises(BadInput):
        await subscriptions(production_hosts()).subscribe(ADA, endpoint, P256, AUTH)


async def test_development_takes_a_local_stand_in():
    dev = Settings(_env_file=None, REFLEX_ENV_MODE="dev")
    assert dev.push_hosts is None
    local = PushSubscriptions(InMemoryPushRepo(), Clock(), "k", allow_http=True, hosts=dev.push_hosts)
    assert (await local.subscribe(ADA, "http://127.0.0.1:8123/push/1", P256, AUTH)).endpoint.endswith(
        "/push/1"
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/a\x00b",
        "https://fcm.googleapis.com/fcm/send/a b",
        "https://x.example/\x7f",
    ],
)
async def test_an_endpoint_with_a_nul_space_or_control_character_is_refused(endpoint):
    with pytest.raises(BadInput):
        await subscriptions(None).subscribe(ADA, endpoint, P256, AUTH)


async def test_unsubscribing_an_endpoint_no_store_could_keep_changes_nothing():
    service = subscriptions(None)
    kept = await service.subscribe(ADA, "https://fcm.googleapis.com/fcm/send/abc", P256, AUTH)
    assert await service.unsubscribe(ADA, "f\u00ee\u00b7\x00&\u00d4") is False  # the fuzzer's 500, before
    assert await service.unsubscribe(ADA, kept.endpoint) is True


@pytest.mark.parametrize("bad", [P256 + "\x00", P256[:-1] + "*" + P256[-1], P256 + " "])
async def test_a_key_with_characters_outside_base64url_is_refused_not_skipped(bad):
    with pytest.raises(BadInput, match="base64url"):
        await subscriptions(None).subscribe(ADA, "https://fcm.googleapis.com/fcm/send/abc", bad, AUTH)
