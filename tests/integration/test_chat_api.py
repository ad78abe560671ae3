"""The chat API over HTTP on SQLite and PostgreSQL: conversations, access, paging, bad input."""

from __future__ import annotations

import asyncio
import json

import pytest

from chat_web import container
from chat_web.domain.events import user_topic
from tests.integration.conftest import new_session


async def send(client, who, chat_id, text, client_id=None):
    body = {"chatId": chat_id, "text": text}
    if client_id:
        body["clientId"] = client_id
    return await client.post("/message", json=body, headers=who["headers"])


async def unread_of(client, who, chat_id) -> int:
    chats = (await client.get("/chat/all", headers=who["headers"])).json()["chats"]
    return next(c["unread"] for c in chats if c["id"] == chat_id)


async def test_two_users_converse(client, pair):
    ann, bob, chat_id = pair
    again = await client.post("/chat/new", json={"otherUserId": ann["user"]["id"]}, headers=bob["headers"])
    assert again.json()["chatId"] == chat_id  # the same chat from the other side

    first = await send(client, ann, chat_id, "Hi Bob 👋")
    assert first.status_code == 201
    assert first.json()["seq"] == 1 and first.json()["senderId"] == ann["user"]["id"]
    assert (await send(client, bob, chat_id, "Hi Ann")).json()["seq"] == 2

    page = (await client.get(f"/message/{chat_id}", headers=ann["headers"])).json()
    assert [m["text"] for m in page["messages"]] == ["Hi Bob 👋", "Hi Ann"]
    assert page["user"]["id"] == bob["user"]["id"] and page["hasMore"] is False
    mine = page["messages"][0]
    assert mine["seen"] is True and mine["seenAt"]  # Bob answered after it

    listing = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    entry = next(c for c in listing if c["id"] == chat_id)
    assert entry["members"] == [{"id": ann["user"]["id"], "name": ann["user"]["name"]}]
    assert entry["latestMessage"] == {"text": "Hi Ann", "senderId": bob["user"]["id"]}


async def test_a_retried_send_returns_the_first_message(client, pair):
    ann, _, chat_id = pair
    first = await send(client, ann, chat_id, "only once", client_id="k-1")
    retry = await send(client, ann, chat_id, "only once", client_id="k-1")
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    page = (await client.get(f"/message/{chat_id}", headers=ann["headers"])).json()
    assert len(page["messages"]) == 1


async def test_a_retried_reply_whose_original_was_deleted_meanwhile_is_the_stored_reply(client, pair):
    ann, bob, chat_id = pair
    question = (await send(client, bob, chat_id, "lunch?")).json()
    body = {"chatId": chat_id, "text": "yes", "clientId": "r-1", "replyTo": question["seq"]}
    first = await client.post("/message", json=body, headers=ann["headers"])
    assert first.status_code == 201
    deleted = await client.delete(f"/message/{chat_id}/{question['id']}", headers=bob["headers"])
    assert deleted.status_code == 200
    retry = await client.post("/message", json=body, headers=ann["headers"])
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    fresh = await client.post("/message", json={**body, "clientId": "r-2"}, headers=ann["headers"])
    assert fresh.status_code == 409  # a new reply to it is refused


async def test_concurrent_new_chat_requests_give_one_chat(client, settings):
    ann = await new_session(client, settings, "ann")
    bob = await new_session(client, settings, "bob")
    requests = [
        client.post("/chat/new", json={"otherUserId": b["user"]["id"]}, headers=a["headers"])
        for a, b in [(ann, bob), (bob, ann)] * 5
    ]
    ids = {r.json()["chatId"] for r in await asyncio.gather(*requests)}
    assert len(ids) == 1


