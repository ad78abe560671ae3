"""Deleting an account over the HTTP API, on SQLite, PostgreSQL and the Mongo wire server, with
Redis for codes and limits: confirmed by a mailed code of its own, and afterwards nothing of the
person (email, name, token, message text, images) is in any table, collection or Redis key."""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import inspect, text

from chat_web import container
from tests.conftest import REDIS_URL, need_service, port_open
from tests.integration.conftest import bearer, mailed_code, running_api, settings_for, sign_in
from tests.integration.test_export_api import finished
from tests.integration.test_image_api import stored_files
from tests.support import images, webm
from tests.support.limits import LIFTED_LIMITS
from tests.support.sign_in import code_from_outbox


@pytest.fixture(params=["sqlite", "postgresql", "congodb"])
async def settings(request, tmp_path):
    need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
    # Redis keeps the limits across tests (and this machine's other runs): lifted here.
    lifted = {"redis_url": SecretStr(REDIS_URL), **LIFTED_LIMITS}
    return settings_for(request, request.param, tmp_path).model_copy(update=lifted)


@pytest.fixture
async def client(settings):
    async with running_api(settings) as http:
        yield http


def deletion_code(settings, email: str) -> str:
    return code_from_outbox(settings.outbox_file, email)


async def person(client, settings, label: str) -> dict:
    email = f"{label}-{uuid.uuid4().hex[:12]}@example.com"
    session = await sign_in(client, settings, email)
    return {**session, "email": email, "headers": bearer(session["token"])}


async def say(client, who, chat_id, words, **extra) -> dict:
    body = {"chatId": chat_id, "text": words, "clientId": uuid.uuid4().hex, **extra}
    sent = await client.post("/message", json=body, headers=who["headers"])
    assert sent.status_code == 201, sent.text
    return sent.json()


async def every_stored_value(settings) -> str:
    """Every row of every table (SQL, the search index's included) or every document of every
    collection (Mongo), and every Redis key with its value, as one text to search."""
    parts = []
    store = container.current().store
    if settings.mongodb_uri:
        db = store.db
        for name in await db.list_collection_names():
            parts += [repr(doc) async for doc in db[name].find({})]
    else:
        async with store.db.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            for table in tables:
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()
                parts += [repr(tuple(row)) for row in rows]
    redis = Redis.from_url(REDIS_URL)
    try:
        async for key in redis.scan_iter(count=1000):
            parts.append(repr(key))
            kind = (await redis.type(key)).decode()
            if kind == "string":
                parts.append(repr(await redis.get(key)))
            elif kind == "hash":
                parts.append(repr(await redis.hgetall(key)))
            elif kind == "stream":
                parts.append(repr(await redis.xrange(key)))
    finally:
        await redis.aclose()
    return "\n".join(parts)


