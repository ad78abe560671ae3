"""Start the real app (`reflex run`, development mode) and a headless Chromium for it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, need_service, port_open
from tests.support.limits import lifted_limits_env
from tests.support.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
START_TIMEOUT = 300  # the first run installs the frontend packages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the app did not answer at {url}:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session", params=["embedded", "redis"])
def app_server(request, tmp_path_factory):
    """Base URLs of a running app whose data lives in a fresh folder.

    "embedded": no services at all. "redis": REDIS_URL set, so Reflex's state manager,
    the OTP store, the rate limits and the fan-out all live in Redis (the scale-out setup).
    """
    need_service(
        "bun (Reflex's JS runtime)", bool(os.environ.get("REFLEX_BUN_PATH")), "run scripts/run-tests.sh"
    )
    redis_url = ""
    if request.param == "redis":
        need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
        redis_url = REDIS_URL
    data = tmp_path_factory.mktemp("app-data")
    frontend, backend = _free_port(), _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "REFLEX_ENV_MODE": "dev",
        "REDIS_URL": redis_url,
        "DATABASE_URL": "",
        "SMTP_HOST": "",
        "RABBITMQ_URL": "",
        "REFLEX_TELEMETRY_ENABLED": "false",
        # Every browser of the suite signs in from 127.0.0.1: per-address limits would trip.
        **lifted_limits_env(),
    }
    log = data / "app.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reflex",
                "run",
                "--frontend-port",
                str(frontend),
                "--backend-port",
                str(backend),
                "--loglevel",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT
    try:
        _wait_for(f"http://127.0.0.1:{backend}/ping", process, log, deadline)
        _wait_for(f"http://127.0.0.1:{frontend}/login", process, log, deadline)
        yield {
            "frontend": f"http://localhost:{frontend}",
            "backend": f"http://localhost:{backend}",
            "data": data,
        }
    finally:
        stop_group(process, timeout=20)


# Module scope: sync Playwright runs an event loop while it is open, which
# would break the asyncio tests that come after it.
@pytest.fixture(scope="module")
def browser():
    need_service(
        "Chromium",
        shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists(),
        "apt-get install -y chromium",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(20_000)
    yield context
    context.close()
