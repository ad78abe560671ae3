"""Is a connection URL well formed? Checked at start, so a typo stops the app with its reason.

Whether the service answers is another matter: the app waits for it (503 meanwhile). The
messages never repeat the URL, which may carry a password.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMES = {
    "database_url": ("postgresql", "postgres", "postgresql+asyncpg", "sqlite", "sqlite+aiosqlite"),
    "mongodb_uri": ("mongodb", "mongodb+srv"),
    "redis_url": ("redis", "rediss", "unix"),
    "rabbitmq_url": ("amqp", "amqps"),
    "cloudinary_url": ("cloudinary",),
}
# Schemes that name a server: it needs a host (a Unix socket path may stand in for PostgreSQL's).
_NEED_HOST = {"mongodb", "mongodb+srv", "redis", "rediss", "amqp", "amqps", "cloudinary"}


def check_url(field: str, url: str) -> None:
    """Raise ValueError saying what is wrong with this URL for that setting."""
    allowed = SCHEMES[field]
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise ValueError(f"is not a URL; it should start with {_or(allowed)}")
    if scheme.lower() not in allowed:
        raise ValueError(f"has the scheme {scheme!r}; expected {_or(allowed)}")
    parts = urlsplit(url)
    if "," in parts.netloc:
        return  # mongodb://a:27017,b:27017/db: a host list, which urlsplit cannot read
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if scheme.lower() in _NEED_HOST and not parts.hostname:
        raise ValueError("names no host")
    if (
        scheme.lower() in ("redis", "rediss")
        and parts.path.strip("/")
        and not parts.path.strip("/").isdigit()
    ):
        raise ValueError("has a database that is not a number (redis://host:6379/0)")


def _or(schemes: tuple[str, ...]) -> str:
    return ", ".join(f"{s}://" for s in schemes[:-1]) + f" or {schemes[-1]}://"
