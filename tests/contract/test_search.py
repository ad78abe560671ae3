"""One contract for message search on every storage backend (each with its own engine): every
word of a query as a whole word, but the last one (from two characters) as the start of a word."""

from __future__ import annotations

import uuid

import pytest

from chat_web.domain import BadInput, Image, NewMessage
from chat_web.domain.search import SearchQuery, search_query, text_words
from tests.contract.test_storage import new_users, text

SPECIAL_QUERIES = [
    '"',
    '"unbalanced',
    "*",
    "word*",
    "-word",
    "NOT word",
    "word OR other",
    "OR",
    "AND",
    "NEAR(word other)",
    "text:word",
    "col : word",
    "(word",
    "word)",
    "%",
    "_",
    "wo%rd",
    "w_rd",
    "'quote'",
    "\\",
    "&|!<->",
    "^word$",
    "{word}",
    "[a-z]+",
    "word:*",
    ":",
    "&",
    "|",
    "!",
    "(",
    ")",
    "NEAR",
    "near",
    "NOT",
    "or",
    "ord*",
    "or:*",
    "OR:*",
    "ne&ar",
    "!or",
    "(or|no)",
    'nea"r',
    "or'",
    "'or",
    "NEAR/2",
    "^or",
    "an.*",
]
# Strings no query can make (a query's words are letters and digits), handed to a backend
# directly: quoting must hold even so.
RAW_HOSTILE = [
    '"',
    "'",
    "\\",
    ":*",
    "&",
    "|",
    "!",
    "(",
    ")",
    "*",
    "or",
    "near(",
    'a"b',
    "a'b",
    "a\\'",
    ".*",
    "^",
]


@pytest.fixture
def engine(store):
    """The store, for a case that reaches the backend's full-text engine."""
    return store


def tag() -> str:
    """A word no other test's message holds (the PostgreSQL database is shared by the session)."""
    return "t" + uuid.uuid4().hex[:10]


async def search(store, user, query: str, limit: int = 20, before: str | None = None):
    """As the service asks: the last word of `query` as a prefix."""
    return await store.messages.search(user.id, search_query(query), limit, before)


async def whole(store, user, *words: str):
    return await store.messages.search(user.id, SearchQuery(words), 20)


