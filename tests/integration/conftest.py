"""The app's HTTP API in process (httpx over ASGI) on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import contextlib
import uuid

import httpx
import pytest

from chat_web import container
from chat_web.api.app import create_api
from chat_web.config import Settings
from tests.support.sign_in import code_from_outbox


def settings_for(request, kind: str, tmp_path, **extra) -> Settings:
    """App settings on one storage backend: sqlite, postgresql or congodb (Mongo wire server),
    with any other settings in `extra`."""
    storage = {}
    if kind == "postgresql":
        storage["database_url"] = request.getfixturevalue("postgres_url")
    elif kind == "congodb":
        uri = request.getfixturevalue("congo_uri").replace("/?", f"/app_{uuid.uuid4().hex[:10]}?")
        storage["mongodb_uri"] = uri
    return Settings(_env_file=None, data_dir=tmp_path, REFLEX_ENV_MODE="dev", **storage, **extra)


@pytest.fixture(params=["sqlite", "postgresql"])
async def settings(request, tmp_path):
    return settings_for(request, request.param, tmp_path)


@contextlib.asynccontextmanager
async def running_api(settings: Settings):
    """The app's services on these settings and an HTTP client of its API (in process)."""
    async with container.running(settings):
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as http:
            yield http


@pytest.fixture
async def client(settings):
    async with running_api(settings) as http:
        yield http


@pytest.fixture
def email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def mailed_code(settings: Settings, email: str) -> str:
    return code_from_outbox(settings.outbox_file, email)


async def sign_in(client, settings, email) -> dict:
    login = await client.post("/login", json={"email": email})
    assert login.status_code == 200
    challenge = login.json()["challenge"]
    response = await client.post(
        "/verify", json={"email": email, "otp": mailed_code(settings, email), "challenge": challenge}
    )
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def new_session(client, settings, name: str = "user") -> dict:
    """Sign a fresh user in; returns {token, user, headers}."""
    email = f"{name}-{uuid.uuid4().hex[:10]}@example.com"
    session = await sign_in(client, settings, email)
    return {**session, "headers": bearer(session["token"])}


@pytest.fixture
async def pair(client, settings):
    """Ann and Bob, signed in, and their direct chat."""
    ann = await new_session(client, settings, "ann")
    bob = await new_session(client, settings, "bob")
    chat_id = (
        await client.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=ann["headers"])
    ).json()["chatId"]
    return ann, bob, chat_id
