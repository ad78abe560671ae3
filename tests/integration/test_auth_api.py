"""The sign-in API over HTTP (httpx, in-process ASGI) on SQLite and the real PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from chat_web import container
from tests.integration.conftest import bearer, mailed_code, running_api, settings_for, sign_in


@pytest.fixture(params=["sqlite", "postgresql", "congodb"])
async def settings(request, tmp_path):
    """Sign-in works, and stores users, on every storage backend."""
    return settings_for(request, request.param, tmp_path)


async def test_full_sign_in_flow(client, settings, email):
    response = await client.post("/login", json={"email": email.upper()})
    assert response.status_code == 200
    assert response.json()["email"] == email
    challenge = response.json()["challenge"]
    code = mailed_code(settings, email)

    response = await client.post("/verify", json={"email": email, "otp": code, "challenge": challenge})
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == email
    assert body["user"]["name"] == email.split("@")[0]

    me = await client.get("/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]

    renamed = await client.post("/update/user", json={"name": "  Grace H.  "}, headers=bearer(body["token"]))
    assert renamed.status_code == 200 and renamed.json()["name"] == "Grace H."
    me = await client.get("/me", headers=bearer(body["token"]))
    assert me.json()["name"] == "Grace H."


async def test_same_answer_for_new_and_existing_accounts(client, email):
    existing = f"known-{email}"
    await container.current().store.users.get_or_create(existing, "known")
    known = await client.post("/login", json={"email": existing})
    unknown = await client.post("/login", json={"email": f"unknown-{email}"})
    assert known.status_code == unknown.status_code == 200
    assert {k: v for k, v in known.json().items() if k not in ("email", "challenge")} == {
        k: v for k, v in unknown.json().items() if k not in ("email", "challenge")
    }


async def test_second_code_within_a_minute_is_429_with_retry_after(client, email):
    assert (await client.post("/login", json={"email": email})).status_code == 200
    response = await client.post("/login", json={"email": email})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert "detail" in response.json()


async def test_wrong_code_then_void_after_five(client, settings, email):
    challenge = (await client.post("/login", json={"email": email})).json()["challenge"]
    good = mailed_code(settings, email)
    bad = f"{(int(good) + 1) % 10**6:06d}"
    wrong = {"email": email, "otp": bad, "challenge": challenge}
    statuses = [(await client.post("/verify", json=wrong)).status_code for _ in range(5)]
    assert statuses == [400] * 5
    response = await client.post("/verify", json={"email": email, "otp": good, "challenge": challenge})
    assert response.status_code == 400
    assert "detail" in response.json()


async def test_code_cannot_be_reused(client, settings, email):
    await sign_in(client, settings, email)
    # Whatever challenge comes with it: the code was used.
    response = await client.post(
        "/verify", json={"email": email, "otp": mailed_code(settings, email), "challenge": "x"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/login", {"email": "not-an-email"}),
        ("/login", {"email": 12}),
        ("/login", {}),
        ("/verify", {"email": "a@example.com", "otp": "12ab56"}),
        ("/verify", {"email": "a@example.com"}),
    ],
)
async def test_bad_input_is_422_with_detail(client, path, body):
    response = await client.post(path, json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_malformed_json_is_422(client):
    response = await client.post("/login", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"]


async def test_bad_names_are_refused(client, settings, email):
    token = (await sign_in(client, settings, email))["token"]
    for name in ["", "   ", "x" * 51, "bell\x07"]:
        response = await client.post("/update/user", json={"name": name}, headers=bearer(token))
        assert response.status_code == 422, name
        assert response.json()["detail"]


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_tokens_that_are_not_ours_get_401(client, settings, email):
    session = await sign_in(client, settings, email)
    header, payload, signature = session["token"].split(".")
    forged = f"{header}.{_b64({'sub': session['user']['id'], 'exp': 4_000_000_000})}.{signature}"
    alg_none = f"{_b64({'alg': 'none'})}.{_b64({'sub': session['user']['id'], 'exp': 4_000_000_000})}."
    for headers in [{}, {"Authorization": "Basic abc"}, bearer("garbage"), bearer(forged), bearer(alg_none)]:
        response = await client.get("/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["detail"]


async def test_token_of_a_deleted_user_gets_401(client, settings, email):
    session = await sign_in(client, settings, email)
    await container.current().store.users.delete(session["user"]["id"])
    response = await client.get("/me", headers=bearer(session["token"]))
    assert response.status_code == 401


async def test_openapi_document_lists_the_routes(client):
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    assert {"/api/v1/login", "/api/v1/verify", "/api/v1/me", "/api/v1/update/user"} <= set(document["paths"])


async def test_logout_everywhere_refuses_the_old_tokens_and_a_new_sign_in_works(settings, email):
    quick = settings.model_copy(update={"otp_resend_seconds": 1})
    async with running_api(quick) as client:
        first = await sign_in(client, quick, email)
        assert (await client.post("/logout", headers=bearer(first["token"]))).status_code == 204
        assert (await client.get("/me", headers=bearer(first["token"]))).status_code == 200  # stateless
        assert (await client.post("/logout?all=true")).status_code == 401
        assert (await client.post("/logout?all=true", headers=bearer(first["token"]))).status_code == 204
        refused = await client.get("/me", headers=bearer(first["token"]))
        assert refused.status_code == 401 and "every device" in refused.json()["detail"]
        deadline = asyncio.get_running_loop().time() + 10
        while (login := await client.post("/login", json={"email": email})).status_code == 429:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)
        code = mailed_code(quick, email)
        again = {"email": email, "otp": code, "challenge": login.json()["challenge"]}
        second = await client.post("/verify", json=again)
        assert (await client.get("/me", headers=bearer(second.json()["token"]))).status_code == 200