async def test_finds_a_word_in_any_case(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    stored, _ = await store.messages.append(text(chat, b, f"Lunch at the {word.upper()} place, ok?"))
    await store.messages.append(text(chat, b, "nothing to see here"))
    for query in (word, word.upper(), f"  {word.capitalize()}  "):
        hits = await search(store, a, query)
        assert [h.message.id for h in hits] == [stored.id], query
    (hit,) = await search(store, b, f"{word} lunch")  # every word must be there, any order
    assert hit.message == stored and hit.chat.id == chat.id and set(hit.chat.member_ids) == {a.id, b.id}
    assert await search(store, a, f"{word} dinner") == []


async def test_words_before_the_last_are_whole_words(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    await store.messages.append(text(chat, a, f"{word}suffix and prefix{word} marker"))
    assert await search(store, a, f"{word} marker") == []
    assert await whole(store, a, word) == []
    hit, _ = await store.messages.append(text(chat, a, f"({word}), then {word}-dash marker"))
    assert [h.message.id for h in await search(store, a, f"{word} marker")] == [hit.id]
    assert [h.message.id for h in await whole(store, a, word)] == [hit.id]


async def test_the_last_word_matches_the_start_of_a_word(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    pinned, _ = await store.messages.append(text(chat, a, f"{word} the PINNED message"))
    pin, _ = await store.messages.append(text(chat, b, f"{word}: pin it"))
    await store.messages.append(text(chat, a, f"{word} spin, opinion? no: p-i-n"))
    for query in (f"{word} pin", f"{word} PIN", f"{word} Pi"):
        assert {h.message.id for h in await search(store, a, query)} == {pin.id, pinned.id}, query
    assert {h.message.id for h in await search(store, a, f"{word} pinn")} == {pinned.id}
    assert {h.message.id for h in await search(store, a, f"{word} pinned")} == {pinned.id}
    assert await search(store, a, f"{word} inned") == []  # the start of a word, never the inside
    assert await search(store, a, f"{word} pinnedx") == []
    # Earlier words stay whole: "pin" as an earlier word finds only the word "pin".
    assert [h.message.id for h in await search(store, a, f"pin {word}")] == [pin.id]
    # The tag itself, typed halfway, as the last word.
    assert len(await search(store, a, word[:7])) == 3


async def test_ping_pong_and_opinion_are_not_pin_words(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    ping, _ = await store.messages.append(text(chat, a, f"{word} ping-pong"))
    await store.messages.append(text(chat, a, f"{word} spin, opinion"))
    assert [h.message.id for h in await search(store, a, f"{word} pin")] == [ping.id]  # "ping" starts with it


async def test_a_one_letter_last_word_is_a_whole_word(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    alone, _ = await store.messages.append(text(chat, a, f"{word} plan b"))
    await store.messages.append(text(chat, a, f"{word} plan bravo"))
    assert [h.message.id for h in await search(store, a, f"{word} b")] == [alone.id]
    assert len(await search(store, a, f"{word} br")) == 1


async def test_the_prefix_in_any_case_and_script(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    stored, _ = await store.messages.append(text(chat, a, f"{word} Éclair Straße déjà-vu 日本語"))
    for query in ("écl", "ÉCLA", "stra", "DÉJ", "日本"):
        assert [h.message.id for h in await search(store, a, f"{word} {query}")] == [stored.id], query


async def test_never_another_chats_message(engine):
    store = engine
    a, b, c = await new_users(store, 3)
    mine = await store.chats.get_or_create_direct(a.id, b.id)
    theirs = await store.chats.get_or_create_direct(b.id, c.id)
    group = await store.chats.create_group(b.id, "Team", [c.id, a.id])
    word = tag()
    in_mine, _ = await store.messages.append(text(mine, b, f"{word} one"))
    await store.messages.append(text(theirs, b, f"{word} two"))
    in_group, _ = await store.messages.append(text(group, c, f"{word} three"))
    assert {h.message.id for h in await search(store, a, word)} == {in_mine.id, in_group.id}
    assert len(await search(store, b, word)) == 3
    await store.chats.remove_member(group.id, a.id)
    assert [h.message.id for h in await search(store, a, word)] == [in_mine.id]
    (outsider,) = await new_users(store, 1)
    assert await search(store, outsider, word) == []


async def test_newest_first_and_paging_without_gaps_or_repeats(engine):
    store = engine
    a, b, c = await new_users(store, 3)
    one = await store.chats.get_or_create_direct(a.id, b.id)
    two = await store.chats.create_group(a.id, "Two", [b.id, c.id])
    word = tag()
    sent = []
    for i in range(23):
        chat = one if i % 3 else two
        message, _ = await store.messages.append(text(chat, a if i % 2 else b, f"{word} number {i}"))
        sent.append(message.id)
        if i % 5 == 0:
            await store.messages.append(text(chat, a, "noise without the word"))
    everything = await search(store, a, word, limit=100)
    assert [h.message.id for h in everything] == sent[::-1]
    times = [h.message.created_at for h in everything]
    assert times == sorted(times, reverse=True)
    pages, keys, before = [], [], None
    while True:
        page = await search(store, a, word, limit=5, before=before)
        pages.append([h.message.id for h in page])
        if len(page) < 5:
            break
        before = page[-1].key
        keys.append(before)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [m for p in pages for m in p] == sent[::-1]
    # A message sent while paging is newer than the cursor: the next page is unchanged,
    # and a fresh search starts with it.
    late, _ = await store.messages.append(text(one, b, f"{word} late"))
    assert [h.message.id for h in await search(store, a, word, limit=5, before=keys[0])] == pages[1]
    assert (await search(store, a, word, limit=1))[0].message.id == late.id


async def test_no_match_is_empty(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await store.messages.append(text(chat, a, "some words here"))
    assert await search(store, a, tag()) == []
    assert await store.messages.search(a.id, SearchQuery(), 10) == []


async def test_image_captions_are_searched(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    image = Image(url="https://img.example/x.png", public_id="chat/x", width=64, height=48)
    captioned, _ = await store.messages.append(
        NewMessage(chat_id=chat.id, sender_id=a.id, kind="image", text=f"beach {word}", image=image)
    )
    await store.messages.append(NewMessage(chat_id=chat.id, sender_id=a.id, kind="image", image=image))
    (hit,) = await search(store, b, word)
    assert hit.message.id == captioned.id and hit.message.kind == "image" and hit.message.image == image


async def test_unicode_words(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    stored, _ = await store.messages.append(text(chat, a, f"Ünïcödé {word} Straße déjà-vu 🎉"))
    assert [h.message.id for h in await search(store, a, f"ünïcödé {word}")] == [stored.id]
    assert [h.message.id for h in await search(store, a, f"DÉJÀ {word}")] == [stored.id]


TEXTS = ("{w} other stuff", "{w} word plus", "{w} order nearby andante notice", "{w} near or not and")


@pytest.mark.parametrize("query", SPECIAL_QUERIES)
@pytest.mark.parametrize("place", ["last", "first"])
async def test_special_characters_are_never_operators(engine, query, place):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    texts = [t.format(w=word) for t in TEXTS]
    for t in texts:
        await store.messages.append(text(chat, a, t))
    typed = f"{word} {query}" if place == "last" else f"{query} {word}"
    hits = await search(store, a, typed)
    wanted = search_query(typed)
    # Exactly the messages the rule picks: no operator changed the meaning.
    expected = {t for t in texts if wanted.matches(text_words(t))}
    assert {h.message.text for h in hits} == expected, wanted


@pytest.mark.parametrize("raw", RAW_HOSTILE)
async def test_quoting_holds_for_any_string_a_backend_is_handed(engine, raw):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    texts = [t.format(w=word) for t in TEXTS]
    for t in texts:
        await store.messages.append(text(chat, a, t))
    await store.messages.append(text(chat, a, f"{raw} {raw}* ({raw}) without the tag"))
    for query in (SearchQuery((word,), raw), SearchQuery((word, raw)), SearchQuery((raw, word), "or")):
        hits = await store.messages.search(a.id, query, 20)  # never a syntax error
        # ... and never more than the tag's messages: no word of it was turned into an operator.
        assert {h.message.text for h in hits} <= set(texts), query


@pytest.mark.parametrize("bad", ["x", "-1", "not a key", "2026-01-01T00:00:00~", "1" * 40, "~" * 3])
async def test_a_cursor_it_did_not_make_is_bad_input(store, bad):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    await store.messages.append(text(chat, a, "anything at all"))
    with pytest.raises(BadInput):
        await search(store, a, "anything", before=bad)


async def test_an_edit_is_found_by_its_new_words_and_a_deletion_not_at_all(engine):
    ann, bob = await new_users(engine, 2)
    chat = await engine.chats.get_or_create_direct(ann.id, bob.id)
    old, new, gone = tag(), tag(), tag()
    first, _ = await engine.messages.append(text(chat, ann, f"meet at {old}"))
    second, _ = await engine.messages.append(text(chat, ann, f"bring {gone}"))
    await engine.messages.edit(chat.id, first.id, f"meet at {new}", first.created_at)
    await engine.messages.delete(chat.id, second.id, second.created_at)
    assert [h.message.id for h in await search(engine, bob, new)] == [first.id]
    assert await search(engine, bob, old) == []
    assert await search(engine, bob, gone) == []


async def test_mongodb_fills_the_words_of_messages_stored_before_them(store):
    """Messages stored before the `words` field get it at start; the old text index goes."""
    if store.backend != "mongodb":
        pytest.skip("MongoDB's words field only")
    from bson import ObjectId

    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    old, _ = await store.messages.append(text(chat, a, f"Older {word} message"))
    await store.db.messages.update_one({"_id": ObjectId(old.id)}, {"$unset": {"words": ""}})
    await store.db.messages.create_index([("text", "text")], name="messages_text", default_language="none")
    assert await search(store, b, word) == []
    await store.prepare()
    assert [h.message.id for h in await search(store, b, f"older {word[:5]}")] == [old.id]
    assert "messages_text" not in await store.db.messages.index_information()


async def test_a_long_start_skips_newer_words_that_share_its_first_letters(engine):
    store = engine
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = tag()
    older = [(await store.messages.append(text(chat, a, f"{word} pinned {i}")))[0].id for i in range(7)]
    for i in range(30):
        await store.messages.append(text(chat, b, f"{word} pinball {i}"))
    pages, before = [], None
    while page := await search(store, a, f"{word} pinn", limit=3, before=before):
        pages.append([h.message.id for h in page])
        before = page[-1].key
    assert [m for p in pages for m in p] == older[::-1] and [len(p) for p in pages] == [3, 3, 1]
