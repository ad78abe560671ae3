from __future__ import annotations

import pytest

from chat_web.config import DEV_JWT_SECRET, ConfigError, Settings


def settings(**env) -> Settings:
    return Settings(_env_file=None, **env)


def test_development_accepts_the_default_secret():
    settings(REFLEX_ENV_MODE="dev").check_production()


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="development default"):
        settings(REFLEX_ENV_MODE="prod", jwt_secret=DEV_JWT_SECRET).check_production()


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="at least 32"):
        settings(REFLEX_ENV_MODE="prod", jwt_secret="x" * 31).check_production()


def test_production_accepts_a_long_secret():
    settings(REFLEX_ENV_MODE="prod", jwt_secret="x" * 32).check_production()


def test_sqlite_is_the_default_and_postgres_urls_get_the_async_driver():
    assert settings().sql_url.startswith("sqlite+aiosqlite:///")
    url = settings(database_url="postgresql://u@h:5432/db").sql_url
    assert url == "postgresql+asyncpg://u@h:5432/db"


def test_bad_tls_mode_is_refused():
    with pytest.raises(ValueError, match="SMTP_TLS"):
        settings(smtp_tls="maybe")