async def test_a_third_user_gets_403_on_every_route_of_the_chat(client, settings, pair):
    ann, bob, chat_id = pair
    await send(client, ann, chat_id, "private")
    eve = await new_session(client, settings, "eve")
    guessed = "0" * 24 if chat_id != "0" * 24 else "f" * 32
    for target in (chat_id, guessed):
        attempts = [
            client.post("/message", json={"chatId": target, "text": "hi"}, headers=eve["headers"]),
            client.get(f"/message/{target}", headers=eve["headers"]),
            client.get(f"/message/{target}?after_seq=0", headers=eve["headers"]),
            client.post(f"/chat/{target}/read", json={"seq": 1}, headers=eve["headers"]),
            client.post(
                f"/chat/{target}/members", json={"userIds": [eve["user"]["id"]]}, headers=eve["headers"]
            ),
            client.delete(f"/chat/{target}/members/{ann['user']['id']}", headers=eve["headers"]),
        ]
        for response in await asyncio.gather(*attempts):
            assert response.status_code == 403, (target, response.request.url, response.text)
            assert response.json() == {"detail": "You are not a member of this conversation."}
    listing = (await client.get("/chat/all", headers=eve["headers"])).json()["chats"]
    assert chat_id not in {c["id"] for c in listing}
    assert "private" not in json.dumps(listing)


async def test_unread_counts_rise_and_reset(client, pair):
    ann, bob, chat_id = pair
    for i in range(3):
        await send(client, ann, chat_id, f"m{i}")
    assert await unread_of(client, bob, chat_id) == 3
    assert await unread_of(client, ann, chat_id) == 0
    read = await client.post(f"/chat/{chat_id}/read", json={"seq": 2}, headers=bob["headers"])
    assert read.json() == {"chatId": chat_id, "lastReadSeq": 2}
    assert await unread_of(client, bob, chat_id) == 1
    await client.get(f"/message/{chat_id}", headers=bob["headers"])  # the latest page reads all
    assert await unread_of(client, bob, chat_id) == 0
    await send(client, ann, chat_id, "one more")
    assert await unread_of(client, bob, chat_id) == 1


async def test_paging_returns_every_message_exactly_once(client, pair):
    ann, bob, chat_id = pair
    for i in range(1, 24):
        await send(client, ann if i % 2 else bob, chat_id, f"n{i}")
    backward, cursor = [], None
    while True:
        query = f"?limit=5{'' if cursor is None else f'&before_seq={cursor}'}"
        page = (await client.get(f"/message/{chat_id}{query}", headers=bob["headers"])).json()
        backward = [m["seq"] for m in page["messages"]] + backward
        if not page["hasMore"]:
            break
        cursor = page["messages"][0]["seq"]
    assert backward == list(range(1, 24))
    forward, cursor = [], 0
    while True:
        page = (
            await client.get(f"/message/{chat_id}?after_seq={cursor}&limit=7", headers=ann["headers"])
        ).json()
        forward += [m["seq"] for m in page["messages"]]
        if not page["hasMore"]:
            break
        cursor = page["messages"][-1]["seq"]
    assert forward == list(range(1, 24))


