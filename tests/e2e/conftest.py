"""Start the real app (`reflex run`, development mode) and a headless Chromium for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import REDIS_URL, need_service, port_open
from tests.support.browser import CHROMIUM, launch
from tests.support.limits import lifted_limits_env
from tests.support.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 300  # the first run installs the frontend packages


def wait_for(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
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


def app_env(data: Path, **overrides: str) -> dict[str, str]:
    """The environment of an app process on embedded defaults, with these settings on top."""
    return {
        **os.environ,
        "DATA_DIR": str(data),
        "REFLEX_ENV_MODE": "dev",
        "REDIS_URL": "",
        "DATABASE_URL": "",
        "SMTP_HOST": "",
        "RABBITMQ_URL": "",
        "REFLEX_TELEMETRY_ENABLED": "false",
        # Every browser of the suite signs in from 127.0.0.1: per-address limits would trip.
        **lifted_limits_env(),
        **overrides,
    }


def start_app(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    """`reflex run` with these arguments, in its own process group, logging to `log`."""
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "reflex", "run", "--loglevel", "info", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_app(process: subprocess.Popen) -> None:
    stop_group(process, timeout=20)


def need_bun() -> None:
    need_service(
        "bun (Reflex's JS runtime)", bool(os.environ.get("REFLEX_BUN_PATH")), "run scripts/run-tests.sh"
    )


@pytest.fixture(scope="session", params=["embedded", "redis"])
def app_server(request, tmp_path_factory):
    """Base URLs of a running app whose data lives in a fresh folder.

    "embedded": no services at all. "redis": REDIS_URL set, so Reflex's state manager,
    the OTP store, the rate limits and the fan-out all live in Redis (the scale-out setup).
    """
    need_bun()
    redis_url = ""
    if request.param == "redis":
        need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
        redis_url = REDIS_URL
    data = tmp_path_factory.mktemp("app-data")
    frontend, backend = free_port(), free_port()
    log = data / "app.log"
    process = start_app(
        app_env(data, REDIS_URL=redis_url),
        log,
        "--frontend-port",
        str(frontend),
        "--backend-port",
        str(backend),
    )
    deadline = time.monotonic() + START_TIMEOUT
    try:
        wait_for(f"http://127.0.0.1:{backend}/ping", process, log, deadline)
        wait_for(f"http://127.0.0.1:{frontend}/login", process, log, deadline)
        yield {
            "frontend": f"http://localhost:{frontend}",
            "backend": f"http://localhost:{backend}",
            "data": data,
        }
    finally:
        stop_app(process)


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
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(20_000)
    yield context
    context.close()


# --- signing in without the UI (the sign-in pages have tests of their own) ------------------------

# Keeps every websocket of a page reachable, so a test can cut the live connection the
# way a network drop does (Chromium's offline mode alone leaves open sockets open).
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    window.__sockets.push(socket);
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""
CUT_LIVE_SOCKET = "window.__sockets.filter(s => s.url.includes('/_event')).forEach(s => s.close())"


def mailed_code(data_dir: Path, email: str, timeout: float = 10.0) -> str:
    import json
    import re

    deadline = time.monotonic() + timeout
    outbox = data_dir / "outbox.jsonl"
    while time.monotonic() < deadline:
        if outbox.exists():
            for line in reversed(outbox.read_text().splitlines()):
                mail = json.loads(line)
                if mail.get("to") == email:
                    return re.search(r"\b(\d{6})\b", mail["body"]).group(1)
        time.sleep(0.1)
    raise AssertionError(f"no code was mailed to {email}")


class Person:
    """A signed-in user of the running app: their token, id and name."""

    def __init__(self, server: dict, name: str):
        import uuid

        self.server = server
        self.email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
        api = f"{server['backend']}/api/v1"
        login = httpx.post(f"{api}/login", json={"email": self.email}, timeout=10)
        login.raise_for_status()
        # A production app mails through SMTP (a sink the test holds); development keeps an outbox.
        mail = server.get("mail")
        code = mail.code_for(self.email) if mail else mailed_code(server["data"], self.email)
        proof = {"email": self.email, "otp": code, "challenge": login.json()["challenge"]}
        answer = httpx.post(f"{api}/verify", json=proof, timeout=10)
        answer.raise_for_status()
        self.token = answer.json()["token"]
        self.id = answer.json()["user"]["id"]
        # A suffix of digits: hex letters matched what the tests type ("@a" found "Cyd a24c").
        self.name = f"{name} {int(self.email[len(name) + 1 : len(name) + 9], 16) % 10_000:04d}"
        self.api("POST", "/update/user", json={"name": self.name})

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        response = httpx.request(
            method,
            f"{self.server['backend']}/api/v1{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kwargs,
        )
        response.raise_for_status()
        return response

    def chat_with(self, other: Person) -> str:
        return self.api("POST", "/chat/new", json={"otherUserId": other.id}).json()["chatId"]

    def exchanged_with(self, other: Person) -> str:
        """A direct chat in which both have written (presence is shown only after that)."""
        import uuid

        chat_id = self.chat_with(other)
        for who in (self, other):
            body = {"chatId": chat_id, "text": f"Hi, {who.name} here", "clientId": uuid.uuid4().hex}
            who.api("POST", "/message", json=body)
        return chat_id

    def page(self, browser, path: str = "/chat", frontend: str | None = None, **options):
        """A new browser context signed in as this person, on `path`."""
        base = frontend or self.server["frontend"]
        context = browser.new_context(
            viewport=options.pop("viewport", {"width": 1100, "height": 800}), **options
        )
        context.set_default_timeout(20_000)
        context.add_cookies([{"name": "chat_session", "value": self.token, "url": base}])
        context.add_init_script(TRACK_SOCKETS)
        page = context.new_page()
        page.goto(f"{base}{path}")
        return page


# --- driving the chat page ------------------------------------------------------------------------


@pytest.fixture
def pages():
    """Opened pages; their browser contexts are closed after the test."""
    opened: list = []
    yield opened
    for page in opened:
        page.context.close()


def open_as(pages, browser, person: Person, path: str = "/chat", **options):
    page = person.page(browser, path, **options)
    pages.append(page)
    # The first visit of a route in development mode waits for its on-demand build.
    expect(page.locator("#profile-link")).to_have_text(person.name, timeout=30_000)
    return page


def bubbles(page):
    return page.locator("#messages .msg-text")


def send(page, text: str) -> None:
    page.locator("#composer").fill(text)
    page.locator("#composer").press("Enter")
    expect(page.locator("#composer")).to_have_value("")
