"""Web Push over HTTP: the payload encrypted with aes128gcm (RFC 8291, pywebpush/http_ece)
and signed with VAPID (RFC 8292, py_vapid), POSTed to the subscription's endpoint."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

import httpx
from py_vapid import Vapid02
from pywebpush import WebPusher

from chat_web.adapters.push.keys import VapidKeys
from chat_web.domain.push import PushJob, PushServiceDown

PUSH_TTL_SECONDS = 12 * 3600  # how long a push service keeps a push for a browser that is away
TOKEN_LIFETIME = 12 * 3600  # a VAPID token's exp (push services accept up to 24 h)
TOKEN_RENEW_BEFORE = 3600  # a cached token is renewed this long before it expires
SEND_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WebPushSender:
    def __init__(self, keys: VapidKeys, subject: str, client: httpx.AsyncClient | None = None):
        self._vapid = Vapid02.from_raw(keys.private.encode())
        self._subject = subject
        self._client = client or httpx.AsyncClient(timeout=SEND_TIMEOUT)
        self._tokens: dict[str, tuple[float, str]] = {}  # push service origin -> (exp, header)

    async def send(self, job: PushJob) -> int:
        subscription = {"endpoint": job.endpoint, "keys": {"p256dh": job.p256dh, "auth": job.auth}}
        data = json.dumps(job.payload, separators=(",", ":")).encode()
        try:
            body = WebPusher(subscription).encode(data, "aes128gcm")["body"]
        except Exception:  # noqa: BLE001 - keys that cannot encrypt: as good as a gone subscription
            return 410
        headers = {
            "Authorization": self._authorization(job.endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(PUSH_TTL_SECONDS),
            "Urgency": "high",  # a person wrote: deliver now, even on a phone saving battery
        }
        try:
            response = await self._client.post(job.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PushServiceDown(f"{type(exc).__name__}: {exc}") from exc
        return response.status_code

    def _authorization(self, endpoint: str) -> str:
        """`vapid t=<JWT>,k=<public key>` for the endpoint's origin, signed once per lifetime."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is None or cached[0] - now < TOKEN_RENEW_BEFORE:
            exp = int(now) + TOKEN_LIFETIME
            header = self._vapid.sign({"aud": audience, "exp": exp, "sub": self._subject})["Authorization"]
            cached = self._tokens[audience] = (exp, header)
        return cached[1]

    async def close(self) -> None:
        await self._client.aclose()
