"""Message search through the API on SQLite and PostgreSQL: found, highlighted, paged, private."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import new_session
from tests.integration.test_chat_api import send


async def search(client, who, **params):
    return await client.get("/messages/search", params=params, headers=who["headers"])


async def test_search_finds_highlights_and_pages(client, settings):
    ann = await new_session(client, settings, "ann")
    bob = await new_session(client, settings, "bob")
    cy = await new_session(client, settings, "cy")
    word = f"w{uuid.uuid4().hex[:8]}"
    direct = (
        await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
    ).json()["chatId"]
    group = (
        await client.post(
            "/chat/group",
            json={"title": "Trip", "memberIds": [ann["user"]["id"], cy["user"]["id"]]},
            headers=bob["headers"],
        )
    ).json()["id"]
    private = (
        await client.post("/chat/new", json={"otherUserId": cy["user"]["id"]}, headers=bob["headers"])
    ).json()["chatId"]
    sent = []
    for i in range(5):
        chat = direct if i % 2 else group
        sent.append((await send(client, bob, chat, f"Is the {word.upper()} ready? ({i})")).json())
    await send(client, bob, private, f"{word} is not for Ann")
    await send(client, ann, direct, "unrelated words")

    first = await search(client, ann, q=f"  {word} ", limit=3)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [r["message"]["id"] for r in body["results"]] == [m["id"] for m in sent[::-1][:3]]
    top = body["results"][0]
    assert top["chatId"] == group and top["chatTitle"] == "Trip"
    assert top["message"]["text"] == sent[-1]["text"] and top["message"]["seq"] == sent[-1]["seq"]
    assert set(top["message"]) == set(sent[-1])  # the one message shape
    ((start, end),) = top["highlights"]
    assert top["message"]["text"][start:end] == word.upper()
    assert body["results"][1]["chatTitle"] == bob["user"]["name"]  # a direct chat: the other member's name

    second = (await search(client, ann, q=word, limit=3, cursor=body["nextCursor"])).json()
    assert [r["message"]["id"] for r in second["results"]] == [m["id"] for m in sent[::-1][3:]]
    assert second["nextCursor"] is None
    assert len((await search(client, cy, q=word)).json()["results"]) == 4  # the group and her chat
    assert (await search(client, ann, q="nothing-like-this-anywhere")).json() == {
        "results": [],
        "nextCursor": None,
    }


@pytest.mark.parametrize("query", ['"', "*", "-x", "a:b", "OR", "(", ")", "%", "_", "NEAR(a b)", "x'y"])
async def test_special_characters_never_fail(client, settings, query):
    ann = await new_session(client, settings, "ann")
    answer = await search(client, ann, q=query)
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({"q": ""}, "Type something"),
        ({"q": "   "}, "Type something"),
        ({"q": "x" * 201}, "at most 200"),
        ({}, "q"),
        ({"q": "ok", "limit": 0}, "limit"),
        ({"q": "ok", "limit": 101}, "limit"),
        ({"q": "ok", "cursor": "not-a-cursor"}, "cursor"),
    ],
)
async def test_bad_input_is_422_with_a_plain_detail(client, settings, params, complaint):
    ann = await new_session(client, settings, "ann")
    answer = await search(client, ann, **params)
    assert answer.status_code == 422
    assert isinstance(answer.json()["detail"], str) and complaint in answer.json()["detail"]


async def test_search_needs_a_session(client):
    answer = await client.get("/messages/search", params={"q": "x"})
    assert answer.status_code == 401
