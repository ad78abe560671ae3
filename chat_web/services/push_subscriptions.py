"""A browser turns push notifications on or off: its subscription, checked and stored."""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlsplit

from chat_web.domain import BadInput, User
from chat_web.domain.push import ENDPOINT_MAX, KEY_MAX, PushSubscription, subscription_id
from chat_web.ports import Clock, PushRepo
from chat_web.services.validation import has_control, storable

SUBSCRIPTIONS_PER_USER = 20  # browsers one user may subscribe; the oldest goes first
P256_POINT_BYTES = 65  # an uncompressed P-256 public key
AUTH_SECRET_BYTES = 16
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _b64url(text: str, name: str) -> bytes:
    if not text or len(text) > KEY_MAX:
        raise BadInput(f"keys.{name} is missing or too long.")
    if not _B64URL.fullmatch(text):  # the decoder would skip other characters, and keep them stored
        raise BadInput(f"keys.{name} is not base64url.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadInput(f"keys.{name} is not base64url.") from None


class PushSubscriptions:
    def __init__(
        self,
        repo: PushRepo,
        clock: Clock,
        public_key: str,
        allow_http: bool = False,
        hosts: tuple[str, ...] | None = None,
    ):
        self._repo = repo
        self._clock = clock
        self.public_key = public_key  # the page's applicationServerKey
        # Development (and its tests) may use a push service on http://; production only https.
        self._allow_http = allow_http
        # The push services' hosts (or parent domains) an endpoint may name; None: any.
        self._hosts = hosts

    def _check_endpoint(self, endpoint: str) -> str:
        endpoint = endpoint.strip()
        if not endpoint or len(endpoint) > ENDPOINT_MAX:
            raise BadInput("endpoint is missing or too long.")
        if has_control(endpoint) or any(ch.isspace() for ch in endpoint):  # a NUL, say: no URL
            raise BadInput("endpoint must be the https:// address the browser's push service gave.")
        parts = urlsplit(endpoint)
        schemes = {"https", "http"} if self._allow_http else {"https"}
        if parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
            raise BadInput("endpoint must be the https:// address the browser's push service gave.")
        host = parts.hostname.lower().rstrip(".")
        if self._hosts is not None and not any(host == h or host.endswith("." + h) for h in self._hosts):
            # The server POSTs to it: only a browser's push service, never an address of ours.
            raise BadInput("endpoint is not at a known push service.")
        return endpoint

    async def subscribe(self, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
        endpoint = self._check_endpoint(endpoint)
        point = _b64url(p256dh, "p256dh")
        if len(point) != P256_POINT_BYTES or point[0] != 4:
            raise BadInput("keys.p256dh is not a P-256 public key.")
        if len(_b64url(auth, "auth")) != AUTH_SECRET_BYTES:
            raise BadInput("keys.auth is not a 16-byte secret.")
        subscription = PushSubscription(
            subscription_id(endpoint), user.id, endpoint, p256dh, auth, self._clock.now()
        )
        await self._repo.save(subscription, keep=SUBSCRIPTIONS_PER_USER)
        return subscription

    async def unsubscribe(self, user: User, endpoint: str) -> bool:
        endpoint = endpoint.strip()
        if not storable(endpoint):
            return False  # no store could keep it (a NUL, say): no subscription has it
        return await self._repo.remove(user.id, endpoint)
