"""Message search: the words of a query, the highlight of a match, and the service's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput
from chat_web.domain.search import SEARCH_TERMS_MAX, highlight_parts, highlight_ranges, search_terms
from chat_web.services.chats import ChatService
from chat_web.services.cursor import encode_cursor, pack
from chat_web.services.validation import PAGE_MAX, SEARCH_QUERY_MAX


def test_a_query_is_its_words_in_lower_case():
    assert search_terms('  Lunch "at" NOON, lunch!  ') == ["lunch", "at", "noon"]
    assert search_terms("NOT (a OR b) -c d* e:f %g_h") == ["not", "a", "or", "b", "c", "d", "e", "f"]
    assert search_terms("x:y %g_h") == ["x", "y", "g", "h"]
    assert search_terms("Ünïcödé déjà-vu 日本語") == ["ünïcödé", "déjà", "vu", "日本語"]
    assert search_terms('"*" -- %% __ ()') == []
    assert len(search_terms(" ".join(f"w{i}" for i in range(20)))) == SEARCH_TERMS_MAX


def test_highlights_are_the_matched_whole_words():
    text = "Lunch? lunchbox, LUNCH-time at noon"
    ranges = highlight_ranges(text, ["lunch", "noon"])
    assert [text[s:e] for s, e in ranges] == ["Lunch", "LUNCH", "noon"]
    parts = highlight_parts(text, ranges)
    assert "".join(p for p, _ in parts) == text
    assert [p for p, hit in parts if hit] == ["Lunch", "LUNCH", "noon"]
    assert highlight_parts("abc", []) == [("abc", False)]


def test_highlight_offsets_are_characters_of_the_original_text():
    text = "🎉 İstanbul trip"  # İ lower-cases to two characters; offsets stay on the original
    ((start, end),) = highlight_ranges(text, search_terms("trip"))
    assert text[start:end] == "trip"


@pytest.fixture
def world(clock):
    store = InMemoryStore(clock)
    return ChatService(store.users, store.chats, store.messages, InProcessFanOut(), clock), store


async def test_search_messages_finds_highlights_and_names_the_chat(world):
    chats, store = world
    ann, bob, cy = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "cy")]
    direct = await chats.open_direct(ann, bob.id)
    group = await chats.create_group(ann, "Lunch club", [bob.id, cy.id])
    await chats.send_text(bob, direct.id, "Lunch at noon?")
    await chats.send_text(cy, group.id, "no lunch today")
    page = await chats.search_messages(ann, "  LUNCH ")
    assert [(r.chat_title, r.message.text) for r in page.results] == [
        ("Lunch club", "no lunch today"),
        ("bob", "Lunch at noon?"),
    ]
    assert [r.chat_id for r in page.results] == [group.id, direct.id]
    assert page.results[1].highlights == [(0, 5)] and page.next_cursor is None
    assert (await chats.search_messages(bob, "lunch")).results[1].chat_title == "ann"
    assert (await chats.search_messages(ann, '"*" -- ()')).results == []


async def test_search_messages_pages_with_an_opaque_cursor(world):
    chats, store = world
    ann, bob = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob")]
    chat = await chats.open_direct(ann, bob.id)
    for i in range(7):
        await chats.send_text(ann, chat.id, f"report {i}")
    seen, cursor = [], None
    while True:
        page = await chats.search_messages(bob, "report", limit=3, cursor=cursor)
        seen += [r.message.text for r in page.results]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"report {i}" for i in range(6, -1, -1)]


@pytest.mark.parametrize(
    ("query", "limit", "cursor", "complaint"),
    [
        ("", None, None, "Type something"),
        ("   ", None, None, "Type something"),
        ("x" * (SEARCH_QUERY_MAX + 1), None, None, "at most"),
        (None, None, None, "text"),
        ("ok\x00", None, None, "text"),
        ("ok", 0, None, "limit"),
        ("ok", PAGE_MAX + 1, None, "limit"),
        ("ok", "5", None, "limit"),
        ("ok", None, "garbage!", "cursor"),
        ("ok", None, encode_cursor(datetime.now(UTC), "chat"), "cursor"),
        ("ok", None, pack(["s", 5]), "cursor"),
        ("ok", None, pack(["s", "not-a-position"]), "cursor"),
    ],
)
async def test_search_messages_refuses_bad_input(world, query, limit, cursor, complaint):
    chats, store = world
    ann = await store.users.get_or_create("ann@example.com", "ann")
    with pytest.raises(BadInput, match=complaint):
        await chats.search_messages(ann, query, limit, cursor)


async def test_a_query_of_the_longest_length_is_fine(world):
    chats, store = world
    ann = await store.users.get_or_create("ann@example.com", "ann")
    page = await chats.search_messages(ann, " " + "x" * SEARCH_QUERY_MAX + " ")
    assert page.results == [] and page.next_cursor is None


def test_a_snippet_is_cut_around_the_first_match_and_keeps_the_marks():
    from chat_web.state.rows import SNIPPET_LENGTH, snippet

    text = "x" * 300 + " the <b>Word</b>\nhere " + "y" * 300
    pieces = snippet(text, highlight_ranges(text, ["word"]), "You: ")
    assert pieces[0].text == "You: " and pieces[1].text == "…" and pieces[-1].text == "…"
    assert [p.text for p in pieces if p.hit] == ["Word"]
    body = "".join(p.text for p in pieces[2:-1])
    assert len(body) == SNIPPET_LENGTH and "<b>" in body and "\n" not in body  # text, not markup
    assert [p.text for p in snippet("short one", [])] == ["short one"]
