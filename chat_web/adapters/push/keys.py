"""The VAPID key pair: from the settings, or made once for development and kept in DATA_DIR.

`python -m chat_web.adapters.push.keys` prints a new pair for VAPID_PRIVATE_KEY and
VAPID_PUBLIC_KEY.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chat_web.config import ConfigError, Settings


@dataclass(frozen=True, slots=True)
class VapidKeys:
    private: str  # base64url of the 32-byte private scalar
    public: str  # base64url of the 65-byte uncompressed point (the page's applicationServerKey)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_of(private: str) -> str:
    """The public key that goes with a private key; ValueError when it is not one."""
    scalar = int.from_bytes(unb64url(private), "big")
    key = ec.derive_private_key(scalar, ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def new_keys() -> VapidKeys:
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    return VapidKeys(private, public_of(private))


def vapid_keys(settings: Settings) -> VapidKeys:
    """The configured pair (checked to belong together); in development without one, the
    pair kept in DATA_DIR/vapid.json, made on first use."""
    private = settings.vapid_private_key.get_secret_value().strip()
    public = settings.vapid_public_key.strip()
    if private or public:
        try:
            matches = public_of(private) == public
        except ValueError:
            matches = False
        if not matches:
            raise ConfigError(
                "VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not one key pair (base64url, P-256); "
                "`python -m chat_web.adapters.push.keys` prints a new pair."
            )
        return VapidKeys(private, public)
    if not settings.is_dev:
        raise ConfigError("VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not set.")
    return _development_keys(settings)


def _development_keys(settings: Settings) -> VapidKeys:
    path = settings.vapid_file
    try:
        saved = json.loads(path.read_text())
        keys = VapidKeys(saved["private"], saved["public"])
        if public_of(keys.private) == keys.public:
            return keys
    except (OSError, ValueError, KeyError, TypeError):
        pass
    keys = new_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Readable by this user only: it signs as this deployment. Browsers subscribed with the
    # old public key stop getting pushes if it changes, so it is made once.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"private": keys.private, "public": keys.public}, out)
    return keys


if __name__ == "__main__":
    pair = new_keys()
    print(f"VAPID_PRIVATE_KEY={pair.private}\nVAPID_PUBLIC_KEY={pair.public}")
