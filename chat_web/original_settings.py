"""The original Node app's setting names, so a team moving over keeps its environment.

MONGO_URI, JWT_SEC, Rabbitmq_Host/Username/Password and Cloud_Name/Api_Key/Api_Secret
fill our MONGODB_URI, JWT_SECRET, RABBITMQ_URL and CLOUDINARY_URL when ours are not set;
where both are set, ours win and a warning says so. (REDIS_URL and PORT have the same
names in both apps.) Environment names are case-insensitive, as the original's were mixed.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from pydantic import SecretStr

from chat_web.config_urls import SCHEMES, check_url

RABBITMQ_DEFAULT_PORT = 5672  # the original always connected to 5672
_UNSET_JWT = ("", "dev-secret-change-me-dev-secret-change-me")  # the development default counts as unset


class _Settings(Protocol):  # the fields of chat_web.config.Settings that this module reads and fills
    mongodb_uri: SecretStr
    jwt_secret: SecretStr
    rabbitmq_url: SecretStr
    cloudinary_url: SecretStr
    original_mongo_uri: SecretStr
    original_jwt_sec: SecretStr
    original_rabbitmq_host: str
    original_rabbitmq_username: str
    original_rabbitmq_password: SecretStr
    original_cloud_name: str
    original_api_key: str
    original_api_secret: SecretStr


def adopt_original_settings(settings: _Settings) -> list[str]:
    """Fill our settings from the original's names; returns a warning per name that lost to ours."""
    warnings: list[str] = []

    def adopt(ours: str, theirs_name: str, theirs: str, unset: tuple[str, ...] = ("",)) -> None:
        if not theirs:
            return
        if getattr(settings, ours).get_secret_value() not in unset:
            warnings.append(f"{theirs_name} is ignored: {ours.upper()} is set too, and ours wins.")
            return
        if ours in SCHEMES:
            try:
                check_url(ours, theirs)
            except ValueError as exc:
                raise ValueError(f"{theirs_name}: {exc}") from None
        setattr(settings, ours, SecretStr(theirs))

    adopt("mongodb_uri", "MONGO_URI", settings.original_mongo_uri.get_secret_value())
    adopt("jwt_secret", "JWT_SEC", settings.original_jwt_sec.get_secret_value(), _UNSET_JWT)
    adopt("rabbitmq_url", "Rabbitmq_Host/_Username/_Password", rabbitmq_url(settings))
    cloud = (
        settings.original_cloud_name,
        settings.original_api_key,
        settings.original_api_secret.get_secret_value(),
    )
    if all(cloud):
        name, key, secret = cloud
        adopt("cloudinary_url", "Cloud_Name/Api_Key/Api_Secret", f"cloudinary://{key}:{quote(secret)}@{name}")
    elif any(cloud):
        warnings.append(
            "Cloud_Name, Api_Key and Api_Secret are ignored: all three are needed (or CLOUDINARY_URL)."
        )
    return warnings


def rabbitmq_url(settings: _Settings) -> str:
    """amqp://user:password@host:5672/ from the original's three settings ('' without a host)."""
    host = settings.original_rabbitmq_host.strip()
    if not host:
        return ""
    if any(c in host for c in "/@?#"):
        raise ValueError("RABBITMQ_HOST: should be a host name, or host:port")
    if ":" not in host:
        host = f"{host}:{RABBITMQ_DEFAULT_PORT}"
    user = quote(settings.original_rabbitmq_username or "guest", safe="")
    password = quote(settings.original_rabbitmq_password.get_secret_value() or "guest", safe="")
    return f"amqp://{user}:{password}@{host}/%2F"
