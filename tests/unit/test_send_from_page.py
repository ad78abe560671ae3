"""A new message sent over the page's socket (ComposerState.send_from_page, which assets/sends.js
uses while the socket is up): stored once by its clientId, shown in the sending tab at once,
and answered to the page script in the API's terms."""

from __future__ import annotations

import json
import re

from chat_web.adapters.auth.memory import InMemoryRateLimiter
from chat_web.config import Settings
from chat_web.container import abuse_limits
from chat_web.domain.events import message_new
from chat_web.services.limits import LimitGate
from chat_web.state.composer import ComposerState
from tests.support.chat_page import composer, open_page, run


async def send(state, **item):
    return answer_from(await run(ComposerState.send_from_page, composer(state), item))


def answer_from(event) -> dict:
    """The answer the page script receives: the argument of window.chatSends.answered(...)."""
    script = event.args[0][1]._var_value
    found = re.fullmatch(r"window\.chatSends && window\.chatSends\.answered\((\{.*\})\)", script)
    assert found, script
    return json.loads(found.group(1))


async def ann_talking_to_bob(world):
    """Ann's tab, open on her direct chat with Bob."""
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    return ann, bob, chat, state


async def stored_texts(world, user, chat_id) -> list[str]:
    page = await world.chats.history(user, chat_id, None, None, 50, None)
    return [view.message.text for view in page.messages]


async def test_a_send_is_stored_once_shown_at_once_and_answered_like_the_api(world):
    ann, bob, chat, state = await ann_talking_to_bob(world)

    answer = await send(state, chatId=chat.id, text="  hello  ", clientId="c-1")
    assert answer == {"id": "c-1", "detail": "", "after": 0, "status": 201}
    assert [(r.text, r.mine, r.key) for r in state._window()] == [("hello", True, "c-1")]
    assert state._all_rows()[0].preview.endswith("hello") and state._all_rows()[0].badge == ""

    # The same clientId again (the answer was lost): 200, stored and shown once.
    again = await send(state, chatId=chat.id, text="hello", clientId="c-1")
    assert again["status"] == 200
    assert await stored_texts(world, ann, chat.id) == ["hello"]
    assert [r.text for r in state._window()] == ["hello"]

    # Its echo from the fan-out is not delivered to this tab; another tab of mine gets it.
    echo = message_new((await world.chats.history(ann, chat.id, None, None, 50, None)).messages[0].message)
    assert world.live._relevant("tab-2", [echo]) == [echo]
    assert world.live._relevant("tab-1", [echo]) == []


async def test_a_reply_keeps_its_quote(world):
    ann, bob, chat, state = await ann_talking_to_bob(world)
    asked = await world.send(bob, chat.id, "lunch?")
    await open_page(state)  # (again: the question is on screen)
    answer = await send(state, chatId=chat.id, text="yes", clientId="c-2", replyTo=asked.seq)
    assert answer["status"] == 201
    row = state._window()[-1]
    assert (row.text, row.reply_seq, row.reply_text) == ("yes", asked.seq, "lunch?")


async def test_refusals_are_answered_with_the_apis_status_and_nothing_is_stored(world):
    ann, bob, cy = await world.user("ann"), await world.user("bob"), await world.user("cy")
    chat = await world.chats.open_direct(ann, bob.id)
    theirs = await world.chats.open_direct(bob, cy.id)
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)

    assert (await send(state, chatId=chat.id, text="   ", clientId="c-3"))["status"] == 422
    assert (await send(state, chatId=chat.id, text="x" * 4001, clientId="c-4"))["status"] == 422
    assert (await send(state, chatId=chat.id, text="hi", clientId="c" * 65))["status"] == 422
    not_mine = await send(state, chatId=theirs.id, text="hi", clientId="c-5")
    assert not_mine["status"] in (403, 404) and not_mine["detail"]
    # Whatever a hostile client puts in the event: an answer, never an exception.
    for junk in ({}, {"chatId": 5, "text": ["a"], "clientId": {"x": 1}}, {"replyTo": "x", "chatId": chat.id}):
        answer = answer_from(await run(ComposerState.send_from_page, composer(state), junk))
        assert answer["status"] == 422, junk
    assert (
        answer_from(await run(ComposerState.send_from_page, composer(state), "not a dict"))["status"] == 422
    )
    assert await stored_texts(world, ann, chat.id) == [] and state._window() == []


async def test_past_the_send_limit_the_answer_says_when_to_try_again(world):
    # The limits the app runs with (LIMIT_MESSAGES_PER_10_SECONDS: 20), counted in memory.
    world.chats._gate = LimitGate(InMemoryRateLimiter(world.clock))
    world.chats.limits = abuse_limits(Settings(_env_file=None))
    ann, bob, chat, state = await ann_talking_to_bob(world)
    answers = [await send(state, chatId=chat.id, text=f"m{n}", clientId=f"c{n}") for n in range(25)]
    assert [a["status"] for a in answers] == [201] * 20 + [429] * 5
    assert 0 < answers[-1]["after"] <= 10 and answers[-1]["detail"]
    assert len(state._window()) == 20


async def test_a_signed_out_tab_is_answered_401_and_nothing_is_stored(world):
    ann, bob, chat, state = await ann_talking_to_bob(world)
    state.token = ""
    answer = await send(state, chatId=chat.id, text="hi", clientId="c-6")
    assert answer["status"] == 401
    assert await stored_texts(world, ann, chat.id) == []
