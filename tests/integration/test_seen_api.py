"""GET /chat/{chatId}/seen?seq=: who has read a chat up to a seq, from the read cursors, over
HTTP on SQLite, PostgreSQL and the MongoDB wire test server (the route reads the history use
case of each store)."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.conftest import new_session, settings_for


@pytest.fixture(params=["sqlite", "postgresql", "congodb"])
async def settings(request, tmp_path):
    # Push off: its decision after each send runs a query on a task of its own, which the
    # statement count below would catch at random (test_statement_budget.py does the same).
    return settings_for(request, request.param, tmp_path).model_copy(update={"push_enabled": False})


async def seen(client, who, chat_id, seq):
    return await client.get(f"/chat/{chat_id}/seen", params={"seq": seq}, headers=who["headers"])


def names(readers: list[dict]) -> list[str]:
    return [r["name"] for r in readers]


async def test_who_has_read_up_to_a_seq_follows_the_members_cursors(client, settings):
    ann, bob, cy = [await new_session(client, settings, n) for n in ("ann", "bob", "cy")]
    body = {"title": "Trip", "memberIds": [bob["user"]["id"], cy["user"]["id"]]}
    group = (await client.post("/chat/group", json=body, headers=ann["headers"])).json()["id"]
    for text in ("Train at 9?", "Or the 10:15"):
        sent = await client.post("/message", json={"chatId": group, "text": text}, headers=ann["headers"])
        assert sent.status_code == 201

    answer = await seen(client, ann, group, 2)
    assert answer.status_code == 200
    assert answer.json() == {
        "chatId": group,
        "seq": 2,
        "readBy": [],
        "notYet": [
            {"id": bob["user"]["id"], "name": bob["user"]["name"], "lastReadSeq": 0},
            {"id": cy["user"]["id"], "name": cy["user"]["name"], "lastReadSeq": 0},
        ],
    }

    await client.post(f"/chat/{group}/read", json={"seq": 1}, headers=bob["headers"])
    one = (await seen(client, ann, group, 1)).json()
    assert names(one["readBy"]) == [bob["user"]["name"]] and one["readBy"][0]["lastReadSeq"] == 1
    assert names(one["notYet"]) == [cy["user"]["name"]]
    assert (await seen(client, ann, group, 2)).json()["readBy"] == []  # Bob stopped at 1

    await client.get(f"/message/{group}", headers=cy["headers"])  # opening the latest page reads it
    two = (await seen(client, ann, group, 2)).json()
    assert names(two["readBy"]) == [cy["user"]["name"]] and names(two["notYet"]) == [bob["user"]["name"]]

    # Asked by Bob: the others are Ann (the sender, whose cursor her sends moved) and Cy; not Bob.
    from_bob = (await seen(client, bob, group, 2)).json()
    assert names(from_bob["readBy"]) == [ann["user"]["name"], cy["user"]["name"]]
    assert from_bob["notYet"] == []


async def test_a_seq_past_the_end_is_404_and_a_missing_or_zero_seq_422(client, pair):
    ann, bob, chat_id = pair
    await client.post("/message", json={"chatId": chat_id, "text": "hi"}, headers=ann["headers"])
    assert (await seen(client, bob, chat_id, 1)).json()["readBy"] == [
        {"id": ann["user"]["id"], "name": ann["user"]["name"], "lastReadSeq": 1}
    ]  # a direct chat answers too
    past = await seen(client, ann, chat_id, 2)
    assert past.status_code == 404 and past.json() == {"detail": "No such message in this conversation."}
    for params in ({}, {"seq": 0}, {"seq": -1}, {"seq": 2**31}, {"seq": "one"}):
        refused = await client.get(f"/chat/{chat_id}/seen", params=params, headers=ann["headers"])
        assert refused.status_code == 422, (params, refused.text)
        assert isinstance(refused.json()["detail"], str)


async def test_an_outsider_gets_the_same_403_whether_or_not_the_chat_exists(client, settings, pair):
    ann, _, chat_id = pair
    await client.post("/message", json={"chatId": chat_id, "text": "private"}, headers=ann["headers"])
    eve = await new_session(client, settings, "eve")
    guessed = "0" * 24 if chat_id != "0" * 24 else "f" * 32
    answers = await asyncio.gather(*(seen(client, eve, target, 1) for target in (chat_id, guessed)))
    for response in answers:
        assert response.status_code == 403
        assert response.json() == {"detail": "You are not a member of this conversation."}
    assert (await client.get(f"/chat/{chat_id}/seen?seq=1")).status_code == 401


async def test_the_openapi_document_describes_the_route(client):
    document = (await client.get("/openapi.json")).json()
    route = document["paths"]["/api/v1/chat/{chat_id}/seen"]["get"]
    seq = next(p for p in route["parameters"] if p["name"] == "seq")
    assert seq["in"] == "query" and seq["required"] is True
    assert seq["schema"]["minimum"] == 1
    assert {"200", "403", "404", "422"} <= set(route["responses"])
    schema = route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = set(document["components"]["schemas"][schema]["properties"])
    assert fields == {"chatId", "seq", "readBy", "notYet"}


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)  # counted on SQL stores
async def test_the_answer_is_one_storage_call_on_one_connection(client, pair):
    from tests.integration.test_statement_budget import counting

    ann, bob, chat_id = pair
    await client.post("/message", json={"chatId": chat_id, "text": "hi"}, headers=ann["headers"])
    await seen(client, ann, chat_id, 1)  # warm: the session check is cached after the first request
    with counting() as counts:
        answer = await seen(client, ann, chat_id, 1)
    assert answer.status_code == 200
    assert counts.checkouts == 1, counts.statements
    assert len(counts.statements) <= 3, counts.statements  # PostgreSQL: one (pg_reads.py)
