"""The README's REST API tables name every operation of the OpenAPI document (a route added
without its row fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from chat_web.api.app import create_api

README = Path(__file__).resolve().parents[2] / "README.md"
# `GET /chat/{chatId}/seen?seq=`, `POST /logout[?all=true]`, `GET /api/v1/health`: method and path.
NAMED = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (?:/api/v1)?(/[^\s`?\[]*)")


def _shape(path: str) -> str:
    """A path with its parameters unnamed: the README says {chatId} or {id}, the API {chat_id}."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def test_every_api_operation_is_named_in_the_readme():
    named = {(method, _shape(path)) for method, path in NAMED.findall(README.read_text())}
    operations = {
        (method.upper(), _shape(path.removeprefix("/api/v1")))
        for path, item in create_api().openapi()["paths"].items()
        for method in item
    }
    assert ("GET", "/chat/{}/seen") in operations
    missing = sorted(operations - named)
    assert not missing, f"operations without a README row: {missing}"
