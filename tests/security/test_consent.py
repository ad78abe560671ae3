"""Consent and limits on other people (issue 18, items 7 and 8): what a stranger can no longer
do to someone by naming them. Over HTTP, on the embedded setup."""

from __future__ import annotations

from tests.integration.conftest import client, new_session, settings  # noqa: F401, F811 (fixtures)
from tests.integration.test_events_api import Person, Stream, api


def test_no_presence_without_an_exchange(tmp_path):
    """`POST /chat/new {otherUserId}` then `GET /events` tells the stranger nothing of Bob,
    while Cat, who has exchanged messages with him, hears him come online."""
    with api(tmp_path) as base:
        eve, bob, cat = (Person(base, tmp_path, n) for n in ("eve", "bob", "cat"))
        stranger_chat = eve.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
        eve.say(stranger_chat, "hello?")  # writing alone is no exchange
        friends = cat.post("/chat/new", {"otherUserId": bob.id}).json()["chatId"]
        cat.say(friends, "hi")
        bob.say(friends, "hi")
        eve_stream, cat_stream = Stream(eve), Stream(cat)
        try:
            bob_stream = Stream(bob)  # Bob comes online
            seen = cat_stream.next("presence")["data"]
            assert seen["userId"] == bob.id and seen["online"] is True
            assert [e for e in eve_stream.quiet("presence", 1.5) if e["data"]["userId"] == bob.id] == []
            listed = eve.get("/chat/all")["chats"]
            assert all("online" not in c and "lastSeen" not in c for c in listed)
            bob_stream.close()
        finally:
            eve_stream.close()
            cat_stream.close()


async def test_a_blocked_persons_send_is_403(client, settings):  # noqa: F811
    ann, eve = await new_session(client, settings, "ann"), await new_session(client, settings, "eve")
    chat_id = (
        await client.post("/chat/new", json={"otherUserId": ann["user"]["id"]}, headers=eve["headers"])
    ).json()["chatId"]
    body = {"chatId": chat_id, "text": "spam"}
    assert (await client.post("/message", json=body, headers=eve["headers"])).status_code == 201
    blocked = await client.post(f"/users/{eve['user']['id']}/block", headers=ann["headers"])
    assert blocked.status_code == 200 and blocked.json()["id"] == eve["user"]["id"]
    refused = await client.post("/message", json=body, headers=eve["headers"])
    assert refused.status_code == 403 and "does not accept messages" in refused.json()["detail"]
    history = (await client.get(f"/message/{chat_id}", headers=ann["headers"])).json()["messages"]
    assert [m["text"] for m in history] == ["spam"]
    found = await client.get("/user/all", params={"q": ann["user"]["email"]}, headers=eve["headers"])
    assert found.json()["users"] == []


async def test_a_person_can_leave_a_group_they_created_and_it_passes_on(client, settings):  # noqa: F811
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    ids = [bob["user"]["id"], cat["user"]["id"]]
    group = await client.post("/chat/group", json={"title": "Team", "memberIds": ids}, headers=ann["headers"])
    left = await client.delete(f"/chat/{group.json()['id']}/members/me", headers=ann["headers"])
    assert left.status_code == 200
    assert left.json()["createdBy"] in ids and ann["user"]["id"] not in {
        m["id"] for m in left.json()["members"]
    }
    mine = (await client.get("/chat/all", headers=ann["headers"])).json()["chats"]
    assert group.json()["id"] not in {c["id"] for c in mine}
