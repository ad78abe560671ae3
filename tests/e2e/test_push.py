"""Web Push in Chromium: the bell subscribes this browser through the real service worker,
the server's push reaches the stand-in push service, and that push, delivered to the worker
(CDP ServiceWorker.deliverPushMessage), shows the notification; the bell unsubscribes again.

Chromium cannot reach a real push service here, so `PushManager.subscribe` is stubbed: it
returns a subscription whose endpoint is the stand-in's (tests/support/push_service.py),
with keys the stand-in can decrypt with.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import TRACK_SOCKETS, Person
from tests.support.push_service import PushService

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("app_server", ["embedded"], indirect=True)]

STUB_PUSH_MANAGER = """
(() => {
  window.__push = { subscription: null, unsubscribed: 0, key: null };
  const made = () => ({
    endpoint: %(endpoint)s,
    options: { userVisibleOnly: true, applicationServerKey: window.__push.key.buffer },
    toJSON() { return { endpoint: this.endpoint, expirationTime: null, keys: %(keys)s }; },
    unsubscribe() {
      window.__push.subscription = null;
      window.__push.unsubscribed += 1;
      return Promise.resolve(true);
    },
  });
  PushManager.prototype.subscribe = function (options) {
    window.__push.key = new Uint8Array(options.applicationServerKey);
    window.__push.subscription = made();
    return Promise.resolve(window.__push.subscription);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(window.__push.subscription); };
})();
"""
NOTIFICATIONS = """async () => {
  const shown = await (await navigator.serviceWorker.ready).getNotifications();
  return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: (n.data || {}).url }));
}"""


def wait_until(page, check, what: str, timeout: float = 15.0):
    """Poll `check()` until it gives something truthy, letting the page's events run meanwhile."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"never: {what}"
        page.wait_for_timeout(50)
    return found


def test_the_bell_subscribes_and_a_pushed_message_shows_a_notification(app_server, browser, pages):
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    vapid_key = bob.api("GET", "/push/key").json()["publicKey"]
    base = app_server["frontend"]
    with PushService(vapid_key) as service:
        phone = service.browser()
        subscription = phone.subscription_json()
        context = browser.new_context(permissions=["notifications"], viewport={"width": 1100, "height": 800})
        context.set_default_timeout(20_000)
        context.add_cookies([{"name": "chat_session", "value": bob.token, "url": base}])
        context.add_init_script(TRACK_SOCKETS)
        stub = {"endpoint": json.dumps(subscription["endpoint"]), "keys": json.dumps(subscription["keys"])}
        context.add_init_script(STUB_PUSH_MANAGER % stub)
        page = context.new_page()
        pages.append(page)
        page.goto(f"{base}/chat")
        expect(page.locator("#profile-link")).to_have_text(bob.name, timeout=30_000)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")  # pwa.js registered it
        assert page.evaluate("window.__push.subscription") is None  # nothing asked on load

        bell = page.locator("#notify-enable")
        expect(bell).to_have_attribute("aria-pressed", "false")
        bell.click()
        expect(bell).to_have_attribute("aria-pressed", "true")  # in the tab at once
        expect(bell).to_have_attribute("title", "Notifications on")  # push subscribed, stored
        given = page.evaluate("btoa(String.fromCharCode(...window.__push.key))")
        assert base64.urlsafe_b64encode(base64.b64decode(given)).rstrip(b"=").decode() == vapid_key

        # Bob's tab lists his chats but does not open this one: the message stays unread, so
        # once the read delay is over the server pushes it to his browser.
        ada.api(
            "POST",
            "/message",
            json={"chatId": chat_id, "text": "Dinner?\nAt eight", "clientId": uuid.uuid4().hex},
        )
        (push,) = wait_until(page, lambda: service.pushes_to(phone), "the push reached the push service")
        assert service.refused == []
        assert (push.payload["title"], push.payload["body"]) == (ada.name, "Dinner?")
        assert push.payload["url"] == f"/chat/{chat_id}"

        # The push service hands it to the browser: the service worker shows it.
        cdp = context.new_cdp_session(page)
        registrations: list[dict] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        (registration,) = wait_until(
            page,
            lambda: [r for r in registrations if r["scopeURL"] == f"{base}/" and not r["isDeleted"]],
            "the registration",
        )
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": base,
                "registrationId": registration["registrationId"],
                "data": json.dumps(push.payload),
            },
        )
        shown = wait_until(page, lambda: page.evaluate(NOTIFICATIONS), "the notification")
        assert shown == [
            {"title": ada.name, "body": "Dinner?", "tag": f"chat-{chat_id}", "url": f"/chat/{chat_id}"}
        ]

        # Off again: the browser's subscription is given up (and the server told, DELETE).
        bell.click()
        expect(bell).to_have_attribute("aria-pressed", "false")
        page.wait_for_function("window.__push.unsubscribed === 1 && window.__push.subscription === null")
