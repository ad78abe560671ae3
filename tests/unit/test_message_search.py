"""Message search: the words of a query, the highlight of a match, and the service's rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput
from chat_web.domain.search import (
    SEARCH_TERMS_MAX,
    SearchQuery,
    highlight_parts,
    highlight_ranges,
    search_query,
    text_words,
)
from chat_web.services.chats import ChatService
from chat_web.services.cursor import encode_cursor, pack
from chat_web.services.validation import PAGE_MAX, SEARCH_QUERY_MAX


def test_a_query_is_whole_words_and_the_last_one_a_prefix():
    assert search_query("Lunch fRi") == SearchQuery(("lunch",), "fri")
    assert search_query("pinned pin") == SearchQuery(("pinned",), "pin")
    assert search_query("pin") == SearchQuery((), "pin")
    assert search_query("lunch?!") == SearchQuery((), "lunch")  # what follows the last word is no word
    assert search_query("Ünïcödé déjà-vu 日本語") == SearchQuery(("ünïcödé", "déjà", "vu"), "日本語")


def test_a_one_letter_last_word_or_a_repeated_one_is_a_whole_word():
    assert search_query("plan b") == SearchQuery(("plan", "b"))
    assert search_query("x") == SearchQuery(("x",))
    assert search_query('  Lunch "at" NOON, lunch!  ') == SearchQuery(("lunch", "at", "noon"))
    assert search_query("pin PIN") == SearchQuery(("pin",))


def test_special_characters_only_separate_words():
    assert search_query("NOT (a OR b) -c d* e:f %g_h") == SearchQuery(
        ("not", "a", "or", "b", "c", "d", "e", "f")
    )
    assert search_query("x:y %g_h") == SearchQuery(("x", "y", "g", "h"))
    assert search_query("lunch NEAR(fr") == SearchQuery(("lunch", "near"), "fr")
    assert search_query("a & b | !or:*") == SearchQuery(("a", "b"), "or")
    assert search_query('"*" -- %% __ ()').empty


def test_past_the_most_words_the_first_ones_and_the_last_count():
    wanted = search_query(" ".join(f"w{i}" for i in range(20)))
    assert wanted == SearchQuery(tuple(f"w{i}" for i in range(SEARCH_TERMS_MAX - 1)), "w19")
    wanted = search_query(" ".join(f"w{i}" for i in range(20)) + " z")
    assert wanted.words == tuple(f"w{i}" for i in range(SEARCH_TERMS_MAX)) and not wanted.prefix


def test_the_rule_over_a_messages_words():
    words = text_words("The PINNED message, ping-pong")
    assert search_query("pin").matches(words) and search_query("message pi").matches(words)
    assert not search_query("pin message").matches(words)  # "pin" is an earlier word: whole
    assert not search_query("inned").matches(words)
    assert not SearchQuery().matches(words)


def test_highlights_are_the_matched_whole_words():
    text = "Lunch? lunchbox, LUNCH-time at noon"
    ranges = highlight_ranges(text, SearchQuery(("lunch", "noon")))
    assert [text[s:e] for s, e in ranges] == ["Lunch", "LUNCH", "noon"]
    parts = highlight_parts(text, ranges)
    assert "".join(p for p, _ in parts) == text
    assert [p for p, hit in parts if hit] == ["Lunch", "LUNCH", "noon"]
    assert highlight_parts("abc", []) == [("abc", False)]


def test_a_word_the_prefix_starts_is_marked_whole():
    text = "Pinned: spin the pin, PINNACLE"
    ranges = highlight_ranges(text, search_query("pin"))
    assert [text[s:e] for s, e in ranges] == ["Pinned", "pin", "PINNACLE"]


def test_highlight_offsets_are_characters_of_the_original_text():
    text = "🎉 İstanbul trip"  # İ lower-cases to two characters; offsets stay on the original
    ((start, end),) = highlight_ranges(text, search_query("trip"))
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


async def test_search_messages_while_typing_finds_the_start_of_the_last_word(world):
    chats, store = world
    ann, bob = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob")]
    chat = await chats.open_direct(ann, bob.id)
    await chats.send_text(bob, chat.id, "I pinned the plan")
    await chats.send_text(bob, chat.id, "spin class?")
    typed = [
        [r.message.text for r in (await chats.search_messages(ann, q)).results] for q in ("p", "pi", "pin")
    ]
    assert typed == [[], ["I pinned the plan"], ["I pinned the plan"]]
    (result,) = (await chats.search_messages(ann, "the pin")).results
    assert result.highlights == [(2, 8), (9, 12)]  # "pinned" whole, and "the"
    assert (await chats.search_messages(ann, "pin the")).results == []  # "pin" is not a word there


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
    pieces = snippet(text, highlight_ranges(text, SearchQuery(("word",))), "You: ")
    assert pieces[0].text == "You: " and pieces[1].text == "…" and pieces[-1].text == "…"
    assert [p.text for p in pieces if p.hit] == ["Word"]
    body = "".join(p.text for p in pieces[2:-1])
    assert len(body) == SNIPPET_LENGTH and "<b>" in body and "\n" not in body  # text, not markup
    assert [p.text for p in snippet("short one", [])] == ["short one"]
