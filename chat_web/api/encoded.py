"""Answers encoded once: JSON written straight from the dicts the wire format builds (each
response model's `wire`, and chat_web/domain/wire.py for messages).

Returning a model had the message dict parsed back into a model (its datetimes too), checked
again by FastAPI and written out: the busiest routes skip that. They still name their
response_model, which the OpenAPI document is built from; tests/unit/test_encoded.py checks
that each `wire` dict is exactly its model's JSON.
"""

from __future__ import annotations

import json

from starlette.responses import Response


def encoded(payload: dict, status_code: int = 200) -> Response:
    # The texts in it passed the services' checks (no broken Unicode), so UTF-8 always encodes.
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status_code, media_type="application/json")
