"""What a hostile tab can make the server keep, handler by handler (issue 18), without a server.

The handlers are driven the way the websocket drives them, with the arguments a hostile
client would send instead of the page's; tests/security/test_hostile_socket.py replays the
same over a real socket.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryRateLimiter
from chat_web.domain import RateLimited
from chat_web.services.limits import Limit, TabLimits
from chat_web.services.validation import QUERY_MAX, SEARCH_QUERY_MAX, TEXT_MAX, TITLE_MAX
from chat_web.state import rows as R
from chat_web.state.chat import JUMP_PAGES, ChatState
from chat_web.state.composer import ComposerState
from chat_web.state.people import PeopleState
from chat_web.state.search import MessageSearchState
from tests.support.chat_page import composer, open_page, run, session_of

HUGE = "x" * 900_000


def sibling(state: ChatState, cls):
    """Another state of the same tab (PeopleState, MessageSearchState)."""
    return session_of(state).substates[cls.get_name()]


def signed_out(state: ChatState) -> ChatState:
    state.token = ""
    return state


# --- a bad zone cookie -------------------------------------------------------------------------


BAD_ZONES = ["America", "Europe", "../../etc/passwd", "/etc", "", "x" * 10_000, "Not/AZone"]


@pytest.mark.parametrize("name", BAD_ZONES)
def test_a_zone_that_is_not_one_falls_back_to_utc(name):
    assert R.zone(name).key == "UTC"


async def test_the_chat_page_loads_its_chats_under_a_folder_name_zone_cookie(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(bob, chat.id, "hello")
    state = world.tab(ann, f"/chat/{chat.id}")
    state.tz = "America"  # a folder of the zone database: ZoneInfo raises IsADirectoryError
    await open_page(state)
    assert [row.id for row in state.rows] == [chat.id]
    assert [row.text for row in state._window()] == ["hello"]


# --- signed out: nothing is kept ---------------------------------------------------------------


async def test_signed_out_handlers_keep_none_of_their_arguments(world):
    ann = await world.user("ann")
    chat_state = signed_out(world.tab(ann))
    people, search = sibling(chat_state, PeopleState), sibling(chat_state, MessageSearchState)

    await run(PeopleState.search_people, people, HUGE)
    await run(PeopleState.set_group_title, people, HUGE)
    await run(PeopleState.group_search, people, HUGE)
    await run(PeopleState.set_group_open, people, True)
    await run(MessageSearchState.search, search, HUGE)
    await run(MessageSearchState.set_mode, search, "messages")
    await run(ChatState.set_timezone, chat_state, "Asia/Tokyo")
    chat_state.open_id, composer(chat_state).editing_seq = "some-chat", 1  # even editing, keeps nothing
    await run(ComposerState.save_edit, composer(chat_state), {"text": HUGE})
    await run(ComposerState.save_edit, composer(chat_state), {"text": "short"})

    assert (people.query, people.group_title, people.group_open) == ("", "", False)
    assert (search.query, search.mode) == ("", "people")
    assert chat_state.tz == "Europe/Paris"  # set_timezone checked the session first
    assert composer(chat_state).editing_text == ""


async def test_signed_in_strings_are_capped_at_the_service_limits(world):
    ann = await world.user("ann")
    chat_state = world.tab(ann)
    people, search = sibling(chat_state, PeopleState), sibling(chat_state, MessageSearchState)

    await run(PeopleState.search_people, people, HUGE)
    await run(PeopleState.set_group_title, people, HUGE)
    await run(MessageSearchState.search, search, HUGE)
    assert people.query == ""  # refused (longer than QUERY_MAX), not kept
    assert len(people.group_title) == TITLE_MAX
    assert search.query == ""

    await run(PeopleState.search_people, people, "b" * QUERY_MAX)
    await run(MessageSearchState.search, search, "s" * SEARCH_QUERY_MAX)
    assert len(people.query) == QUERY_MAX
    assert len(search.query) == SEARCH_QUERY_MAX


# --- the composer's form -----------------------------------------------------------------------
# New messages go through the API (assets/sends.js); the form's handler only saves an edit.


async def _open_chat(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    return state


async def test_the_form_stores_and_keeps_nothing_outside_an_edit(world):
    state = await _open_chat(world)
    for i in range(30):
        await run(ComposerState.save_edit, composer(state), {"text": f"not an edit {i}"})
        await run(ComposerState.save_edit, composer(state), {"text": HUGE})
    assert await world.store.messages.page_before(state.open_id, None, 100) == []
    assert state._window() == [] and composer(state).editing_text == ""


async def test_an_over_long_edit_is_refused_and_never_kept(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.chats.send_text(ann, chat.id, "first", "c-1")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    await run(ComposerState.start_edit, composer(state), 1)
    for text in (HUGE, "y" * (TEXT_MAX + 1)):
        await run(ComposerState.save_edit, composer(state), {"text": text})
    assert (
        composer(state).editing_seq == 1 and composer(state).editing_text == "first"
    )  # still editing, as it was
    (stored,) = await world.store.messages.page_before(state.open_id, None, 100)
    assert stored.text == "first" and stored.edited_at is None


# --- paging and jumping ------------------------------------------------------------------------


async def test_paging_and_jumping_are_limited_per_user(world, monkeypatch, clock):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    for i in range(200):
        await world.send(bob, chat.id, f"m{i}")
    limits = TabLimits(InMemoryRateLimiter(clock), Limit(5, timedelta(seconds=1)))
    outcomes: list[str] = []
    counted_page = limits.page

    async def page(user_id: str) -> None:
        try:
            await counted_page(user_id)
        except RateLimited:
            outcomes.append("refused")
            raise
        outcomes.append("passed")

    monkeypatch.setattr(limits, "page", page)
    monkeypatch.setattr(world.container, "tab_limits", limits)
    reads = 0
    history = world.chats.history

    async def counted(*args, **kwargs):
        nonlocal reads
        reads += 1
        return await history(*args, **kwargs)

    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    other_tab = world.tab(ann, f"/chat/{chat.id}", tab_id="tab-2")
    await open_page(other_tab)
    monkeypatch.setattr(world.chats, "history", counted)

    for _ in range(10):  # a hostile loop over two tabs of the same user, all in one second
        await run(ChatState.jump_to, state, 1)
        await run(ChatState.jump_to_latest, other_tab)
        await run(ChatState.load_older, other_tab)
    assert outcomes.count("passed") == 5
    assert outcomes.count("refused") == 25
    assert reads <= 5 * (JUMP_PAGES + 1)

    clock.advance(seconds=1)
    await run(ChatState.jump_to_latest, other_tab)
    assert outcomes[-1] == "passed"  # the next second allows again
