"""The socket guard (chat_web/state/guard.py), sign-out clearing and log redaction, without a server."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from reflex.state import FrontendEventExceptionState, State, StateUpdate

from chat_web.logs import OneLineFormatter, clean_record
from chat_web.state.chat import ChatState
from chat_web.state.chat_list import ChatListState
from chat_web.state.guard import FRONTEND_ERROR_MAX, FRONTEND_ERRORS_PER_MINUTE, SocketGuard
from chat_web.state.people import PeopleState
from chat_web.state.session import SessionState
from tests.support.chat_page import open_page, run, session_of

TOKEN_VAR = f"{SessionState.get_full_name()}.token_rx_state_"
TZ_VAR = f"{ChatListState.get_full_name()}.tz_rx_state_"


def event(name: str, **payload):
    return SimpleNamespace(name=name, payload=payload)


def root_of(state):
    return state._get_root_state()


async def _signed_in_tab_with_a_chat(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(bob, chat.id, "private words")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    assert state.rows and state._window() and state.user_id
    return state


async def test_sign_out_clears_the_tabs_states_on_the_server(world):
    state = await _signed_in_tab_with_a_chat(world)
    people = session_of(state).substates[PeopleState.get_name()]
    people.query = "someone"
    await run(SessionState.sign_out, state)
    assert (state.rows, state._window(), state.open_id, state._reads, state._names) == ([], [], "", {}, {})
    assert (state.user_id, state.token, people.query) == ("", "", "")


async def test_a_hydrate_without_the_cookie_gets_none_of_the_previous_users_state(world):
    state = await _signed_in_tab_with_a_chat(world)
    guard = SocketGuard()
    hydrate = event(f"{State.get_full_name()}.hydrate_and_load", vars={})
    assert await guard.preprocess(None, root_of(state), hydrate) is None  # the hydrate runs, on empty states
    assert (state.rows, state._window(), state.user_id) == ([], [], "")


async def test_a_hydrate_with_the_same_cookie_keeps_the_tab(world):
    state = await _signed_in_tab_with_a_chat(world)
    hydrate = event(f"{State.get_full_name()}.hydrate_and_load", vars={TOKEN_VAR: state.token})
    await SocketGuard().preprocess(None, root_of(state), hydrate)
    assert state.rows and state._window()


async def test_client_storage_values_are_capped_and_unknown_keys_dropped(world):
    ann = await world.user("ann")
    state = world.tab(ann)
    hydrate = event(
        f"{State.get_full_name()}.hydrate_and_load",
        vars={TOKEN_VAR: "e" * 900_000, TZ_VAR: "America/" + "x" * 900_000, "other.var_rx_state_": "y" * 10},
    )
    await SocketGuard().preprocess(None, root_of(state), hydrate)
    assert hydrate.payload["vars"] == {}


async def test_a_signed_out_tab_runs_only_the_sign_in_pages_handlers(world):
    ann = await world.user("ann")
    state = world.tab(ann)
    state.token = ""
    guard, root = SocketGuard(), root_of(state)
    for name in ("save_edit", "jump_to", "setvar", "set_attentive"):
        dropped = await guard.preprocess(None, root, event(f"{ChatState.get_full_name()}.{name}"))
        assert isinstance(dropped, StateUpdate)
    people = f"{PeopleState.get_full_name()}.search_people"
    assert isinstance(await guard.preprocess(None, root, event(people, value="x" * 1000)), StateUpdate)
    for allowed in (f"{ChatState.get_full_name()}.open_page", f"{SessionState.get_full_name()}.route_home"):
        assert await guard.preprocess(None, root, event(allowed)) is None


async def test_frontend_exceptions_are_cut_rate_limited_and_ignored_when_signed_out(world):
    ann = await world.user("ann")
    state = world.tab(ann)
    guard, root = SocketGuard(), root_of(state)
    name = f"{FrontendEventExceptionState.get_full_name()}.handle_frontend_exception"
    outcomes = []
    for _ in range(FRONTEND_ERRORS_PER_MINUTE + 5):
        reported = event(name, info="E" * 1_000_000, component_stack="S" * 1_000_000)
        outcomes.append(await guard.preprocess(None, root, reported))
        if outcomes[-1] is None:
            assert len(reported.payload["info"]) == FRONTEND_ERROR_MAX
            assert reported.payload["component_stack"] == ""
    assert outcomes.count(None) == FRONTEND_ERRORS_PER_MINUTE

    state.token = ""
    other = world.tab(ann, tab_id="tab-signed-out")
    other.token = ""
    dropped = await guard.preprocess(None, root_of(other), event(name, info="x", component_stack=""))
    assert isinstance(dropped, StateUpdate)


def _line(message: str, *args, exc: BaseException | None = None) -> str:
    record = logging.LogRecord("reflex_base.event", logging.ERROR, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    clean_record(record)
    return OneLineFormatter().format(record)


def test_an_unknown_handlers_log_line_carries_no_token_cookie_or_payload():
    jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbm4ifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    logged = (
        "Error processing event queue entry for Event(name='reflex___state____state.gone', "
        "payload={'text': 'the secret payload'}, router_data={'headers': {'cookie': "
        f"'chat_session={jwt}; theme=dark', 'authorization': 'Bearer {jwt}'}}}}) [txid=1]:"
    )
    try:
        raise KeyError(f"No registered handler found for event: gone {jwt}\nforged line")
    except KeyError as exc:
        line = _line("%s", logged, exc=exc)
    assert jwt not in line and "eyJ" not in line
    assert "chat_session=" not in line and "the secret payload" not in line and "Bearer" not in line
    assert "\n" not in line and "reflex___state____state.gone" in line


def test_newlines_and_control_characters_cannot_forge_log_lines():
    line = _line("frontend exception: %s", "oops\n2026-01-01 INFO chat_web: forged\r\u2028\x1b[31mred")
    assert "\n" not in line and "\r" not in line and "\u2028" not in line and "\x1b" not in line


def test_one_address_opens_a_bounded_number_of_tabs_a_minute():
    guard = SocketGuard()
    cap = guard._hydrates_per_minute
    assert all(guard.admit_hydrate("203.0.113.7", 1000.0 + i / 100) for i in range(cap))
    assert not guard.admit_hydrate("203.0.113.7", 1001.5)  # the same minute: refused
    assert guard.admit_hydrate("198.51.100.2", 1001.5)  # another address is not held back
    assert guard.admit_hydrate("203.0.113.7", 1000.0 + 61)  # a minute on: admitted again
