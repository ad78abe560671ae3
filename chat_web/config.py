"""The one place that reads the environment: every setting of the app and the mailer."""

from __future__ import annotations

import ipaddress
import sys
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal, NoReturn

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from chat_web.config_urls import check_url
from chat_web.original_settings import adopt_original_settings

DEV_JWT_SECRET = "dev-secret-change-me-dev-secret-change-me"
LOOPBACK = "127.0.0.1"  # where `reflex run` listens unless REFLEX_BACKEND_HOST says otherwise
EVERY_INTERFACE = "0.0.0.0"  # where scripts/serve.sh (production) listens unless it says otherwise
MIN_SECRET_BYTES = 32
EMPTY = SecretStr("")


class ConfigError(RuntimeError):
    """The configuration cannot run in the chosen mode."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Reflex sets REFLEX_ENV_MODE for `reflex run --env prod`; anything but dev is production.
    env_mode: str = Field("dev", validation_alias="REFLEX_ENV_MODE")
    # Reflex sets it (an internal variable) to `export` while it compiles a production build:
    # the pages are compiled then, nothing is served, and no secret is needed.
    compile_context: str = Field("", validation_alias="__REFLEX_COMPILE_CONTEXT")

    data_dir: Path = Path("data")
    # Connection URLs may carry passwords: secrets, never printed.
    database_url: SecretStr = EMPTY  # empty: SQLite file under data_dir
    # PostgreSQL connections each process keeps open (and half as many more for bursts).
    db_pool_size: int = Field(20, ge=1, le=500)
    mongodb_uri: SecretStr = EMPTY
    redis_url: SecretStr = EMPTY
    rabbitmq_url: SecretStr = EMPTY
    cloudinary_url: SecretStr = EMPTY  # cloudinary://key:secret@cloud; empty: images on local disk

    # Images (README "Images"): the local store's folder, the upload limit, and how many
    # uploads are decoded at once (each holds a decoded image in memory meanwhile).
    media_dir: Path | None = None  # empty: data_dir/media
    max_image_bytes: int = Field(5 * 1024 * 1024, ge=64 * 1024, le=50 * 1024 * 1024)
    # Files of any type, counted as they arrive; kept in the local store (README "Files and voice").
    max_file_bytes: int = Field(25 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    image_workers: int = Field(2, ge=1, le=32)
    export_ttl_hours: int = Field(24, ge=1, le=24 * 30)  # how long a "download my data" link works

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_expire_days: int = Field(15, ge=1, le=365)
    jwt_issuer: str = "chat_web"  # `iss` of the session tokens, checked on every request
    jwt_audience: str = "chat_web"  # `aud`: a token of another deployment with the same secret is refused

    otp_ttl_seconds: int = Field(300, ge=30)
    otp_resend_seconds: int = Field(60, ge=1)
    otp_max_attempts: int = Field(5, ge=1)

    mail_from: str = "Chat <no-reply@chat.local>"
    smtp_host: str = ""
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = EMPTY
    smtp_tls: str = "none"  # none | starttls | tls
    outbox_path: Path | None = None  # empty: data_dir/outbox.jsonl

    # Abuse limits (429 with Retry-After), counted in Redis when REDIS_URL is set.
    # Sign-in limits count per network (a /24 of IPv4, a /64 of IPv6) and per mailbox (+tags and
    # gmail dots folded); the site-wide ceiling sits above 32 networks asking at full rate.
    limit_codes_per_client_per_minute: int = Field(10, ge=1)
    limit_codes_per_minute: int = Field(1000, ge=1)
    limit_codes_per_account_per_day: int = Field(10, ge=1)
    limit_verify_per_client_per_minute: int = Field(30, ge=1)
    limit_messages_per_10_seconds: int = Field(20, ge=1)
    limit_messages_per_hour: int = Field(600, ge=1)
    limit_searches_per_minute: int = Field(60, ge=1)
    limit_typing_per_minute: int = Field(60, ge=1)
    # New groups and direct chats one user may start per minute (naming people needs no consent).
    limit_chats_per_minute: int = Field(10, ge=1)
    # Paging and jumping through history from the chat page (load older/newer, jump to a quote
    # or to the latest), per user over all their tabs.
    limit_pages_per_second: int = Field(5, ge=1)
    # Tabs one client address may open (hydrate) per minute, per process: each is a state tree
    # kept for minutes even signed out (chat_web/state/guard.py).
    limit_hydrates_per_client_per_minute: int = Field(120, ge=1)
    # Server edges: API event streams (GET /events) one user holds open at once per process,
    # and websockets open at once from one client address per process (beyond: 429 / refused).
    limit_event_streams_per_user: int = Field(10, ge=1)
    # Requests one backend worker keeps open at once: every tab's websocket and every API
    # event stream is one, for as long as it stays (chat_web/granian_limits.py).
    open_requests_per_worker: int = Field(10_000, ge=64, le=1_000_000)
    limit_sockets_per_client: int = Field(200, ge=1)
    # A request body under /api must keep arriving at this rate after the grace (else 408 and
    # the connection closes): a rate, so a large upload on a slow line still gets through.
    body_min_bytes_per_second: int = Field(8 * 1024, ge=1)
    body_grace_seconds: float = Field(10.0, gt=0, le=300)

    # How long, and how many, events of stored writes are kept per user for API clients
    # that reconnect with Last-Event-ID (older: they get `resync`, then call /sync).
    event_replay_seconds: int = Field(600, ge=10, le=86_400)
    event_replay_max: int = Field(1000, ge=10, le=100_000)

    mail_queue: str = "send-otp"  # also names <queue>.retry and <queue>.dead
    mail_max_attempts: int = Field(6, ge=1)
    mail_retry_base_seconds: float = Field(2.0, gt=0)
    mail_retry_max_seconds: float = Field(300.0, gt=0)
    mail_prefetch: int = Field(20, ge=1)

    # Web Push (README "Push notifications"). The VAPID key pair signs every push: base64url,
    # the private key's 32 raw bytes and the public key's 65 (uncompressed point), as
    # `python -m chat_web.adapters.push.keys` prints them. Development makes a pair once and
    # keeps it in DATA_DIR/vapid.json; production refuses to start without one.
    push_enabled: bool = True
    vapid_private_key: SecretStr = EMPTY
    vapid_public_key: str = ""
    vapid_subject: str = "mailto:no-reply@chat.local"  # who push services write to about our pushes
    # A reader with a tab open gets a push only if none of their tabs read the message this soon.
    push_read_delay_seconds: float = Field(5.0, gt=0, le=300)
    # Where a browser's subscription may point (the host or a parent domain): the browsers' push
    # services. Anything else would let a signed-in user make the server POST to any address.
    # Development accepts any host (a local stand-in).
    push_service_hosts: str = (
        "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com"
    )
    push_queue: str = "send-push"  # beside send-otp: <queue>.retry and <queue>.dead too
    push_max_attempts: int = Field(5, ge=1)
    push_retry_base_seconds: float = Field(2.0, gt=0)
    push_retry_max_seconds: float = Field(60.0, gt=0)
    push_prefetch: int = Field(20, ge=1)

    # Read to refuse a setup that would lose live events (Granian's worker count).
    backend_workers: int = Field(1, validation_alias="GRANIAN_WORKERS", ge=1)

    # Production serving (scripts/serve.sh): one port for the pages, the websocket and the API.
    port: int = Field(3000, ge=1, le=65535)
    # The address the backend listens on (Reflex's own variable). Empty: loopback for `reflex run`
    # (development signs with a public secret), every interface for scripts/serve.sh.
    backend_host: str = Field("", validation_alias="REFLEX_BACKEND_HOST")
    # Origins (comma-separated) whose pages may call the API and open the websocket; `*` for any.
    # Empty: every origin in development, only the app's own in production.
    cors_origins: str = ""
    # The largest websocket message the app takes (Reflex's REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE;
    # a larger one closes the socket). The largest legal event is a send or an edit of TEXT_MAX
    # (4,000) characters, at most 6 bytes each as JSON escapes (24 KB), plus the route and the
    # event's name; a hydrate carries two cookies. 64 KiB leaves room; Reflex's default is 1 MB.
    socket_max_event_bytes: int = Field(64 * 1024, ge=32 * 1024, le=1_000_000)
    # Reverse proxies in front of the app whose X-Forwarded-For is believed (for per-address limits).
    trusted_proxy_hops: int = Field(0, ge=0, le=5)
    log_format: Literal["text", "json"] = "text"
    # Set by scripts/serve.sh: where every worker process keeps its metrics, so /metrics adds them up.
    prometheus_multiproc_dir: Path | None = None
    mailer_metrics_port: int = Field(0, ge=0, le=65535)  # 0: the mail worker serves no /metrics
    # The app's /metrics shares the public port: with a token it answers only
    # `Authorization: Bearer <token>`; without one it is open in development and absent (404)
    # in production.
    metrics_token: SecretStr = EMPTY

    # The original Node app's names, read so its environment works unchanged (README).
    original_mongo_uri: SecretStr = Field(EMPTY, validation_alias="MONGO_URI")
    original_jwt_sec: SecretStr = Field(EMPTY, validation_alias="JWT_SEC")
    original_rabbitmq_host: str = Field("", validation_alias="RABBITMQ_HOST")
    original_rabbitmq_username: str = Field("", validation_alias="RABBITMQ_USERNAME")
    original_rabbitmq_password: SecretStr = Field(EMPTY, validation_alias="RABBITMQ_PASSWORD")
    original_cloud_name: str = Field("", validation_alias="CLOUD_NAME")
    original_api_key: str = Field("", validation_alias="API_KEY")
    original_api_secret: SecretStr = Field(EMPTY, validation_alias="API_SECRET")

    _original_warnings: list[str] = PrivateAttr(default_factory=list)

    @field_validator("env_mode")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower() or "dev"

    @field_validator("smtp_tls")
    @classmethod
    def _tls_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"none", "starttls", "tls"}:
            raise ValueError("must be one of none, starttls, tls")
        return value

    @field_validator("database_url", "mongodb_uri", "redis_url", "rabbitmq_url", "cloudinary_url")
    @classmethod
    def _well_formed(cls, value: SecretStr, info) -> SecretStr:
        url = value.get_secret_value().strip()
        if url:
            check_url(info.field_name, url)
        return SecretStr(url)

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        self._original_warnings = adopt_original_settings(self)
        # An empty JWT_SECRET means "not set", not "an empty key".
        if not self.jwt_secret.get_secret_value():
            self.jwt_secret = SecretStr(DEV_JWT_SECRET)
        return self

    @property
    def original_warnings(self) -> list[str]:
        """Where the original app's name and ours were both set (ours won): said once at start."""
        return list(self._original_warnings)

    @property
    def is_dev(self) -> bool:
        return self.env_mode == "dev"

    @property
    def sql_url(self) -> str:
        """The SQLAlchemy async URL; plain postgres URLs get the asyncpg driver."""
        url = self.database_url.get_secret_value()
        if not url:
            return f"sqlite+aiosqlite:///{self.data_dir / 'chat.db'}"
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        return url

    @property
    def outbox_file(self) -> Path:
        return self.outbox_path or self.data_dir / "outbox.jsonl"

    @property
    def exports_folder(self) -> Path:
        return self.data_dir / "exports"

    @property
    def media_folder(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def push_hosts(self) -> tuple[str, ...] | None:
        """The push services' hosts a subscription may name; None (any) in development."""
        if self.is_dev:
            return None
        return tuple(h.strip().lower().strip(".") for h in self.push_service_hosts.split(",") if h.strip())

    @property
    def vapid_file(self) -> Path:
        """Development's own VAPID pair, made on first start."""
        return self.data_dir / "vapid.json"

    @property
    def otp_ttl(self) -> timedelta:
        return timedelta(seconds=self.otp_ttl_seconds)

    @property
    def jwt_lifetime(self) -> timedelta:
        return timedelta(days=self.jwt_expire_days)

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        """CORS origins: the setting; else any in development and none but our own in production."""
        origins = tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())
        return origins or (("*",) if self.is_dev else ())

    def check_production(self) -> None:
        """Refuse to run production on a guessable signing key or without a way to send mail."""
        if self.is_dev:
            return
        secret = self.jwt_secret.get_secret_value().encode()
        if secret == DEV_JWT_SECRET.encode():
            raise ConfigError(
                "JWT_SECRET is the development default; set a random secret of at least "
                f"{MIN_SECRET_BYTES} bytes to run in production "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"JWT_SECRET is {len(secret)} bytes; production needs at least {MIN_SECRET_BYTES}."
            )
        if self.push_enabled and not (self.vapid_private_key.get_secret_value() and self.vapid_public_key):
            raise ConfigError(
                "PUSH_ENABLED is on but VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not both set: push "
                "notifications cannot be signed; set the pair (`python -m chat_web.adapters.push.keys` "
                "prints a new one) or set PUSH_ENABLED=false."
            )
        if not self.smtp_host and not self.rabbitmq_url.get_secret_value():
            raise ConfigError(
                "neither SMTP_HOST nor RABBITMQ_URL is set: sign-in codes would only be written to the "
                "development outbox file; set SMTP_HOST (the app sends mail) or RABBITMQ_URL "
                "(python -m mailer sends it)."
            )

    def check_push(self) -> None:
        """A VAPID pair that is set must be one pair (else every push would be refused)."""
        if self.push_enabled and (self.vapid_private_key.get_secret_value() or self.vapid_public_key):
            # Imported here: the key arithmetic needs `cryptography`, which only push uses.
            from chat_web.adapters.push.keys import vapid_keys

            vapid_keys(self)

    def check_bind(self, host: str) -> None:
        """Development signs sessions with a secret everyone knows: only this machine may use it."""
        if not self.is_dev or self.jwt_secret.get_secret_value() != DEV_JWT_SECRET or is_loopback(host):
            return
        raise ConfigError(
            f"the backend would listen on {host} with the public development JWT_SECRET: anyone who "
            "can reach it could sign in as anyone. Listen on loopback (unset REFLEX_BACKEND_HOST or "
            f"set it to {LOOPBACK}) or set a random JWT_SECRET."
        )

    def check_mailer(self) -> None:
        """The mail worker needs a broker to read from and, in production, a server to send to."""
        if not self.rabbitmq_url.get_secret_value():
            raise ConfigError("RABBITMQ_URL is not set; the mail worker reads its mail from RabbitMQ.")
        if not self.is_dev and not self.smtp_host:
            raise ConfigError(
                "SMTP_HOST is not set: in production the mail worker would only write sign-in codes to "
                "the development outbox file."
            )

    def check_workers(self) -> None:
        """Several backend workers keep their tabs apart; only Redis joins them."""
        if self.backend_workers > 1 and not self.redis_url.get_secret_value():
            raise ConfigError(
                f"GRANIAN_WORKERS={self.backend_workers} without REDIS_URL: each worker would keep its own "
                "tabs and live events between them would be lost; set REDIS_URL or run one worker."
            )


def is_loopback(host: str) -> bool:
    """Whether a listening address is reachable from this machine only."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def describe_invalid(exc: ValidationError) -> str:
    """One line naming each variable that is wrong and why (never its value: it may be a secret)."""
    problems = []
    for error in exc.errors():
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        # A field's error names its variable; a check across fields names its own.
        problems.append(f"{str(error['loc'][0]).upper()}: {message}" if error.get("loc") else message)
    return "; ".join(problems)


def load_settings() -> Settings:
    """Settings from the environment; a malformed value stops the process with one line."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(describe_invalid(exc)) from None


def refuse_to_start(reason: str, production: bool = False) -> NoReturn:
    """Stop the process before anything is served: one line with the reason, no traceback."""
    mode = " in production mode" if production else ""
    print(f"\nchat_web refuses to start{mode}: {reason}\n", file=sys.stderr, flush=True)
    raise SystemExit(1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (after Reflex has set REFLEX_ENV_MODE); a malformed
    value stops the process with one line naming its variable."""
    try:
        return load_settings()
    except ConfigError as exc:
        refuse_to_start(str(exc))
