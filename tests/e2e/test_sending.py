"""Sending never goes silent: the bubble is drawn at once, kept in the browser until stored,
sent again by its clientId, and a refusal gives the text back (assets/sends.js).

While its socket is up the page sends over it; the API is its way when the socket does not
answer (or the page is offline). The tests of how answers are settled (lost, refused, busy)
shape the API's answers with routes, so they send through the API directly (`api_only`).

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, bubbles, open_as, send

pytestmark = pytest.mark.e2e

UNSENT = "#unsent .msg-line"
KEPT = "Object.entries(localStorage).filter(([k]) => k.startsWith('chat-unsent:')).map(([, v]) => v).join('')"


def ada_and_bob(app_server, browser, pages):
    """Ada, her chat with Bob, and both their pages open on it."""
    ada, bob = Person(app_server, "Ada"), Person(app_server, "Bob")
    chat_id = ada.chat_with(bob)
    return (
        ada,
        chat_id,
        open_as(pages, browser, ada, f"/chat/{chat_id}"),
        open_as(pages, browser, bob, f"/chat/{chat_id}"),
    )


def api_only(page) -> None:
    """This page sends through the API, as it does when its socket does not answer."""
    page.context.add_init_script("window.chatSendsApiOnly = true")
    page.evaluate("window.chatSendsApiOnly = true")


def stored_texts(person: Person, chat_id: str) -> list[str]:
    return [m["text"] for m in person.api("GET", f"/message/{chat_id}").json()["messages"]]


def test_a_message_sent_during_a_silent_drop_shows_at_once_and_arrives_once(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    send(a, "before the drop")
    expect(bubbles(b)).to_have_text(["before the drop"])

    # Offline with the socket left open: nothing answers and nothing closes (Wi-Fi gone).
    a.context.set_offline(True)
    send(a, "sent into the void")
    # At once, before any answer: the bubble, with its clock.
    expect(a.locator(f"{UNSENT} .msg-text")).to_have_text(["sent into the void"], timeout=1_000)
    expect(a.locator(f"{UNSENT} [aria-label='Waiting for the connection']")).to_be_visible(timeout=1_000)
    assert "sent into the void" in a.evaluate(KEPT)  # kept in the browser until stored
    expect(a.locator("#offline-banner")).to_be_visible(timeout=11_000)  # the heartbeat: 5 + 5 s

    a.context.set_offline(False)
    expect(bubbles(b)).to_have_text(["before the drop", "sent into the void"], timeout=30_000)
    expect(a.locator(UNSENT)).to_have_count(0)  # the stored row took the bubble's place
    expect(bubbles(a)).to_have_text(["before the drop", "sent into the void"])
    b.wait_for_timeout(1_500)
    expect(bubbles(b)).to_have_count(2)
    assert stored_texts(ada, chat_id) == ["before the drop", "sent into the void"]
    assert a.evaluate(KEPT) == ""


def test_an_unsent_message_survives_a_reload_and_is_stored_once(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    api_only(a)
    # The send's request fails as a dead network fails it (the page itself stays connected).
    a.context.route("**/api/v1/message", lambda route: route.abort("internetdisconnected"))
    send(a, "keep me")
    expect(a.locator(f"{UNSENT} .msg-text")).to_have_text(["keep me"])
    expect(a.locator(f"{UNSENT} .local-retry")).to_be_visible()  # Not sent · Retry

    a.reload()
    expect(a.locator(f"{UNSENT} .msg-text")).to_have_text(
        ["keep me"], timeout=30_000
    )  # redrawn after the reload
    a.context.unroute("**/api/v1/message")
    a.locator(f"{UNSENT} .local-retry").click()
    expect(bubbles(b)).to_have_text(["keep me"])
    expect(a.locator(UNSENT)).to_have_count(0)
    expect(bubbles(a)).to_have_text(["keep me"])
    assert stored_texts(ada, chat_id) == ["keep me"]


def test_a_late_original_and_its_resend_are_stored_once(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    api_only(a)
    # The first request reaches the server, but its answer is lost: the page sends it again.
    answers = []

    def lose_the_first_answer(route):
        response = route.fetch()
        answers.append(response.status)
        if len(answers) == 1:
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    a.context.route("**/api/v1/message", lose_the_first_answer)
    send(a, "only once")
    expect(bubbles(b)).to_have_text(["only once"])
    expect(a.locator(UNSENT)).to_have_count(0)  # its row came back over the live connection
    assert stored_texts(ada, chat_id) == ["only once"]
    assert a.evaluate(KEPT) == ""


def test_a_refused_message_comes_back_to_the_box_and_a_busy_server_is_asked_again(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    api_only(a)
    refusal = json.dumps({"detail": "That message cannot be sent here."})
    a.context.route(
        "**/api/v1/message",
        lambda route: route.fulfill(status=422, body=refusal, content_type="application/json"),
    )
    a.locator("#composer").fill("refuse me")
    a.locator("#composer").press("Enter")  # (the refusal may put it back before the box is seen empty)
    expect(a.get_by_text("That message cannot be sent here.")).to_be_visible()  # said, as a toast
    expect(a.locator("#composer")).to_have_value("refuse me")  # nothing lost
    expect(a.locator(UNSENT)).to_have_count(0)
    assert a.evaluate(KEPT) == ""
    a.context.unroute("**/api/v1/message")
    a.locator("#composer").fill("")

    # Refused while something new is being written: the refused text goes back before it.
    held = []
    a.context.route("**/api/v1/message", lambda route: held.append(route))
    send(a, "refused later")
    a.locator("#composer").type("typing meanwhile")
    expect(a.locator(UNSENT)).to_have_count(1)
    held[0].fulfill(status=422, body=refusal, content_type="application/json")
    expect(a.locator("#composer")).to_have_value("refused later\ntyping meanwhile")
    expect(a.locator(UNSENT)).to_have_count(0)
    a.context.unroute("**/api/v1/message")
    a.locator("#composer").fill("")

    busy = []

    def busy_once(route):
        busy.append(route.request.post_data_json["clientId"])
        if len(busy) == 1:
            # As the API answers (chat_web/api/errors.py): a page on another origin (the
            # development frontend) may read Retry-After.
            exposed = {"Retry-After": "1", "Access-Control-Expose-Headers": "Retry-After"}
            route.fulfill(status=429, headers=exposed, json={"detail": "Too fast"})
        else:
            route.continue_()

    a.context.route("**/api/v1/message", busy_once)
    send(a, "when you can")
    # Asked again after its Retry-After: 1 s (the page's own wait, without one, is 10 s).
    expect(bubbles(b)).to_have_text(["when you can"], timeout=5_000)
    assert len(busy) == 2 and busy[0] == busy[1]  # the same clientId
    assert stored_texts(ada, chat_id) == ["when you can"]


def test_a_reply_sent_offline_keeps_its_quote(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    send(b, "lunch at noon?")
    expect(bubbles(a)).to_have_text(["lunch at noon?"])
    a.locator(".msg-line").first.hover()
    a.locator(".msg-actions").first.click()
    a.locator(".msg-reply").click()
    expect(a.locator("#reply-banner")).to_be_visible()

    api_only(a)
    a.context.route("**/api/v1/message", lambda route: route.abort("internetdisconnected"))
    send(a, "yes!")
    expect(a.locator(f"{UNSENT} .quote-text")).to_have_text("lunch at noon?")
    expect(a.locator("#reply-banner")).to_be_hidden()
    a.context.unroute("**/api/v1/message")
    a.locator(f"{UNSENT} .local-retry").click()
    expect(b.locator(".msg-line").last.locator(".quote-text")).to_have_text("lunch at noon?")
    expect(a.locator(UNSENT)).to_have_count(0)


def test_while_the_socket_is_up_a_send_goes_over_it_and_arrives_once(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    posted = []
    a.on("request", lambda request: posted.append(request.url) if "/api/v1/message" in request.url else None)
    for text in ("one", "two", "three"):
        send(a, text)
    expect(bubbles(b)).to_have_text(["one", "two", "three"])
    expect(bubbles(a)).to_have_text(["one", "two", "three"])
    expect(a.locator(UNSENT)).to_have_count(0)  # each stored row took its bubble's place
    b.wait_for_timeout(1_000)
    expect(bubbles(b)).to_have_count(3)
    assert posted == []  # no HTTP request: the socket carried them
    assert stored_texts(ada, chat_id) == ["one", "two", "three"]
    assert a.evaluate(KEPT) == ""


@pytest.mark.parametrize("app_server", ["embedded"], indirect=True)  # browser-side: one setup is enough
def test_a_send_the_socket_does_not_answer_goes_through_the_api_once(app_server, browser, pages):
    ada, chat_id, a, b = ada_and_bob(app_server, browser, pages)
    held, servers = [], []  # the socket frames that carry a send: held back, as a stalled socket would

    def stall_sends(ws):
        servers.append(ws.connect_to_server())

        def page_to_server(frame):
            if "send_from_page" in str(frame):
                held.append(frame)
            else:
                servers[-1].send(frame)

        ws.on_message(page_to_server)

    a.route_web_socket("**/_event/**", stall_sends)
    a.reload()
    expect(a.locator("#composer")).to_be_editable()
    with a.expect_request("**/api/v1/message", timeout=15_000):  # after SOCKET_WAIT_MS (10 s)
        send(a, "through the api")
        expect(a.locator(f"{UNSENT} .msg-text")).to_have_text(["through the api"], timeout=1_000)
    expect(bubbles(b)).to_have_text(["through the api"])
    expect(a.locator(UNSENT)).to_have_count(0)
    assert len(held) == 1

    # The stalled original reaches the server after all: its clientId stores it once.
    servers[-1].send(held[0])
    b.wait_for_timeout(1_500)
    expect(bubbles(b)).to_have_text(["through the api"])
    expect(bubbles(a)).to_have_text(["through the api"])
    assert stored_texts(ada, chat_id) == ["through the api"]