async def test_a_group_of_three_gets_each_message_once(client, settings):
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    created = await client.post(
        "/chat/group",
        json={"title": "Trio", "memberIds": [bob["user"]["id"], cat["user"]["id"]]},
        headers=ann["headers"],
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    fanout = container.current().fanout
    async with (
        fanout.subscribe(user_topic(ann["user"]["id"])) as ann_events,
        fanout.subscribe(user_topic(bob["user"]["id"])) as bob_events,
        fanout.subscribe(user_topic(cat["user"]["id"])) as cat_events,
    ):
        for who, text in [(ann, "one"), (bob, "two"), (cat, "three")]:
            assert (await send(client, who, group_id, text)).status_code == 201
        for events in (ann_events, bob_events, cat_events):
            got = [await asyncio.wait_for(anext(events), 2) for _ in range(3)]
            assert [e["message"]["text"] for e in got] == ["one", "two", "three"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(events), 0.2)  # nothing twice
    for who in (ann, bob, cat):
        page = (await client.get(f"/message/{group_id}", headers=who["headers"])).json()
        assert [m["text"] for m in page["messages"]] == ["one", "two", "three"]


async def test_group_membership_routes(client, settings):
    ann, bob, cat, dan = [await new_session(client, settings, n) for n in ("ann", "bob", "cat", "dan")]
    group = (
        await client.post(
            "/chat/group",
            json={"title": "Team", "memberIds": [bob["user"]["id"], cat["user"]["id"]]},
            headers=ann["headers"],
        )
    ).json()
    denied = await client.post(
        f"/chat/{group['id']}/members", json={"userIds": [dan["user"]["id"]]}, headers=bob["headers"]
    )
    assert denied.status_code == 403
    added = await client.post(
        f"/chat/{group['id']}/members", json={"userIds": [dan["user"]["id"]]}, headers=ann["headers"]
    )
    assert dan["user"]["id"] in {m["id"] for m in added.json()["members"]}
    removed = await client.delete(f"/chat/{group['id']}/members/{cat['user']['id']}", headers=ann["headers"])
    assert cat["user"]["id"] not in {m["id"] for m in removed.json()["members"]}
    assert (await client.get(f"/message/{group['id']}", headers=cat["headers"])).status_code == 403
    too_small = await client.post(
        "/chat/group", json={"title": "Duo", "memberIds": [bob["user"]["id"]]}, headers=ann["headers"]
    )
    assert too_small.status_code == 422 and too_small.json()["detail"]


async def test_anyone_can_leave_a_group_and_the_creator_passes_it_on(client, settings):
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    ids = [bob["user"]["id"], cat["user"]["id"]]
    group = (
        await client.post("/chat/group", json={"title": "Team", "memberIds": ids}, headers=ann["headers"])
    ).json()
    left = await client.delete(f"/chat/{group['id']}/members/me", headers=ann["headers"])
    assert left.status_code == 200, left.text
    assert {m["id"] for m in left.json()["members"]} == set(ids)
    heir = min(ids)  # joined together with ann: the first by id
    assert left.json()["createdBy"] == heir
    assert (await client.get(f"/message/{group['id']}", headers=ann["headers"])).status_code == 403
    listed = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    assert next(c for c in listed if c["id"] == group["id"])["createdBy"] == heir
    other = next(w for w in (bob, cat) if w["user"]["id"] != heir)
    heir_headers = bob["headers"] if heir == bob["user"]["id"] else cat["headers"]
    back = await client.post(
        f"/chat/{group['id']}/members", json={"userIds": [ann["user"]["id"]]}, headers=heir_headers
    )
    assert back.status_code == 200  # the heir runs the group now
    mine = await client.delete(f"/chat/{group['id']}/members/{other['user']['id']}", headers=other["headers"])
    assert mine.status_code == 200 and other["user"]["id"] not in {m["id"] for m in mine.json()["members"]}
    again = await client.delete(f"/chat/{group['id']}/members/me", headers=other["headers"])
    assert again.status_code == 403


async def test_any_member_renames_a_group_and_every_member_hears_it(client, settings):
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    ids = [bob["user"]["id"], cat["user"]["id"]]
    group = (
        await client.post("/chat/group", json={"title": "Team", "memberIds": ids}, headers=ann["headers"])
    ).json()
    fanout = container.current().fanout
    async with (
        fanout.subscribe(user_topic(ann["user"]["id"])) as ann_events,
        fanout.subscribe(user_topic(bob["user"]["id"])) as bob_events,
        fanout.subscribe(user_topic(cat["user"]["id"])) as cat_events,
    ):
        renamed = await client.patch(
            f"/chat/{group['id']}", json={"title": "  Lunch crew  "}, headers=bob["headers"]
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["title"] == "Lunch crew" and renamed.json()["createdBy"] == ann["user"]["id"]
        for events in (ann_events, bob_events, cat_events):
            event = await asyncio.wait_for(anext(events), 2)
            assert event["type"] == "chat.changed" and event["chatId"] == group["id"]
    listed = (await client.get("/chat/all", headers=cat["headers"])).json()["chats"]
    assert next(c for c in listed if c["id"] == group["id"])["title"] == "Lunch crew"


async def test_renaming_refuses_outsiders_direct_chats_and_bad_titles(client, settings, pair):
    ann, bob, direct_id = pair
    cat, eve = [await new_session(client, settings, n) for n in ("cat", "eve")]
    group = (
        await client.post(
            "/chat/group",
            json={"title": "Team", "memberIds": [bob["user"]["id"], cat["user"]["id"]]},
            headers=ann["headers"],
        )
    ).json()
    outsider = await client.patch(f"/chat/{group['id']}", json={"title": "Mine now"}, headers=eve["headers"])
    assert outsider.status_code == 403
    assert outsider.json() == {"detail": "You are not a member of this conversation."}
    guessed = "0" * 24 if group["id"] != "0" * 24 else "f" * 32
    nowhere = await client.patch(f"/chat/{guessed}", json={"title": "Mine now"}, headers=eve["headers"])
    assert nowhere.status_code == 403  # the same answer: an outsider learns nothing
    direct = await client.patch(f"/chat/{direct_id}", json={"title": "Us"}, headers=ann["headers"])
    assert direct.status_code == 422 and "Only a group can be renamed" in direct.json()["detail"]
    for body in ({"title": "   "}, {"title": ""}, {"title": "x" * 81}, {"title": 5}, {}, {"name": "Team 2"}):
        bad = await client.patch(f"/chat/{group['id']}", json=body, headers=bob["headers"])
        assert bad.status_code == 422, (body, bad.text)
        assert isinstance(bad.json()["detail"], str) and bad.json()["detail"]
    longest = await client.patch(f"/chat/{group['id']}", json={"title": "x" * 80}, headers=bob["headers"])
    assert longest.status_code == 200 and longest.json()["title"] == "x" * 80
    unsigned = await client.patch(f"/chat/{group['id']}", json={"title": "Team"})
    assert unsigned.status_code == 401


async def test_block_routes_and_what_a_block_refuses(client, settings):
    ann, eve, cat = [await new_session(client, settings, n) for n in ("ann", "eve", "cat")]
    a, e, c = ann["user"]["id"], eve["user"]["id"], cat["user"]["id"]
    assert (await client.post(f"/users/{a}/block", headers=ann["headers"])).status_code == 422
    assert (await client.post("/users/nobody/block", headers=ann["headers"])).status_code == 404
    assert (await client.post(f"/users/{e}/block", headers=ann["headers"])).status_code == 200
    assert (await client.post(f"/users/{e}/block", headers=ann["headers"])).status_code == 200  # twice
    listed = (await client.get("/users/blocked", headers=ann["headers"])).json()["users"]
    assert [u["id"] for u in listed] == [e]
    group = {"title": "Spam", "memberIds": [a, c]}
    refused = await client.post("/chat/group", json=group, headers=eve["headers"])
    assert refused.status_code == 403 and "does not accept" in refused.json()["detail"]
    assert (
        await client.post("/chat/new", json={"otherUserId": a}, headers=eve["headers"])
    ).status_code == 403
    lifted = await client.delete(f"/users/{e}/block", headers=ann["headers"])
    assert lifted.status_code == 200
    assert (await client.get("/users/blocked", headers=ann["headers"])).json()["users"] == []
    assert (
        await client.post("/chat/new", json={"otherUserId": a}, headers=eve["headers"])
    ).status_code == 200


async def test_users_search_and_lookup(client, settings):
    ann = await new_session(client, settings, "ann")
    bob = await new_session(client, settings, "bob")
    found = (await client.get("/user/all?q=bob-", headers=ann["headers"])).json()["users"]
    assert bob["user"]["id"] in {u["id"] for u in found}
    mine = (await client.get("/user/all?q=ann-", headers=ann["headers"])).json()["users"]
    assert ann["user"]["id"] not in {u["id"] for u in mine}
    one = await client.get(f"/user/{bob['user']['id']}", headers=ann["headers"])
    assert one.json() == {"id": bob["user"]["id"], "name": bob["user"]["name"]}
    assert (await client.get("/user/nobody", headers=ann["headers"])).status_code == 404


async def test_bad_requests_are_4xx_with_detail_never_500(client, pair):
    ann, bob, chat_id = pair
    headers = ann["headers"]
    cases = [
        client.post(
            "/message", content=b"{not json", headers={**headers, "content-type": "application/json"}
        ),
        client.post("/message", json={"chatId": chat_id, "text": 42}, headers=headers),
        client.post("/message", json={"chatId": chat_id}, headers=headers),
        client.post("/message", json={"chatId": chat_id, "text": "   "}, headers=headers),
        client.post("/message", json={"chatId": chat_id, "text": "x" * 4001}, headers=headers),
        client.post("/message", json={"chatId": "no-such-chat", "text": "hi"}, headers=headers),
        client.post("/message", json=["a", "list"], headers=headers),
        client.post("/message", content=b"text", headers={**headers, "content-type": "text/plain"}),
        client.post(  # an image message whose file is only the start of a PNG
            "/message",
            files={"image": ("a.png", b"\x89PNG", "image/png")},
            data={"chatId": chat_id},
            headers=headers,
        ),
        client.post("/message", json={"chatId": chat_id, "text": "x" * (1024 * 1024 + 10)}, headers=headers),
        client.post("/chat/new", json={"otherUserId": ann["user"]["id"]}, headers=headers),
        client.post("/chat/new", json={"otherUserId": "ghost"}, headers=headers),
        client.post("/chat/new", json={"otherUserId": 7}, headers=headers),
        client.post(f"/chat/{chat_id}/read", json={"seq": "many"}, headers=headers),
        client.post(f"/chat/{chat_id}/read", json={"seq": -1}, headers=headers),
        client.get(f"/message/{chat_id}?before_seq=5&after_seq=1", headers=headers),
        client.get(f"/message/{chat_id}?limit=1000", headers=headers),
        client.get(f"/message/{chat_id}?before_seq=abc", headers=headers),
        client.get("/chat/all", headers={"Authorization": "Bearer nope"}),
    ]
    expected = [422, 422, 422, 422, 422, 403, 422, 415, 422, 413, 422, 404, 422, 422, 422, 422, 422, 422, 401]
    responses = await asyncio.gather(*cases)
    for response, status in zip(responses, expected, strict=True):
        assert response.status_code == status, (
            response.request.method,
            response.request.url,
            response.text[:200],
        )
        assert isinstance(response.json()["detail"], str) and response.json()["detail"]
    assert (await client.get(f"/message/{chat_id}", headers=headers)).json()["messages"] == []


async def test_openapi_is_valid_and_documents_every_route(client):
    from openapi_spec_validator import validate

    document = (await client.get("/openapi.json")).json()
    validate(document)
    paths = set(document["paths"])
    for route in [
        "/chat/new",
        "/chat/all",
        "/message",
        "/message/{chat_id}",
        "/chat/{chat_id}/read",
        "/user/all",
        "/user/{user_id}",
        "/chat/group",
        "/chat/{chat_id}/members",
        "/chat/{chat_id}/members/{user_id}",
        "/chat/{chat_id}/members/me",
        "/chat/{chat_id}",
        "/users/{user_id}/block",
        "/users/blocked",
    ]:
        assert f"/api/v1{route}" in paths
    send = document["paths"]["/api/v1/message"]["post"]
    assert set(send["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    upload_form = send["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload_form["required"] == ["chatId"]
    assert upload_form["oneOf"] == [{"required": [name]} for name in ("image", "file", "voice")]
    for name in ("image", "file", "voice"):
        assert upload_form["properties"][name]["format"] == "binary"
    assert "/api/v1/media/{media_id}" in paths and "/api/v1/media/{media_id}/thumb" in paths
    rename = document["paths"]["/api/v1/chat/{chat_id}"]["patch"]
    assert rename["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/RenameIn")


async def test_a_chunked_body_over_the_limit_is_413(client, pair):
    ann, _, chat_id = pair

    async def chunks():
        yield b'{"chatId": "' + chat_id.encode() + b'", "text": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await client.post(
        "/message", content=chunks(), headers={**ann["headers"], "content-type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["detail"]


async def test_chat_list_pages_by_activity_with_a_cursor(client, settings):
    me = await new_session(client, settings, "me")
    chat_ids = []
    for name in ("p1", "p2", "p3"):
        other = await new_session(client, settings, name)
        created = await client.post(
            "/chat/new", json={"otherUserId": other["user"]["id"]}, headers=me["headers"]
        )
        chat_ids.append(created.json()["chatId"])
    await send(client, me, chat_ids[0], "the oldest chat speaks last")
    pages = [(await client.get("/chat/all?limit=2", headers=me["headers"])).json()]
    while pages[-1]["nextCursor"]:
        params = {"limit": 2, "cursor": pages[-1]["nextCursor"]}
        pages.append((await client.get("/chat/all", params=params, headers=me["headers"])).json())
    listed = [c for page in pages for c in page["chats"]]
    assert [len(page["chats"]) for page in pages] == [2, 1]
    assert listed[0]["id"] == chat_ids[0]  # the latest activity comes first
    assert sorted(c["id"] for c in listed) == sorted(chat_ids)
    keys = [(c["updatedAt"], c["id"]) for c in listed]
    assert keys == sorted(keys, reverse=True)
    bad = await client.get("/chat/all", params={"cursor": "not-a-cursor"}, headers=me["headers"])
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


PAST_INT8 = 2**63  # SQLite raised OverflowError (500) on these
PAST_INT4 = 2**31  # PostgreSQL's int4 seq columns overflow here


async def test_numbers_beyond_what_storage_holds_are_422_with_a_plain_detail(client, pair):
    ann, _, chat_id = pair
    await send(client, ann, chat_id, "one")
    headers = ann["headers"]
    asks = [
        client.get(f"/message/{chat_id}", params={"before_seq": PAST_INT8}, headers=headers),
        client.get(f"/message/{chat_id}", params={"after_seq": PAST_INT4}, headers=headers),
        client.get(f"/message/{chat_id}", params={"before_seq": "9" * 40}, headers=headers),
        client.post(f"/chat/{chat_id}/read", json={"seq": PAST_INT8}, headers=headers),
        client.post(f"/chat/{chat_id}/read", json={"seq": PAST_INT4}, headers=headers),
        client.get("/user/all", params={"offset": PAST_INT8}, headers=headers),
        client.get("/chat/all", params={"limit": PAST_INT8}, headers=headers),
    ]
    for response in await asyncio.gather(*asks):
        assert response.status_code == 422, (response.request.url, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "less than or equal to" in detail
    largest = PAST_INT4 - 1
    ok = [
        client.get(f"/message/{chat_id}", params={"before_seq": largest}, headers=headers),
        client.get(f"/message/{chat_id}", params={"after_seq": largest}, headers=headers),
        client.post(f"/chat/{chat_id}/read", json={"seq": largest}, headers=headers),
    ]
    assert [r.status_code for r in await asyncio.gather(*ok)] == [200, 200, 200]


async def test_text_no_store_can_keep_is_422_not_500(client, pair):
    # PostgreSQL refuses NUL in text and no store takes a lone surrogate (not UTF-8).
    ann, bob, chat_id = pair
    headers = {**ann["headers"], "content-type": "application/json"}

    def post(path: str, body: dict):  # json.dumps escapes a lone surrogate as JSON allows
        return client.post(path, content=json.dumps(body), headers=headers)

    for bad in ("a\x00b", "a\ud800b"):
        asks = [
            post("/message", {"chatId": chat_id, "text": bad}),
            post("/chat/new", {"otherUserId": bad}),
            post("/chat/group", {"title": bad, "memberIds": ["x", "y"]}),
            post("/update/user", {"name": bad}),
            post("/login", {"email": f"{bad}@example.com"}),
        ]
        for response in await asyncio.gather(*asks):
            assert response.status_code == 422, (response.request.url, response.text)
    search = await client.get("/user/all", params={"q": "a\x00"}, headers=ann["headers"])
    assert search.status_code == 422, search.text
    assert (await client.get(f"/message/{chat_id}", headers=headers)).json()["messages"] == []


async def test_muting_a_chat_is_mine_alone_and_leaves_my_unread_total(client, settings, pair):
    ann, bob, chat_id = pair
    cat = await new_session(client, settings, "cat")
    other = (
        await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=cat["headers"])
    ).json()["chatId"]
    for i in range(3):
        await send(client, ann, chat_id, f"from ann {i}")
    await send(client, cat, other, "from cat")

    async def total(who) -> int:
        response = await client.get("/chat/unread", headers=who["headers"])
        assert response.status_code == 200
        return response.json()["total"]

    assert await total(bob) == 4 and await total(ann) == 0
    fanout = container.current().fanout
    async with fanout.subscribe(user_topic(bob["user"]["id"])) as bob_events:
        muted = await client.put(f"/chat/{chat_id}/mute", json={"muted": True}, headers=bob["headers"])
        assert muted.status_code == 200 and muted.json() == {"chatId": chat_id, "muted": True}
        event = await asyncio.wait_for(anext(bob_events), 2)
        assert event["type"] == "chat.changed" and event["chatId"] == chat_id  # my other tabs follow
    assert await total(bob) == 1
    listing = {c["id"]: c for c in (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]}
    assert listing[chat_id]["muted"] is True and listing[chat_id]["unread"] == 3  # still unread, not counted
    assert listing[other]["muted"] is False
    ann_view = (await client.get("/chat/all", headers=ann["headers"])).json()["chats"]
    assert [c["muted"] for c in ann_view if c["id"] == chat_id] == [False]  # only bob muted it

    again = await client.put(f"/chat/{chat_id}/mute", json={"muted": False}, headers=bob["headers"])
    assert again.json()["muted"] is False and await total(bob) == 4


async def test_muting_needs_membership_and_a_boolean(client, settings, pair):
    ann, _, chat_id = pair
    eve = await new_session(client, settings, "eve")
    outsider = await client.put(f"/chat/{chat_id}/mute", json={"muted": True}, headers=eve["headers"])
    assert outsider.status_code == 403
    for body in ({"muted": "yes"}, {"muted": 1}, {}, {"muted": None}):
        bad = await client.put(f"/chat/{chat_id}/mute", json=body, headers=ann["headers"])
        assert bad.status_code == 422 and isinstance(bad.json()["detail"], str), body
    assert (await client.get("/chat/unread")).status_code == 401


async def test_a_group_message_names_members_with_at_and_marks_their_chat(client, settings):
    ann, bob, cat = [await new_session(client, settings, n) for n in ("ann", "bob", "cat")]
    group_id = (
        await client.post(
            "/chat/group",
            json={"title": "Trio", "memberIds": [bob["user"]["id"], cat["user"]["id"]]},
            headers=ann["headers"],
        )
    ).json()["id"]
    bob_name = bob["user"]["name"]
    sent = await send(client, ann, group_id, f"lunch, @{bob_name.upper()}?")
    assert sent.status_code == 201 and sent.json()["mentions"] == [bob["user"]["id"]]
    plain = await send(client, ann, group_id, "no one named")
    assert plain.json()["mentions"] == []

    async def mentioned(who) -> bool:
        chats = (await client.get("/chat/all", headers=who["headers"])).json()["chats"]
        return next(c["mentioned"] for c in chats if c["id"] == group_id)

    assert await mentioned(bob) and not await mentioned(cat) and not await mentioned(ann)
    history = (await client.get(f"/message/{group_id}", headers=bob["headers"])).json()["messages"]
    assert [m["mentions"] for m in history] == [[bob["user"]["id"]], []]
    assert not await mentioned(bob)  # opening the latest page read it


async def test_a_direct_chat_has_no_mentions(client, pair):
    ann, bob, chat_id = pair
    sent = await send(client, ann, chat_id, f"@{bob['user']['name']} hi")
    assert sent.json()["mentions"] == []


async def test_edit_and_delete_my_messages_and_catch_up_on_them(client, settings, pair):
    ann, bob, chat_id = pair
    first = (await send(client, ann, chat_id, "helo", client_id="e1")).json()
    second = (await send(client, ann, chat_id, "to be deleted", client_id="e2")).json()
    start = (await client.get(f"/message/{chat_id}?changed_after=0", headers=bob["headers"])).json()
    assert start["lastChange"] == 0 and start["changed"] == []

    fanout = container.current().fanout
    async with fanout.subscribe(user_topic(bob["user"]["id"])) as bob_events:
        edited = await client.patch(
            f"/message/{chat_id}/{first['id']}", json={"text": "hello"}, headers=ann["headers"]
        )
        assert edited.status_code == 200
        assert (edited.json()["text"], edited.json()["change"]) == ("hello", 1) and edited.json()["editedAt"]
        event = await asyncio.wait_for(anext(bob_events), 2)
        assert event["type"] == "message.edited" and event["message"]["text"] == "hello"
        gone = await client.delete(f"/message/{chat_id}/{second['id']}", headers=ann["headers"])
        assert gone.status_code == 200 and gone.json()["deleted"] is True and gone.json()["text"] == ""
        event = await asyncio.wait_for(anext(bob_events), 2)
        assert event["type"] == "message.deleted" and event["message"]["seq"] == 2

    later = (
        await client.get(
            f"/message/{chat_id}?after_seq=2&changed_after={start['lastChange']}", headers=bob["headers"]
        )
    ).json()
    assert later["messages"] == [] and later["lastChange"] == 2
    assert [(m["seq"], m["text"], m["deleted"]) for m in later["changed"]] == [
        (1, "hello", False),
        (2, "", True),
    ]
    listing = (await client.get("/chat/all", headers=bob["headers"])).json()["chats"]
    assert next(c for c in listing if c["id"] == chat_id)["latestMessage"]["text"] == "Message deleted"

    # Not the sender: 403; a tombstone cannot be edited: 409; bad text: 422.
    answers = [
        await client.patch(
            f"/message/{chat_id}/{first['id']}", json={"text": "mine"}, headers=bob["headers"]
        ),
        await client.delete(f"/message/{chat_id}/{first['id']}", headers=bob["headers"]),
        await client.patch(
            f"/message/{chat_id}/{second['id']}", json={"text": "back"}, headers=ann["headers"]
        ),
        await client.patch(f"/message/{chat_id}/{first['id']}", json={"text": "  "}, headers=ann["headers"]),
        await client.patch(f"/message/{chat_id}/{'0' * 24}", json={"text": "x"}, headers=ann["headers"]),
    ]
    assert [a.status_code for a in answers] == [403, 403, 409, 422, 404]
    assert all(isinstance(a.json()["detail"], str) for a in answers)
    eve = await new_session(client, settings, "eve")
    outsider = await client.delete(f"/message/{chat_id}/{first['id']}", headers=eve["headers"])
    assert outsider.status_code == 403


async def test_reactions_toggle_and_show_in_history(client, settings, pair):
    ann, bob, chat_id = pair
    message = (await send(client, ann, chat_id, "party at 8", client_id="r1")).json()
    url = f"/message/{chat_id}/{message['id']}/reactions"
    first = await client.post(url, json={"emoji": "🙏"}, headers=bob["headers"])
    assert first.status_code == 200
    assert first.json()["reactions"] == [{"emoji": "🙏", "userIds": [bob["user"]["id"]]}]
    await client.post(url, json={"emoji": "😂"}, headers=ann["headers"])
    page = (await client.get(f"/message/{chat_id}", headers=ann["headers"])).json()["messages"]
    assert page[0]["reactions"] == [
        {"emoji": "😂", "userIds": [ann["user"]["id"]]},
        {"emoji": "🙏", "userIds": [bob["user"]["id"]]},
    ]
    again = await client.post(url, json={"emoji": "🙏"}, headers=bob["headers"])
    assert again.json()["reactions"] == [{"emoji": "😂", "userIds": [ann["user"]["id"]]}]
    bad = await client.post(url, json={"emoji": "🍕"}, headers=bob["headers"])
    assert bad.status_code == 422 and "one of" in bad.json()["detail"]
    eve = await new_session(client, settings, "eve")
    assert (await client.post(url, json={"emoji": "👍"}, headers=eve["headers"])).status_code == 403


async def test_a_reply_carries_a_quote_of_what_it_answers(client, pair):
    ann, bob, chat_id = pair
    await send(client, ann, chat_id, "Which day works?\nI can do Tuesday")
    answer = await client.post(
        "/message", json={"chatId": chat_id, "text": "Tuesday", "replyTo": 1}, headers=bob["headers"]
    )
    assert answer.status_code == 201
    assert answer.json()["replyTo"] == {
        "seq": 1,
        "senderId": ann["user"]["id"],
        "text": "Which day works?",
        "kind": "text",
        "deleted": False,
    }
    history = (await client.get(f"/message/{chat_id}", headers=ann["headers"])).json()["messages"]
    assert history[0]["replyTo"] is None and history[1]["replyTo"]["seq"] == 1
    missing = await client.post(
        "/message", json={"chatId": chat_id, "text": "?", "replyTo": 50}, headers=bob["headers"]
    )
    assert missing.status_code == 404
