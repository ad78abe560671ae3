"""Start-up refuses unsafe production settings and names a missing service."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from chat_web import container
from chat_web.adapters.push.keys import new_keys
from chat_web.config import Settings
from chat_web.domain import ServiceUnavailable

ROOT = Path(__file__).resolve().parents[2]


PRINT_ROUTES = "import chat_web.chat_web as m; print(sorted(m.app._unevaluated_pages))"


def import_app(tmp_path, code: str = PRINT_ROUTES, **env) -> subprocess.CompletedProcess:
    """Python running `code` (by default: import the app, print its routes) with this environment."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_the_development_secret(tmp_path):
    result = import_app(tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="")
    assert result.returncode == 1
    assert "refuses to start in production mode" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_short_secret(tmp_path):
    result = import_app(tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="short-secret")
    assert result.returncode == 1
    assert "at least 32" in result.stderr


VAPID = new_keys()
PUSH_KEYS = {"VAPID_PRIVATE_KEY": VAPID.private, "VAPID_PUBLIC_KEY": VAPID.public}


def test_production_starts_with_a_long_secret_and_has_no_dev_outbox(tmp_path):
    result = import_app(tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="p" * 40, SMTP_HOST="mail", **PUSH_KEYS)
    assert result.returncode == 0, result.stderr
    assert "login" in result.stdout and "dev/outbox" not in result.stdout


def test_production_refuses_push_without_a_vapid_pair_in_one_line(tmp_path):
    bare = {"VAPID_PRIVATE_KEY": "", "VAPID_PUBLIC_KEY": ""}
    result = import_app(tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="p" * 40, SMTP_HOST="mail", **bare)
    assert result.returncode == 1
    assert "VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY are not both set" in result.stderr
    assert "PUSH_ENABLED=false" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_to_keep_codes_in_the_outbox(tmp_path):
    result = import_app(
        tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="p" * 40, SMTP_HOST="", RABBITMQ_URL="", **PUSH_KEYS
    )
    assert result.returncode == 1
    assert "neither SMTP_HOST nor RABBITMQ_URL is set" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_production_build_compiles_without_the_runtime_secrets(tmp_path):
    # `reflex export` (scripts/build.sh) imports the app to compile its pages.
    result = import_app(tmp_path, REFLEX_ENV_MODE="prod", JWT_SECRET="", __REFLEX_COMPILE_CONTEXT="export")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("code", ["import chat_web.chat_web", "import rxconfig"])
@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"DATABASE_URL": "postgresql://db:port/chat"}, "DATABASE_URL: has a port that is not a number"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: is not a URL"),
        ({"RABBITMQ_URL": "http://guest:guest@broker/"}, "RABBITMQ_URL: has the scheme 'http'"),
        ({"SMTP_TLS": "ssl"}, "SMTP_TLS: must be one of none, starttls, tls"),
    ],
)
def test_a_malformed_setting_stops_with_one_line_naming_it(tmp_path, code, env, line):
    result = import_app(tmp_path, code, **env)
    assert result.returncode == 1
    said = [row for row in result.stderr.splitlines() if row.strip()]
    assert len(said) == 1 and line in said[0], result.stderr
    assert "guest:guest" not in result.stderr


def test_development_has_the_dev_outbox(tmp_path):
    result = import_app(tmp_path, REFLEX_ENV_MODE="dev")
    assert result.returncode == 0, result.stderr
    assert "dev/outbox" in result.stdout


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"redis_url": "redis://127.0.0.1:1/0"}, "Redis"),
        ({"database_url": "postgresql://postgres@127.0.0.1:1/test"}, "database (postgresql)"),
    ],
)
async def test_a_missing_service_is_named(tmp_path, env, named):
    settings = Settings(_env_file=None, data_dir=tmp_path, **env)
    with pytest.raises(ServiceUnavailable) as caught:
        async with container.running(settings):
            pass
    assert named in caught.value.message


async def test_the_app_waits_for_a_missing_service_and_answers_503_naming_it(tmp_path, postgres_url):
    import httpx

    from chat_web.api.app import create_api

    settings = Settings(_env_file=None, data_dir=tmp_path, database_url="postgresql://postgres@127.0.0.1:1/x")
    async with container.running(settings, retry_every=0.2) as started:
        assert started is None
        transport = httpx.ASGITransport(app=create_api())
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            response = await client.post("/login", json={"email": "a@example.com"})
            assert response.status_code == 503
            assert "database (postgresql) cannot be reached" in response.json()["detail"]
            # The service comes back (here: the settings' URL now points at a live server).
            settings.database_url = SecretStr(postgres_url)
            for _ in range(50):
                if (await client.post("/login", json={"email": "a@example.com"})).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the app did not pick the database up")


