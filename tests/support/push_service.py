"""A stand-in Web Push service on 127.0.0.1, for tests and the push benchmark.

It does what a browser's push service checks, and what the browser then does:
* the VAPID token (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>`, the key the app's,
  the JWT signed by it (ES256), `aud` this service's origin, `exp` in the future and
  within 24 h, a `sub` contact;
* the body decrypted with the subscription's private key and auth secret (RFC 8291,
  aes128gcm, http_ece), as the browser would.
It answers 201, or whatever a test asks of one subscription (404, 410, 500 ...).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

MAX_TOKEN_LIFETIME = 24 * 3600


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One subscribed browser: what the page would POST, and the keys to read its pushes."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    status: int = 201  # what the service answers pushes to it

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(point)

    def subscription_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": _b64url(self.auth)}}


@dataclass(frozen=True)
class Push:
    token: str
    payload: dict[str, Any]
    at: float  # time.monotonic() when it arrived (one clock for every process of the machine)
    status: int  # what the service answered


@dataclass
class PushService:
    vapid_public_key: str  # base64url: the app's VAPID_PUBLIC_KEY
    browsers: dict[str, Browser] = field(default_factory=dict)
    pushes: list[Push] = field(default_factory=list)  # accepted or not, decrypted
    refused: list[str] = field(default_factory=list)  # requests that failed a check, and why
    log: Any = None  # a text file each push is written to as a JSON line (main(), benchmarks)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        raw = _unb64url(self.vapid_public_key)
        self._vapid_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        self._thread = threading.Thread(target=self._server.serve_forever, name="push-service", daemon=True)

    def __enter__(self) -> PushService:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def browser(self) -> Browser:
        """A new subscription on this service."""
        token = uuid.uuid4().hex
        made = Browser(
            token, f"{self.origin}/push/{token}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        self.browsers[token] = made
        return made

    def pushes_to(self, browser: Browser) -> list[Push]:
        with self._changed:
            return [p for p in self.pushes if p.token == browser.token]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Push]:
        """Until `count` pushes arrived in all (or the timeout: the caller's assert says so)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.pushes) < count and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return list(self.pushes)

    # --- the HTTP side ----------------------------------------------------------------------------

    def _check(self, headers, body: bytes, browser: Browser) -> dict[str, Any]:
        scheme, _, params = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"Authorization scheme {scheme!r} is not vapid")
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        if fields.get("k") != self.vapid_public_key:
            raise ValueError("k is not the app's VAPID public key")
        claims = jwt.decode(
            fields["t"],
            self._vapid_key,
            algorithms=["ES256"],
            audience=self.origin,
            options={"require": ["aud", "exp", "sub"]},
        )
        if claims["exp"] > time.time() + MAX_TOKEN_LIFETIME:
            raise ValueError("exp is more than 24 h away")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise ValueError("sub is not a mailto: or https: contact")
        if headers.get("Content-Encoding") != "aes128gcm":
            raise ValueError("Content-Encoding is not aes128gcm")
        if not (headers.get("TTL") or "").isdigit():
            raise ValueError("no TTL header")
        plain = http_ece.decrypt(
            body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
        )
        return json.loads(plain)

    def _record(self, push: Push | None = None, refused: str | None = None) -> None:
        with self._changed:
            if push is not None:
                self.pushes.append(push)
            if refused is not None:
                self.refused.append(refused)
            if self.log is not None:
                line = (
                    {"refused": refused}
                    if push is None
                    else {"token": push.token, "payload": push.payload, "at": push.at}
                )
                self.log.write(json.dumps(line) + "\n")
                self.log.flush()
            self._changed.notify_all()

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                browser = service.browsers.get(self.path.rsplit("/", 1)[-1])
                if browser is None:
                    self._answer(404)
                    return
                try:
                    payload = service._check(self.headers, body, browser)
                except Exception as exc:  # noqa: BLE001 - every failed check is a 400 and a note
                    service._record(refused=f"{type(exc).__name__}: {exc}")
                    self._answer(400)
                    return
                service._record(push=Push(browser.token, payload, time.monotonic(), browser.status))
                self._answer(browser.status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args) -> None:
                pass

        return Handler


def main() -> None:
    """A stand-in in a process of its own (benchmarks/push.py): it makes `--browsers`
    subscriptions, prints `{origin, browsers: [subscription JSON]}` as one line, then serves
    until killed, writing each push to `--log` as a JSON line."""
    import argparse
    import signal

    parser = argparse.ArgumentParser()
    parser.add_argument("--vapid-public-key", required=True)
    parser.add_argument("--browsers", type=int, default=0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    with open(args.log, "a") as log, PushService(args.vapid_public_key, log=log) as service:
        made = [service.browser().subscription_json() for _ in range(args.browsers)]
        print(json.dumps({"origin": service.origin, "browsers": made}), flush=True)
        signal.pause()  # until SIGTERM ends the process


if __name__ == "__main__":
    main()
