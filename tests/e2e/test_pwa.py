"""The installable app (README: Installable app), on the production build as the container serves it.

The manifest and its icons as served; Chromium's own installability check; the service worker
registering, controlling the page and opening /chat with the network gone (the offline banner,
not Chromium's error page); a deploy's new worker taking over on the next load.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import need_bun
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.production import ProductionServer, build, production_env
from tests.support.smoke import sign_in
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.e2e

BUILT_WORKER = Path(__file__).resolve().parents[2] / ".web" / "build" / "client" / "sw.js"
CACHES = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    out[name] = (await (await caches.open(name)).keys()).map((request) => request.url);
  }
  return out;
}"""
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
REGISTRATIONS = "async () => (await navigator.serviceWorker.getRegistrations()).length"


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A production app of this module's own (its last test deploys another worker into the build),
    and a person signed in to it."""
    need_bun()
    build()
    data = tmp_path_factory.mktemp("pwa")
    sink = SmtpSink().start()
    server = ProductionServer(
        production_env(data, SMTP_HOST="127.0.0.1", SMTP_PORT=str(sink.port)), data / "app.log"
    ).start()
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=20) as http:
            ada = sign_in(http, sink.code_for, "pwa-ada")
        yield {"url": server.url, "token": ada["token"], "code_for": sink.code_for}
    finally:
        server.stop()
        sink.stop()


def worker_version(source: str) -> str:
    return re.search(r'^const VERSION = "([^"]+)";$', source, re.MULTILINE).group(1)


def cache_names_become(page, names: list[str], timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while (found := page.evaluate("() => caches.keys()")) != names and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def signed_in(browser, production):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(20_000)
    context.add_cookies([{"name": "chat_session", "value": production["token"], "url": production["url"]}])
    return context


def test_the_manifest_and_its_icons_are_served_and_every_page_links_them(production):
    from PIL import Image

    base = production["url"]
    answer = httpx.get(f"{base}/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == "application/manifest+json"
    manifest = answer.json()
    assert manifest["start_url"] == "/chat" and manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    purposes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    for icon in manifest["icons"]:
        image = httpx.get(f"{base}{icon['src']}")
        assert image.status_code == 200 and image.headers["content-type"] == icon["type"] == "image/png"
        width, height = map(int, icon["sizes"].split("x"))
        assert Image.open(io.BytesIO(image.content)).size == (width, height)

    for path in ("/login", "/chat", "/chat/some-chat"):
        page = httpx.get(f"{base}{path}", follow_redirects=True)  # /chat is served as /chat/
        assert page.status_code == 200
        assert re.search(r'<link href="/manifest.webmanifest" rel="manifest"/>', page.text), path
        colours = re.findall(
            r'<meta content="(#[0-9a-f]{6})" media="\(prefers-color-scheme: (\w+)\)"', page.text
        )
        assert {scheme for _, scheme in colours} == {"light", "dark"}, path
        assert '<script defer="" src="/pwa.js">' in page.text, path
        assert 'href="/icons/icon-192.png" rel="icon"' in page.text, path
        policy = page.headers["content-security-policy"]
        assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy

    # The worker is the production build's: stamped with its version, its shell listed.
    worker = httpx.get(f"{base}/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker_version(worker.text) != "development"
    shell = json.loads(
        re.search(r"^const SHELL = (\[.*?\]);$", worker.text, re.MULTILINE | re.DOTALL).group(1)
    )
    assert {"/chat", "/login", "/__spa-fallback.html", "/manifest.webmanifest", "/chat.js"} <= set(shell)
    assert not [url for url in shell if url.startswith(("/api/", "/_event", "/dev/"))]
    for url in shell:
        assert httpx.get(f"{base}{url}", follow_redirects=True).status_code == 200, url


def test_chromium_finds_the_app_installable_and_the_worker_waits_past_the_sign_in(production, browser):
    # Installability is never offered in an incognito profile, which a plain context is: a
    # Chromium of its own with a profile on disk, from the same Playwright.
    with tempfile.TemporaryDirectory() as profile:
        context = browser.browser_type.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            cdp = context.new_cdp_session(page)
            # The check itself can fail here: an answer with no manifest is not installable.
            page.goto(f"{production['url']}/api/v1/health")
            assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
            page.goto(f"{production['url']}/login")
            expect(page.locator("#email")).to_be_visible()
            manifest = cdp.send("Page.getAppManifest")
            assert manifest["url"].endswith("/manifest.webmanifest") and manifest["errors"] == []
            assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

            # The sign-in pages leave the worker alone (its install would compete with them) ...
            page.wait_for_timeout(1_000)
            assert page.evaluate(REGISTRATIONS) == 0
            email = "pwa-installer@example.com"
            page.locator("#email").fill(email)
            page.locator("#send-code").click()
            expect(page).to_have_url(f"{production['url']}/verify")
            page.locator("#otp-0").click()
            page.keyboard.type(production["code_for"](email), delay=40)
            # ... and the first page past them registers it, with no page load in between.
            expect(page).to_have_url(f"{production['url']}/profile?welcome=1")
            page.wait_for_function(CONTROLLED)
            loads = page.evaluate("() => performance.getEntriesByType('navigation').map((n) => n.name)")
            assert [url.rstrip("/") for url in loads] == [f"{production['url']}/login"]  # served as /login/
        finally:
            context.close()


def test_the_worker_controls_the_page_and_opens_the_chats_offline(production, browser):
    context = signed_in(browser, production)
    try:
        page = context.new_page()
        page.goto(f"{production['url']}/chat")
        expect(page.locator("#profile-link")).to_be_visible()
        page.wait_for_function(CONTROLLED)
        assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
        assert (
            page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
            == f"{production['url']}/"
        )
        version = worker_version(httpx.get(f"{production['url']}/sw.js").text)
        kept = page.evaluate(CACHES)
        assert list(kept) == [f"chat-shell-{version}"]
        urls = kept[f"chat-shell-{version}"]
        assert f"{production['url']}/chat" in urls
        assert not [url for url in urls if "/api/" in url or "/_event" in url]
        assert page.evaluate("async () => (await fetch('/api/v1/health')).status") == 200

        context.set_offline(True)
        page.reload()
        # The page, from the cache, with the app's own offline state (Chromium's error page has neither).
        expect(page.locator("#offline-banner")).to_be_visible()
        expect(page.locator("main.chat-shell .sidebar")).to_be_visible()
        # A list that never loaded is not an empty one: no "No conversations yet" offline.
        expect(page.get_by_text("No conversations yet")).to_have_count(0)
        assert page.evaluate("() => navigator.serviceWorker.controller !== null")
        # The API is never answered from the cache: offline, it fails as it would without a worker.
        failed = page.evaluate("() => fetch('/api/v1/health').then(() => 'answered', () => 'failed')")
        assert failed == "failed"
        # The installed app's start URL (online, the server answers it with a redirect to /chat/).
        page.goto(f"{production['url']}/chat")
        expect(page.locator("#offline-banner")).to_be_visible()
        # A conversation never opened before opens too (the build's SPA fallback page).
        page.goto(f"{production['url']}/chat/never-opened")
        expect(page.locator("#offline-banner")).to_be_visible()

        context.set_offline(False)
        page.goto(f"{production['url']}/chat")
        expect(page.locator("#offline-banner")).to_have_count(0)
        expect(page.locator("#profile-link")).to_be_visible()
        expect(page.get_by_text("No conversations yet")).to_be_visible()  # loaded: this one has none
    finally:
        context.close()


def _deploy_worker(source: str) -> None:
    """Put `source` in the build as sw.js, with the compressed copies the server prefers."""
    BUILT_WORKER.write_text(source)
    BUILT_WORKER.with_name("sw.js.gz").write_bytes(gzip.compress(source.encode()))
    for sidecar in (".br", ".zst"):
        BUILT_WORKER.with_name(f"sw.js{sidecar}").unlink(missing_ok=True)


def test_a_new_deploy_takes_over_on_the_next_load(production, browser):
    context = signed_in(browser, production)
    original = BUILT_WORKER.read_text()
    sidecars = {p: p.read_bytes() for p in BUILT_WORKER.parent.glob("sw.js.*")}
    old = worker_version(original)
    new = f"{old[:8]}deploy02"
    try:
        page = context.new_page()
        page.goto(f"{production['url']}/chat")
        page.wait_for_function(CONTROLLED)
        assert cache_names_become(page, [f"chat-shell-{old}"]) == [f"chat-shell-{old}"]

        # The same files, another version: what a deploy that changed anything serves.
        _deploy_worker(original.replace(f'const VERSION = "{old}";', f'const VERSION = "{new}";'))
        page.reload()
        # The new worker installs, activates at once and drops the old version's cache.
        assert cache_names_become(page, [f"chat-shell-{new}"]) == [f"chat-shell-{new}"]
        assert page.evaluate("async () => (await navigator.serviceWorker.ready).waiting") is None

        context.set_offline(True)
        page.reload()
        # Only the new version's cache is left: the page comes from the new worker.
        expect(page.locator("#offline-banner")).to_be_visible()
    finally:
        context.close()
        BUILT_WORKER.write_text(original)
        for path, content in sidecars.items():
            path.write_bytes(content)
