from __future__ import annotations

import pytest
from pydantic import ValidationError

from chat_web.adapters.push.keys import new_keys
from chat_web.config import DEV_JWT_SECRET, ConfigError, Settings, describe_invalid

LONG_SECRET = "x" * 32


def settings(**env) -> Settings:
    return Settings(_env_file=None, **env)


VAPID = new_keys()


def production(**env) -> Settings:
    base = {
        "jwt_secret": LONG_SECRET,
        "smtp_host": "mail",
        "vapid_private_key": VAPID.private,
        "vapid_public_key": VAPID.public,
    }
    return settings(REFLEX_ENV_MODE="prod", **{**base, **env})


def test_development_accepts_the_default_secret_and_no_mail_server():
    settings(REFLEX_ENV_MODE="dev").check_production()


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="development default"):
        production(jwt_secret=DEV_JWT_SECRET).check_production()


def test_an_empty_secret_means_the_default_and_production_refuses_it():
    with pytest.raises(ConfigError, match="development default"):
        production(jwt_secret="").check_production()


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigError, match="at least 32"):
        production(jwt_secret="x" * 31).check_production()


def test_production_accepts_a_long_secret_and_a_mail_server():
    production().check_production()


def test_production_refuses_to_run_without_a_real_mail_path():
    with pytest.raises(ConfigError, match="neither SMTP_HOST nor RABBITMQ_URL"):
        production(smtp_host="").check_production()
    production(smtp_host="", rabbitmq_url="amqp://guest:guest@rabbit:5672/%2F").check_production()


def test_the_mail_worker_needs_rabbitmq_and_in_production_an_smtp_server():
    with pytest.raises(ConfigError, match="RABBITMQ_URL is not set"):
        settings().check_mailer()
    broker = {"rabbitmq_url": "amqp://rabbit/%2F"}
    settings(**broker).check_mailer()  # development: the outbox is fine
    with pytest.raises(ConfigError, match="SMTP_HOST is not set"):
        production(smtp_host="", **broker).check_mailer()
    production(**broker).check_mailer()


def test_secrets_are_never_printed():
    shown = repr(
        production(
            jwt_secret="s3cret-" * 6,
            smtp_password="hunter2",
            database_url="postgresql://app:pg-pass@db:5432/chat",
            redis_url="redis://:redis-pass@cache:6379/0",
        )
    )
    for secret in ("s3cret-", "hunter2", "pg-pass", "redis-pass"):
        assert secret not in shown


def test_sqlite_is_the_default_and_postgres_urls_get_the_async_driver():
    assert settings().sql_url.startswith("sqlite+aiosqlite:///")
    url = settings(database_url="postgresql://u@h:5432/db").sql_url
    assert url == "postgresql+asyncpg://u@h:5432/db"


def invalid(**env) -> str:
    with pytest.raises(ValidationError) as caught:
        settings(**env)
    return describe_invalid(caught.value)


def test_bad_tls_mode_is_refused_naming_the_variable():
    assert invalid(smtp_tls="maybe") == "SMTP_TLS: must be one of none, starttls, tls"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"database_url": "mysql://db/chat"}, "DATABASE_URL: has the scheme 'mysql'; expected postgresql://"),
        ({"database_url": "db:5432/chat"}, "DATABASE_URL: is not a URL"),
        ({"redis_url": "redis://cache:63x9/0"}, "REDIS_URL: has a port that is not a number"),
        ({"redis_url": "redis://cache:6379/zero"}, "REDIS_URL: has a database that is not a number"),
        ({"rabbitmq_url": "amqp:///%2F"}, "RABBITMQ_URL: names no host"),
        ({"mongodb_uri": "http://mongo/chat"}, "MONGODB_URI: has the scheme 'http'"),
    ],
)
def test_a_malformed_url_is_named_without_repeating_it(env, line):
    described = invalid(**env)
    assert described.startswith(line)
    assert next(iter(env.values())) not in described  # it may carry a password


def test_well_formed_urls_pass():
    settings(
        database_url="postgresql:///chat?host=/var/run/postgresql",
        redis_url="rediss://:pw@cache:6380/2",
        rabbitmq_url="amqps://u:p@broker:5671/vhost",
        mongodb_uri="mongodb://a:27017,b:27017/chat?replicaSet=rs0",
    )


# --- the original Node app's settings --------------------------------------------------------------


def test_the_original_names_fill_ours(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://mongo:27017/chat")
    monkeypatch.setenv("JWT_SEC", "their-secret-" * 3)
    monkeypatch.setenv("Rabbitmq_Host", "rabbit")
    monkeypatch.setenv("Rabbitmq_Username", "app")
    monkeypatch.setenv("Rabbitmq_Password", "p@ss/word")
    monkeypatch.setenv("Cloud_Name", "demo")
    monkeypatch.setenv("Api_Key", "1234")
    monkeypatch.setenv("Api_Secret", "abc")
    monkeypatch.setenv("PORT", "5000")
    loaded = settings()
    assert loaded.mongodb_uri.get_secret_value() == "mongodb://mongo:27017/chat"
    assert loaded.jwt_secret.get_secret_value() == "their-secret-" * 3
    assert loaded.rabbitmq_url.get_secret_value() == "amqp://app:p%40ss%2Fword@rabbit:5672/%2F"
    assert loaded.cloudinary_url.get_secret_value() == "cloudinary://1234:abc@demo"
    assert loaded.port == 5000
    assert loaded.original_warnings == []


def test_where_both_are_set_ours_win_with_a_warning(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://theirs/chat")
    monkeypatch.setenv("MONGODB_URI", "mongodb://ours/chat")
    monkeypatch.setenv("JWT_SEC", "theirs-" * 6)
    monkeypatch.setenv("JWT_SECRET", "ours-" * 8)
    monkeypatch.setenv("Rabbitmq_Host", "theirs")
    monkeypatch.setenv("RABBITMQ_URL", "amqp://ours/%2F")
    loaded = settings()
    assert loaded.mongodb_uri.get_secret_value() == "mongodb://ours/chat"
    assert loaded.jwt_secret.get_secret_value() == "ours-" * 8
    assert loaded.rabbitmq_url.get_secret_value() == "amqp://ours/%2F"
    assert loaded.original_warnings == [
        "MONGO_URI is ignored: MONGODB_URI is set too, and ours wins.",
        "JWT_SEC is ignored: JWT_SECRET is set too, and ours wins.",
        "Rabbitmq_Host/_Username/_Password is ignored: RABBITMQ_URL is set too, and ours wins.",
    ]


def test_a_partial_cloudinary_setting_is_ignored_with_a_warning(monkeypatch):
    monkeypatch.setenv("Cloud_Name", "demo")
    loaded = settings()
    assert loaded.cloudinary_url.get_secret_value() == ""
    assert loaded.original_warnings == [
        "Cloud_Name, Api_Key and Api_Secret are ignored: all three are needed (or CLOUDINARY_URL)."
    ]


def test_a_malformed_original_setting_is_named(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mysql://db")
    assert invalid().startswith("MONGO_URI: has the scheme 'mysql'")


def test_cors_is_open_in_development_and_closed_in_production_unless_set():
    assert settings().allowed_origins == ("*",)
    assert production().allowed_origins == ()
    origins = production(cors_origins="https://chat.example.com/, https://admin.example.com")
    assert origins.allowed_origins == ("https://chat.example.com", "https://admin.example.com")