def test_several_workers_without_redis_are_refused_with_the_reason(tmp_path):
    result = import_app(tmp_path, GRANIAN_WORKERS="3", REDIS_URL="")
    assert result.returncode == 1
    assert "GRANIAN_WORKERS=3 without REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_workers_with_redis_start(tmp_path):
    result = import_app(tmp_path, GRANIAN_WORKERS="3", REDIS_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr


HOLD_LOCK = """
import sys, time
from chat_web.config import Settings
from chat_web.instance_lock import only_process
settings = Settings(_env_file=None, data_dir=sys.argv[1], redis_url=sys.argv[2])
with only_process(settings, wait=float(sys.argv[3])):
    print("serving", flush=True)
    time.sleep(float(sys.argv[4]))
"""


def _hold(tmp_path, redis_url="", wait=0.5, seconds=0.0):
    return subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path), redis_url, str(wait), str(seconds)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_app_process_on_the_same_data_without_redis_is_refused(tmp_path):
    first = _hold(tmp_path, seconds=30)
    try:
        assert first.stdout.readline().strip() == "serving"
        second = _hold(tmp_path, wait=0.5)
        out, err = second.communicate(timeout=30)
        assert second.returncode == 3
        assert "another app process already serves" in err and "REDIS_URL" in err
        assert "Traceback" not in err and "serving" not in out
        # With Redis, processes share live events: a second one is welcome.
        shared = _hold(tmp_path, redis_url="redis://127.0.0.1:6379/15", wait=0.5)
        out, _ = shared.communicate(timeout=30)
        assert shared.returncode == 0 and "serving" in out
    finally:
        first.kill()
        first.wait(timeout=10)
    # Once the first one is gone, the folder is free again.
    again = _hold(tmp_path, wait=5)
    out, _ = again.communicate(timeout=30)
    assert again.returncode == 0 and "serving" in out


async def test_the_start_up_retry_keeps_trying_whatever_fails(tmp_path, monkeypatch):
    real_build = container.build_container
    failures = [RuntimeError("a bug"), KeyError("config"), ServiceUnavailable("Redis is away")]

    async def flaky_build(settings, tabs=None):
        if failures:
            raise failures.pop(0)
        return await real_build(settings, tabs)

    monkeypatch.setattr(container, "build_container", flaky_build)
    settings = Settings(_env_file=None, data_dir=tmp_path)
    async with container.running(settings, retry_every=0.05) as started:
        assert started is None
        with pytest.raises(ServiceUnavailable) as caught:
            container.current()
        assert "a bug" not in caught.value.message  # no internals leak to clients
        deadline = asyncio.get_running_loop().time() + 10
        while failures or container._current is None:
            assert asyncio.get_running_loop().time() < deadline, "start-up gave up"
            await asyncio.sleep(0.02)
        assert container.current().backends["storage"] == "sqlite"


# --- workers that start together on a fresh database -------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request):
    """The DATABASE_URL of a database nothing has migrated yet ("" means SQLite in DATA_DIR)."""
    if request.param == "sqlite":
        yield ""
        return
    from tests.conftest import POSTGRES_URL, need_service, port_open
    from tests.support.postgres import temporary_database

    need_service("PostgreSQL", port_open("127.0.0.1", 5432), POSTGRES_URL)
    with temporary_database(POSTGRES_URL, prefix="chat_startup") as url:
        yield url


async def test_two_processes_migrating_one_fresh_database_at_once_both_succeed(tmp_path, fresh_database):
    # Two engines are two processes' connections: without the lock, the second one fails on
    # "table ... already exists" (every time, here).
    from chat_web.adapters.storage.sql import SqlDatabase

    url = fresh_database.replace("postgresql://", "postgresql+asyncpg://")
    databases = [SqlDatabase(url or f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}") for _ in range(2)]
    try:
        results = await asyncio.gather(*(db.migrate() for db in databases), return_exceptions=True)
        assert results == [None, None]
        async with databases[1].engine.connect() as conn:
            revision = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
        assert revision
    finally:
        for db in databases:
            await db.close()


def test_two_workers_started_together_on_a_fresh_database_both_serve(tmp_path, fresh_database):
    # Both migrate at once: one waits for the other's lock instead of failing on the tables it
    # made. Once each says ready, every request it gets is served: no 503.
    import httpx

    from tests.support.api_server import COMMAND
    from tests.support.processes import HOST, serve_together
    from tests.support.sign_in import outbox_codes, sign_in

    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": fresh_database, "REDIS_URL": ""}
    env.update(REFLEX_ENV_MODE="dev", RABBITMQ_URL="", MONGODB_URI="")
    log = tmp_path / "workers.log"
    with serve_together([COMMAND, COMMAND], "/api/v1/ready", log, env) as workers:
        for n, worker in enumerate(workers):
            with httpx.Client(base_url=f"http://{HOST}:{worker.port}/api/v1", timeout=30) as api:
                assert api.get("/ready").json()["status"] == "ready"
                # Each worker keeps its own codes (no Redis here): sign in where the code was asked.
                session = sign_in(api, outbox_codes(tmp_path / "outbox.jsonl"), f"w{n}@example.com")
                headers = {"Authorization": f"Bearer {session['token']}"}
                answers = [api.get("/chat/all", headers=headers).status_code for _ in range(5)]
                assert answers == [200] * 5
    assert "already exists" not in log.read_text()


async def test_ready_says_starting_until_the_migrations_are_done(tmp_path):
    import httpx

    from chat_web.adapters.storage.migration_lock import migration_lock, sqlite_file
    from chat_web.api.app import create_api

    settings = Settings(_env_file=None, data_dir=tmp_path)
    transport = httpx.ASGITransport(app=create_api())
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
        # Another process migrates (it holds the lock): this one waits, and says so.
        async with migration_lock(sqlite_file(settings.sql_url)):
            starting = asyncio.create_task(_enter_running(settings))
            response = await client.get("/ready")
            assert response.status_code == 503 and response.json()["status"] == "starting"
            assert not starting.done()
        release = await starting  # migrations done: the container is built
        try:
            assert (await client.get("/ready")).json()["status"] == "ready"
        finally:
            await release()


async def _enter_running(settings):
    """Start the app's services; returns how to stop them."""
    stack = contextlib.AsyncExitStack()
    await stack.enter_async_context(container.running(settings, retry_every=0.05))
    return stack.aclose
