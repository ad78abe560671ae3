"""The abuse limits over HTTP: 429 with Retry-After, counted in process or in Redis.

The Redis case runs a throwaway server: the counters of this test (all from 127.0.0.1)
must not fill the shared Redis that other test runs count in.
"""

from __future__ import annotations

import uuid

import pytest

from chat_web.config import Settings
from tests.conftest import need_service
from tests.integration.conftest import new_session, running_api
from tests.support.throwaway import ThrowawayRedis


@pytest.fixture(params=["in-process", "redis"])
async def tight(request, tmp_path):
    """An app whose limits are a few hits each; yields (client, settings)."""
    redis_url, server = "", None
    if request.param == "redis":
        server = ThrowawayRedis()
        need_service("a throwaway Redis", not server.missing(), server.missing())
        redis_url = server.start().url
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        redis_url=redis_url,
        limit_codes_per_client_per_minute=4,
        limit_verify_per_client_per_minute=3,
        limit_messages_per_10_seconds=3,
        limit_searches_per_minute=2,
        limit_chats_per_minute=2,
    )
    try:
        async with running_api(settings) as client:
            yield client, settings
    finally:
        if server is not None:
            server.close()


def assert_429(response, words: str) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["Access-Control-Expose-Headers"] == "Retry-After"  # a page may read it
    assert words in response.json()["detail"]


async def test_codes_and_verify_attempts_per_address(tight):
    client, settings = tight
    ann = await new_session(client, settings, "ann")  # one code and one verify so far
    for _ in range(3):
        email = f"x-{uuid.uuid4().hex[:8]}@example.com"
        assert (await client.post("/login", json={"email": email})).status_code == 200
    assert_429(await client.post("/login", json={"email": "one-more@example.com"}), "your network")
    for _ in range(2):
        guess = {"email": ann["user"]["email"], "otp": "000000", "challenge": "a-guess"}
        wrong = await client.post("/verify", json=guess)
        assert wrong.status_code == 400 and "no tries left" in wrong.json()["detail"]
    guess = {"email": "a@example.com", "otp": "000000", "challenge": "a-guess"}
    assert_429(await client.post("/verify", json=guess), "attempts")


async def test_messages_and_searches_per_user(tight):
    client, settings = tight
    ann = await new_session(client, settings, "ann")
    bob = await new_session(client, settings, "bob")
    chat = await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
    body = {"chatId": chat.json()["chatId"], "text": "hi"}
    for _ in range(3):
        assert (await client.post("/message", json=body, headers=ann["headers"])).status_code == 201
    assert_429(await client.post("/message", json=body, headers=ann["headers"]), "too fast")
    assert (await client.post("/message", json=body, headers=bob["headers"])).status_code == 201
    for _ in range(2):
        assert (await client.get("/user/all?q=b", headers=ann["headers"])).status_code == 200
    assert_429(await client.get("/user/all?q=b", headers=ann["headers"]), "searches")


async def test_new_groups_and_direct_chats_per_user(tight):
    client, settings = tight
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    ids = [bob["user"]["id"], cat["user"]["id"]]
    group = {"title": "spam", "memberIds": ids}
    assert (await client.post("/chat/group", json=group, headers=ann["headers"])).status_code == 201
    direct = await client.post("/chat/new", json={"otherUserId": ids[0]}, headers=ann["headers"])
    assert direct.status_code == 200
    assert_429(await client.post("/chat/group", json=group, headers=ann["headers"]), "conversations")
    other = {"otherUserId": ids[1]}
    assert_429(await client.post("/chat/new", json=other, headers=ann["headers"]), "conversations")
    again = await client.post("/chat/new", json={"otherUserId": ids[0]}, headers=ann["headers"])
    assert again.status_code == 200 and again.json()["chatId"] == direct.json()["chatId"]
