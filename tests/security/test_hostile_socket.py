"""Issue 18 replayed over a real websocket against the app (`reflex run --backend-only`,
embedded setup: SQLite, no Redis; REDIS_URL=... runs the same on Redis)."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx
import pytest

from chat_web.state.chat import ChatState
from chat_web.state.chat_list import ChatListState
from chat_web.state.composer import ComposerState
from chat_web.state.people import PeopleState
from chat_web.state.search import MessageSearchState
from chat_web.state.session import SessionState
from tests.conftest import REDIS_URL, need_service, port_open
from tests.e2e.conftest import app_env
from tests.support.hostile import HostileTab, folder_kb
from tests.support.processes import resident_kb, serve
from tests.support.sign_in import outbox_codes, sign_in

HUGE = "x" * 900_000
LARGE = "y" * 50_000  # under the socket's cap: reaches the handlers
CHAT = ChatState.get_full_name()  # the open conversation
LIST = ChatListState.get_full_name()  # the chat list, and which chat is open
COMPOSER = ComposerState.get_full_name()
COMMAND = [
    sys.executable, "-m", "reflex", "run", "--env", "dev", "--backend-only", "--backend-port", "{port}",
]  # fmt: skip


@pytest.fixture(scope="module", params=["embedded", "redis"])
def app(request, tmp_path_factory):
    """The dev backend on the embedded setup, and again with Redis (state manager, fan-out,
    limits): the same hostile client must meet the same bounds on both."""
    data = tmp_path_factory.mktemp("hostile")
    redis = ""
    if request.param == "redis":
        need_service("Redis", port_open("127.0.0.1", 6379), REDIS_URL)
        redis = os.environ.get("HOSTILE_REDIS_URL", REDIS_URL)
    env = app_env(data, REFLEX_STATES_WORKDIR=str(data / "states"), REDIS_URL=redis)
    with serve(COMMAND, "/ping", data / "app.log", env) as served:
        base = f"http://127.0.0.1:{served.port}"
        api = httpx.Client(base_url=f"{base}/api/v1", timeout=30)
        codes = outbox_codes(data / "outbox.jsonl")
        ann, bob = sign_in(api, codes, "ann@example.com"), sign_in(api, codes, "bob@example.com")
        as_ann = {"Authorization": f"Bearer {ann['token']}"}
        chat = api.post("/chat/new", json={"otherUserId": bob["user"]["id"]}, headers=as_ann).json()
        yield {"base": base, "pid": served.process.pid, "data": data, "ann": ann, "bob": bob, "chat": chat}
        api.close()


async def until(condition, seconds: float = 30) -> None:
    """Wait for something the server does (a delta, a log line); fail if it never happens."""

    async def poll():
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), seconds)


def chat_id(app) -> str:
    return app["chat"].get("chatId") or app["chat"].get("id")


async def test_a_flood_of_signed_out_tabs_keeps_nothing(app):
    async def tab_flood(values: list[str]) -> None:
        tab = HostileTab(app["base"])
        await tab.connect()
        for value in values:
            await tab.send(f"{PeopleState.get_full_name()}.search_people", value=value)
            await tab.send(f"{PeopleState.get_full_name()}.set_group_title", value=value)
            await tab.send(f"{MessageSearchState.get_full_name()}.search", value=value)
        await tab.close()

    await tab_flood([LARGE])  # warm up whatever the first tab loads
    states = app["data"] / "states"
    memory_before, disk_before = resident_kb(app["pid"]), folder_kb(states)
    for _ in range(20):
        await tab_flood([LARGE, HUGE])
    probe = HostileTab(app["base"])
    await probe.connect()  # the server has taken everything sent before
    await probe.close()
    grown_kb = resident_kb(app["pid"]) - memory_before + folder_kb(states) - disk_before
    assert grown_kb <= 10 * 1024


async def test_an_unknown_handler_logs_no_token_no_cookie_no_payload(app):
    token = app["ann"]["token"]
    tab = HostileTab(app["base"], cookie=token)
    await tab.connect()
    await tab.send("reflex___state____state.no_such_handler_q7", secret="payload-marker-q7")
    await tab.send(
        "reflex___state____state.frontend_event_exception_state.handle_frontend_exception",
        info="boom\n2026-01-01 INFO chat_web: forged " + token,
        component_stack="",
    )
    log = app["data"] / "app.log"
    await until(lambda: "no_such_handler_q7" in log.read_text())
    await tab.close()
    text = log.read_text()
    assert token not in text and token.split(".")[2] not in text
    assert "payload-marker-q7" not in text and "chat_session=" not in text
    assert "\n2026-01-01 INFO chat_web: forged" not in text


async def test_the_socket_keeps_and_stores_nothing_a_client_submits_outside_an_edit(app):
    """New messages go through the API; the socket's form handler only saves an edit. A client
    that submits to it anyway (many times, over-long) grows no list and stores nothing."""
    path = f"/chat/{chat_id(app)}"
    tab = HostileTab(app["base"], path=path, cookie=app["ann"]["token"])
    await tab.connect()
    await until(lambda: tab.var(LIST, "open_id") == chat_id(app))
    for i in range(30):
        await tab.send(f"{COMPOSER}.save_edit", form_data={"text": f"{i} " + "z" * 3990})
        await tab.send(f"{COMPOSER}.save_edit", form_data={"text": LARGE})
    await tab.send(f"{CHAT}.toggle_mute")  # handled after all of the above: its delta says so
    await until(lambda: tab.var(CHAT, "open_muted") is True)
    await tab.send(f"{CHAT}.toggle_mute")
    await until(lambda: tab.var(CHAT, "open_muted") is False)
    assert not any(tab.var(CHAT, name) for name in ("older", "tail0", "tail1"))
    assert not tab.var(COMPOSER, "editing_text")
    headers = {"Authorization": f"Bearer {app['ann']['token']}"}
    async with httpx.AsyncClient(base_url=f"{app['base']}/api/v1", headers=headers) as api:
        history = (await api.get(f"/message/{chat_id(app)}")).json()
    assert history["messages"] == []
    await tab.close()


async def test_sign_out_leaves_nothing_for_the_next_hydrate_of_the_tab(app):
    path = f"/chat/{chat_id(app)}"
    bob = app["bob"]
    tab = HostileTab(app["base"], path=path, cookie=bob["token"])
    await tab.connect()
    await until(lambda: tab.var(LIST, "rows"))
    await tab.send(f"{SessionState.get_full_name()}.sign_out")
    await until(lambda: tab.var(SessionState.get_full_name(), "user_id") == "")
    await tab.close()

    again = HostileTab(app["base"], path=path, tab=tab.tab)  # the same tab id, no cookie
    await again.connect()
    first = again.deltas[0]
    assert not (first.get(LIST) or {}).get("rows_rx_state_")
    assert not (first.get(CHAT) or {}).get("tail0_rx_state_")
    assert bob["user"]["id"] not in str(first)
    await again.close()


async def test_a_folder_name_zone_cookie_still_loads_the_chats(app):
    zone = {f"{LIST}.tz_rx_state_": "America"}  # the zone cookie, as the browser sends it
    tab = HostileTab(app["base"], path="/chat", cookie=app["ann"]["token"], client_vars=zone)
    await tab.connect()
    await until(lambda: tab.var(LIST, "rows"))
    assert [row["id"] for row in tab.var(LIST, "rows")] == [chat_id(app)]
    await tab.close()
