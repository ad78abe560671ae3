"""The one place that reads the environment: every setting of the app and the mailer."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-secret-change-me-dev-secret-change-me"
MIN_SECRET_BYTES = 32


class ConfigError(RuntimeError):
    """The configuration cannot run in the chosen mode."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Reflex sets REFLEX_ENV_MODE for `reflex run --env prod`; anything but dev is production.
    env_mode: str = Field("dev", validation_alias="REFLEX_ENV_MODE")

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file under data_dir
    mongodb_uri: str = ""
    redis_url: str = ""
    rabbitmq_url: str = ""

    jwt_secret: str = DEV_JWT_SECRET
    jwt_expire_days: int = Field(15, ge=1, le=365)
    jwt_issuer: str = "chat_web"  # `iss` of the session tokens, checked on every request
    jwt_audience: str = "chat_web"  # `aud`: a token of another deployment with the same secret is refused

    otp_ttl_seconds: int = Field(300, ge=30)
    otp_resend_seconds: int = Field(60, ge=1)
    otp_max_attempts: int = Field(5, ge=1)

    mail_from: str = "Chat <no-reply@chat.local>"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_tls: str = "none"  # none | starttls | tls
    outbox_path: Path | None = None  # empty: data_dir/outbox.jsonl

    # Abuse limits (429 with Retry-After), counted in Redis when REDIS_URL is set.
    limit_codes_per_client_per_minute: int = Field(10, ge=1)
    limit_codes_per_minute: int = Field(300, ge=1)
    limit_codes_per_account_per_day: int = Field(10, ge=1)
    limit_verify_per_client_per_minute: int = Field(30, ge=1)
    limit_messages_per_10_seconds: int = Field(20, ge=1)
    limit_messages_per_hour: int = Field(600, ge=1)
    limit_searches_per_minute: int = Field(60, ge=1)
    limit_typing_per_minute: int = Field(60, ge=1)

    # How long, and how many, events of stored writes are kept per user for API clients
    # that reconnect with Last-Event-ID (older: they get `resync`, then call /sync).
    event_replay_seconds: int = Field(600, ge=10, le=86_400)
    event_replay_max: int = Field(1000, ge=10, le=100_000)

    mail_queue: str = "send-otp"  # also names <queue>.retry and <queue>.dead
    mail_max_attempts: int = Field(6, ge=1)
    mail_retry_base_seconds: float = Field(2.0, gt=0)
    mail_retry_max_seconds: float = Field(300.0, gt=0)
    mail_prefetch: int = Field(20, ge=1)

    # Read to refuse a setup that would lose live events (Granian's worker count).
    backend_workers: int = Field(1, validation_alias="GRANIAN_WORKERS", ge=1)

    @field_validator("env_mode")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower() or "dev"

    @field_validator("jwt_secret")
    @classmethod
    def _secret_or_default(cls, value: str) -> str:
        # An empty JWT_SECRET means "not set", not "an empty key".
        return value or DEV_JWT_SECRET

    @field_validator("smtp_tls")
    @classmethod
    def _tls_mode(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"none", "starttls", "tls"}:
            raise ValueError("SMTP_TLS must be one of: none, starttls, tls")
        return value

    @property
    def is_dev(self) -> bool:
        return self.env_mode == "dev"

    @property
    def sql_url(self) -> str:
        """The SQLAlchemy async URL; plain postgres URLs get the asyncpg driver."""
        url = self.database_url.strip()
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
    def otp_ttl(self) -> timedelta:
        return timedelta(seconds=self.otp_ttl_seconds)

    @property
    def jwt_lifetime(self) -> timedelta:
        return timedelta(days=self.jwt_expire_days)

    def check_production(self) -> None:
        """Refuse to run production on a guessable signing key."""
        if self.is_dev:
            return
        if self.jwt_secret == DEV_JWT_SECRET:
            raise ConfigError(
                "JWT_SECRET is the development default; set a random secret of at least "
                f"{MIN_SECRET_BYTES} bytes to run in production "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        if len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"JWT_SECRET is {len(self.jwt_secret.encode())} bytes; production needs at least "
                f"{MIN_SECRET_BYTES}."
            )

    def check_workers(self) -> None:
        """Several backend workers keep their tabs apart; only Redis joins them."""
        if self.backend_workers > 1 and not self.redis_url:
            raise ConfigError(
                f"GRANIAN_WORKERS={self.backend_workers} without REDIS_URL: each worker would keep its own "
                "tabs and live events between them would be lost; set REDIS_URL or run one worker."
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (after Reflex has set REFLEX_ENV_MODE)."""
    return Settings()
