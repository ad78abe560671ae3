"""One push at most once (services/push_delivery.py), the send-push payload, and the VAPID
settings: development keeps its own pair, production refuses to start without one."""

from __future__ import annotations

import json

import pytest

from chat_web.adapters.push.jobs import encode, parse
from chat_web.adapters.push.keys import new_keys, vapid_keys
from chat_web.adapters.storage.memory_push import InMemoryPushRepo
from chat_web.config import ConfigError, Settings
from chat_web.domain.push import (
    PermanentPushError,
    PushJob,
    PushServiceDown,
    PushSubscription,
    TransientPushError,
)
from chat_web.services.push_delivery import Outcome, PushDelivery

JOB = PushJob("m1", "s1", "u1", "https://push.example/s1", "k", "a", {"title": "Ann", "body": "hi"})


class ScriptedSender:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent: list[PushJob] = []

    async def send(self, job: PushJob) -> int:
        self.sent.append(job)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
async def repo(clock):
    repo = InMemoryPushRepo()
    await repo.save(PushSubscription("s1", "u1", JOB.endpoint, "k", "a", clock.now()), keep=5)
    return repo


async def test_a_push_goes_once_however_often_its_job_comes(repo, clock):
    sender = ScriptedSender(201, 201)
    delivery = PushDelivery(repo, sender, clock)
    assert await delivery.deliver(JOB) is Outcome.SENT
    assert await delivery.deliver(JOB) is Outcome.DUPLICATE
    assert len(sender.sent) == 1


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_dropped(repo, clock, status):
    delivery = PushDelivery(repo, ScriptedSender(status), clock)
    assert await delivery.deliver(JOB) is Outcome.GONE
    assert await repo.for_users(["u1"]) == []


@pytest.mark.parametrize("failure", [429, 500, 503, PushServiceDown("connection refused")])
async def test_a_busy_or_unreachable_push_service_is_retried_and_then_sent_once(repo, clock, failure):
    sender = ScriptedSender(failure, 201)
    delivery = PushDelivery(repo, sender, clock)
    with pytest.raises(TransientPushError):
        await delivery.deliver(JOB)
    assert await delivery.deliver(JOB) is Outcome.SENT  # the claim was given back
    assert len(sender.sent) == 2
    assert len(await repo.for_users(["u1"])) == 1


async def test_a_refused_push_is_not_retried(repo, clock):
    sender = ScriptedSender(400)
    delivery = PushDelivery(repo, sender, clock)
    with pytest.raises(PermanentPushError):
        await delivery.deliver(JOB)
    assert await delivery.deliver(JOB) is Outcome.DUPLICATE
    assert len(sender.sent) == 1


def test_jobs_go_through_the_queue_unchanged_and_garbage_is_permanent():
    assert parse(encode(JOB)) == JOB
    with pytest.raises(PermanentPushError):
        parse(b"not json")
    with pytest.raises(PermanentPushError):
        parse(json.dumps({"v": 1, "message_id": "m1"}))


def test_development_makes_a_pair_once_and_keeps_it(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, REFLEX_ENV_MODE="dev")
    first = vapid_keys(settings)
    assert vapid_keys(settings) == first
    assert (tmp_path / "vapid.json").stat().st_mode & 0o077 == 0  # the signing key is private


def test_a_configured_pair_must_belong_together(tmp_path):
    one, other = new_keys(), new_keys()
    settings = Settings(_env_file=None, vapid_private_key=one.private, vapid_public_key=other.public)
    with pytest.raises(ConfigError, match="not one key pair"):
        vapid_keys(settings)
    good = Settings(_env_file=None, vapid_private_key=one.private, vapid_public_key=one.public)
    assert vapid_keys(good) == one


def _production(**env) -> Settings:
    return Settings(_env_file=None, REFLEX_ENV_MODE="prod", jwt_secret="x" * 32, smtp_host="mail", **env)


def test_production_refuses_push_without_keys_and_names_the_settings():
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY"):
        _production().check_production()
    _production(push_enabled=False).check_production()
    keys = new_keys()
    _production(vapid_private_key=keys.private, vapid_public_key=keys.public).check_production()


def test_a_mismatched_pair_stops_the_start_with_one_line():
    one, other = new_keys(), new_keys()
    with pytest.raises(ConfigError, match="VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not one key pair"):
        Settings(_env_file=None, vapid_private_key=one.private, vapid_public_key=other.public).check_push()
    Settings(_env_file=None, vapid_private_key=one.private, vapid_public_key=one.public).check_push()
