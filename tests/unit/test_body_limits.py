"""The edge leaves a request without a body alone (an event stream waits on its `receive` for
hours) and still counts and times every body, declared or not."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from chat_web.api.edge import Edge, EdgeSettings
from chat_web.api.headers import SecurityHeaders
from chat_web.api.limits import BodyLimit, has_no_body


def scope(http_version: str = "1.1", **headers: str) -> dict:
    encoded = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {
        "type": "http",
        "http_version": http_version,
        "method": "GET",
        "path": "/api/v1/events",
        "headers": encoded,
    }


@pytest.mark.parametrize(
    ("request_scope", "bodyless"),
    [
        (scope(), True),
        (scope(content_length="0"), True),
        (scope("1.0"), True),
        (scope(content_length="12"), False),
        (scope(content_length="00"), False),  # unusual: watched rather than guessed at
        (scope(transfer_encoding="chunked"), False),
        (scope("2"), False),  # HTTP/2 may send a body it never declared
    ],
    ids=["none", "length-0", "http-1.0", "length-12", "length-00", "chunked", "http-2"],
)
def test_which_requests_have_no_body(request_scope, bodyless):
    assert has_no_body(request_scope) is bodyless


def _edge(app):
    settings = EdgeSettings(min_body_rate=1000, body_grace=0.05, sockets_per_client=10, proxy_hops=0)
    return Edge(app, lambda: settings, BodyLimit(10), SecurityHeaders())


async def _ignore(message):
    pass


async def test_a_request_without_a_body_gets_the_servers_receive_untouched():
    seen = []

    async def app(scope, receive, send):
        seen.append(receive)

    async def receive():
        return {"type": "http.disconnect"}

    for request_scope in (scope(), scope(content_length="5")):
        await _edge(app)(request_scope, receive, _ignore)
    assert seen[0] is receive and seen[1] is not receive


async def _read_body(scope, receive, send):
    while (await receive()).get("more_body"):
        pass


async def test_an_undeclared_http2_body_is_still_counted_and_timed():
    chunks = iter([{"type": "http.request", "body": b"x" * 8, "more_body": True}] * 2)

    async def too_much():
        return next(chunks)

    with pytest.raises(HTTPException) as caught:
        await _edge(_read_body)(scope("2"), too_much, _ignore)
    assert caught.value.status_code == 413

    async def stalls():
        await asyncio.sleep(3600)

    with pytest.raises(HTTPException) as caught:
        await _edge(_read_body)(scope("2"), stalls, _ignore)
    assert caught.value.status_code == 408