async def test_a_deleted_account_leaves_nothing_of_the_person(client, settings):
    ann, bob, cyd = [await person(client, settings, who) for who in ("ann", "bob", "cyd")]
    name = f"Annabel {uuid.uuid4().hex[:8]}"
    assert (await client.post("/update/user", json={"name": name}, headers=ann["headers"])).status_code == 200
    direct = (
        await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
    ).json()["chatId"]
    group_body = {"title": "Trip", "memberIds": [bob["user"]["id"], cyd["user"]["id"]]}
    group = (await client.post("/chat/group", json=group_body, headers=ann["headers"])).json()["id"]
    secrets = [f"zq{uuid.uuid4().hex[:10]}" for _ in range(4)]
    first = await say(client, ann, direct, f"my secret is {secrets[0]}")
    await say(client, bob, direct, "noted, and kept", replyTo=first["seq"])
    await say(client, ann, group, f"@{name.split()[0]} here, {secrets[1]}")
    photo = await client.post(
        "/message",
        data={"chatId": group, "text": secrets[2], "clientId": uuid.uuid4().hex},
        files={"image": ("p.jpg", images.encoded("JPEG", (64, 64)), "image/jpeg")},
        headers=ann["headers"],
    )
    assert photo.status_code == 201, photo.text
    image_url = photo.json()["image"]["url"]
    # A file whose name is a secret too, and a voice message: both go with her.
    sent_file = await client.post(
        "/message",
        data={"chatId": direct, "clientId": uuid.uuid4().hex},
        files={"file": (f"{secrets[3]}.txt", b"plans", "text/plain")},
        headers=ann["headers"],
    )
    voice = await client.post(
        "/message",
        data={"chatId": group, "clientId": uuid.uuid4().hex},
        files={"voice": ("v.webm", webm.RECORDED, "audio/webm")},
        headers=ann["headers"],
    )
    assert sent_file.status_code == 201 and voice.status_code == 201, (sent_file.text, voice.text)
    assert stored_files(settings)  # the photo and its thumbnail, the file, the recording
    reaction = {"emoji": "👍"}
    await client.post(f"/message/{direct}/{first['id']}/reactions", json=reaction, headers=bob["headers"])
    await client.post(f"/users/{cyd['user']['id']}/block", headers=ann["headers"])
    await client.get("/chat/all", headers=ann["headers"])  # the session check caches her row

    endpoint = f"http://127.0.0.1:9/push/{uuid.uuid4().hex}"  # nothing listens: pushes fail, and stay ours
    keys = {"p256dh": "BA" + "AQ" * 42 + "A", "auth": "AgICAgICAgICAgICAgICAg"}
    subscribed = await client.post(
        "/push/subscription", json={"endpoint": endpoint, "keys": keys}, headers=ann["headers"]
    )
    assert subscribed.status_code == 204, subscribed.text
    export_id = (await client.post("/me/export", headers=ann["headers"])).json()["id"]
    assert (await finished(client, ann, export_id))["status"] == "ready"  # a zip with her email in it

    asked = await client.post("/me/delete-code", headers=ann["headers"])
    assert asked.status_code == 202, asked.text
    wrong = "000000" if deletion_code(settings, ann["email"]) != "000000" else "111111"
    refused = await client.post("/me/delete", json={"code": wrong}, headers=ann["headers"])
    assert refused.status_code == 400 and "4 tries left" in refused.json()["detail"]
    assert (await client.get("/me", headers=ann["headers"])).status_code == 200  # nothing happened yet

    deleted = await client.post(
        "/me/delete", json={"code": deletion_code(settings, ann["email"])}, headers=ann["headers"]
    )
    assert deleted.status_code == 204, deleted.text

    assert (await client.get("/me", headers=ann["headers"])).status_code == 401
    history = (await client.get(f"/message/{direct}", headers=bob["headers"])).json()["messages"]
    hers = [m for m in history if m["senderId"] == ann["user"]["id"]]
    assert hers and all(m["deleted"] and m["text"] == "" for m in hers)
    assert [m["text"] for m in history if m["senderId"] == bob["user"]["id"]] == ["noted, and kept"]
    group_history = (await client.get(f"/message/{group}", headers=cyd["headers"])).json()["messages"]
    photos = [m for m in group_history if m["kind"] == "image"]
    assert photos and all(m["deleted"] and m["image"] is None for m in photos)
    chats = {c["id"]: c for c in (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]}
    assert [m["id"] for m in chats[group]["members"]] == [cyd["user"]["id"]]  # she left the group
    assert chats[direct]["members"] == []  # the direct chat stays, with no one to name
    image = await client.get(image_url.removeprefix("/api/v1"), headers=bob["headers"])
    assert image.status_code == 404
    for url in (sent_file.json()["file"]["url"], voice.json()["voice"]["url"]):
        assert (await client.get(url.removeprefix("/api/v1"), headers=bob["headers"])).status_code == 404
    assert stored_files(settings) == []
    assert list(settings.exports_folder.iterdir()) == []  # her data's download went too

    everything = await every_stored_value(settings)
    for trace in [ann["email"], ann["email"].split("@")[0], name, ann["token"], endpoint, *secrets]:
        assert trace not in everything, trace
    # Bob and Cyd are untouched.
    assert bob["email"] in everything and cyd["email"] in everything


async def test_the_deletion_code_is_its_own(client, settings):
    """It never replaces a pending sign-in code, and it signs nobody in; a sign-in code does not
    delete an account."""
    email = f"dee-{uuid.uuid4().hex[:12]}@example.com"
    session = await sign_in(client, settings, email)
    headers = bearer(session["token"])
    # A sign-in code pending for the address (asked from another network: the first sign-in's
    # resend cooldown is per network).
    pending = await container.current().auth.request_code(email, client="10.1.2.3")
    sign_in_code = mailed_code(settings, email)
    assert (await client.post("/me/delete-code", headers=headers)).status_code == 202
    delete_code = deletion_code(settings, email)
    if delete_code == sign_in_code:  # one in a million: the test cannot tell them apart
        pytest.skip("the two codes happen to be equal")
    as_sign_in = {"email": email, "otp": delete_code, "challenge": pending.challenge}
    assert (await client.post("/verify", json=as_sign_in)).status_code == 400
    assert (await client.post("/me/delete", json={"code": sign_in_code}, headers=headers)).status_code == 400
    again = await client.post("/me/delete-code", headers=headers)
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 0
    # The sign-in code still signs in.
    as_sign_in["otp"] = sign_in_code
    assert (await client.post("/verify", json=as_sign_in)).status_code == 200
