"""Security headers on every answer, and who may read /metrics (issue 18, item 12)."""

from __future__ import annotations

import httpx
import pytest

from chat_web import container
from chat_web.api.app import _edge_settings, create_api
from chat_web.api.edge import Edge
from chat_web.api.headers import SecurityHeaders, cloudinary_hosts, inline_script_hashes
from chat_web.api.limits import BodyLimit
from chat_web.config import Settings
from tests.integration.conftest import running_api

TOKEN = "metrics-token-of-the-test-0123456789"


def settings_of(tmp_path, **values) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **{"REFLEX_ENV_MODE": "dev", **values})


def directives(policy: str) -> dict[str, list[str]]:
    parts = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in parts}


async def test_every_answer_carries_the_security_headers(tmp_path):
    async with running_api(settings_of(tmp_path)) as http:
        for answer in (await http.get("/health"), await http.get("/me"), await http.post("/login", json={})):
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["referrer-policy"] == "same-origin"
            policy = directives(answer.headers["content-security-policy"])
            assert policy["default-src"] == ["'self'"]
            assert policy["frame-ancestors"] == ["'none'"]
            assert policy["object-src"] == ["'none'"]
            assert policy["base-uri"] == ["'self'"]
            # The websocket of the host the page came from, and nothing else.
            assert policy["connect-src"] == ["'self'", "ws://test", "wss://test"]
            assert policy["img-src"] == ["'self'", "data:", "blob:"]
            # The installable app: its service worker and manifest, from this origin only.
            assert policy["worker-src"] == ["'self'"]
            assert policy["manifest-src"] == ["'self'"]
            assert "'unsafe-inline'" not in policy["script-src"]


async def test_a_forged_host_header_is_not_written_into_the_policy(tmp_path):
    async with running_api(settings_of(tmp_path)) as http:
        answer = await http.get("/health", headers={"Host": "evil; script-src *"})
    policy = directives(answer.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"][:2] == ["'self'", "'unsafe-eval'"] and "*" not in policy["script-src"]


async def test_a_header_the_route_set_itself_is_kept():
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-security-policy", b"default-src 'none'; sandbox")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b"x"})

    edge = Edge(app, _edge_settings, BodyLimit(1024), SecurityHeaders())
    transport = httpx.ASGITransport(app=edge)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/api/v1/media/x")
    assert answer.headers.get_list("content-security-policy") == ["default-src 'none'; sandbox"]
    assert answer.headers["x-frame-options"] == "DENY"


def test_inline_scripts_of_the_build_are_allowed_by_their_hash_only(tmp_path):
    (tmp_path / "page").mkdir()
    (tmp_path / "index.html").write_text('<script>one()</script><script src="/a.js"></script>')
    (tmp_path / "page" / "index.html").write_text("<SCRIPT type=module>two()</SCRIPT ><script>one()</script>")
    hashes = inline_script_hashes(tmp_path)
    # Each inline body once, external scripts not at all (the values: sha256 in base64).
    assert hashes == [
        "'sha256-HR7iaask9daLMRRskMI++QeJtjWDOjyPA6lGzYGzKW4='",  # one()
        "'sha256-iMrPAWirDC2X0OhZzLsM2MRIWSmepJGI4r7D8ZlwBOw='",  # two()
    ]


def test_cloudinary_images_are_allowed_when_it_stores_them():
    assert cloudinary_hosts("") == []
    assert cloudinary_hosts("cloudinary://k:s@demo") == ["https://res.cloudinary.com"]
    assert cloudinary_hosts("cloudinary://k:s@demo?secure_distribution=img.example.com") == [
        "https://res.cloudinary.com",
        "https://img.example.com",
    ]


@pytest.mark.parametrize(
    ("mode", "token", "sent", "status"),
    [
        ("dev", "", None, 200),  # development without a token: open, as before
        ("prod", "", None, 404),  # production without a token: not served at all
        ("prod", "", f"Bearer {TOKEN}", 404),
        ("prod", TOKEN, None, 401),
        ("prod", TOKEN, "Bearer wrong", 401),
        ("prod", TOKEN, TOKEN, 401),  # the scheme is part of it
        ("prod", TOKEN, f"Bearer {TOKEN}", 200),
        ("dev", TOKEN, None, 401),  # a token set is asked for in every mode
        ("dev", TOKEN, f"bearer {TOKEN}", 200),
    ],
)
async def test_metrics_need_the_token_or_are_absent_in_production(tmp_path, mode, token, sent, status):
    # Production refuses push without VAPID keys; metrics are what is tested here.
    settings = settings_of(tmp_path, REFLEX_ENV_MODE=mode, metrics_token=token, push_enabled=False)
    async with container.running(settings):
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            answer = await http.get("/metrics", headers={"Authorization": sent} if sent else {})
    assert answer.status_code == status
    if status == 200:
        assert "chat_http_requests_total" in answer.text
    else:
        assert "chat_" not in answer.text
