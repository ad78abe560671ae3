"""People search on every store: the start of any word of a name, or a whole email address
(never a prefix of one); an empty query finds no one."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
async def people(store):
    """Three people whose names and addresses carry a tag no other test uses."""
    tag = "q" + uuid.uuid4().hex[:8]  # after "alice" by name
    bob = await store.users.get_or_create(f"bob.{tag}@example.com", f"Bob the Builder{tag}")
    alice = await store.users.get_or_create(f"alice.{tag}@example.com", f"Alice {tag}Wonder")
    ann = await store.users.get_or_create(f"ann.{tag}@example.com", f"{tag}Ann Marie")
    return tag, bob, alice, ann


async def ids(store, query: str, limit: int = 50, **kw) -> list[str]:
    return [u.id for u in await store.users.search(query, limit, **kw)]


async def test_any_word_of_the_name_by_its_start(store, people):
    tag, bob, alice, ann = people
    assert await ids(store, f"builder{tag}") == [bob.id]
    assert await ids(store, f"BUILD bob the builder{tag[:3]}") == [bob.id]  # every word, any order
    assert await ids(store, f"{tag}wond") == [alice.id]  # the second word of Alice's name
    assert await ids(store, f"{tag}ann") == [ann.id]  # the first word
    assert await ids(store, f"marie {tag}") == [ann.id]
    assert await ids(store, f"  Alice   {tag}WONDER  ") == [alice.id]
    assert set(await ids(store, tag)) == {alice.id, ann.id}  # Bob's tag is inside a word, not at its start


async def test_a_word_inside_a_word_or_of_nobody_finds_nothing(store, people):
    tag, *_ = people
    assert await ids(store, f"uilder{tag}") == []
    assert await ids(store, f"bob nobody{tag}") == []  # all the words must match


async def test_a_whole_email_address_in_any_case(store, people):
    tag, bob, alice, _ = people
    assert await ids(store, f"Bob.{tag}@Example.COM") == [bob.id]
    assert await ids(store, f"  alice.{tag}@example.com ") == [alice.id]


@pytest.mark.parametrize(
    "cut",
    ["bob.{tag}@", "BOB.{tag}@", "bob.{tag}@example", "bob.{tag}@example.co", "bob.{tag}", "@example.com"],
)
async def test_never_by_part_of_an_email_address(store, people, cut):
    tag, bob, *_ = people
    assert bob.id not in await ids(store, cut.format(tag=tag))


async def test_an_empty_query_finds_no_one(store, people):
    assert await ids(store, "") == []
    assert await ids(store, "   ") == []


async def test_wildcards_are_literal(store, people):
    tag, *_ = people
    for query in ("%", "_", f"%{tag}", f"_{tag}", "%@example.com", ".*", f"(^| ){tag}"):
        assert await ids(store, query) == []


async def test_excluding_me_and_paging_by_name(store, people):
    tag, _, alice, ann = people
    assert await ids(store, tag, exclude_id=alice.id) == [ann.id]
    first = await ids(store, tag, 1)
    second = await ids(store, tag, 1, offset=1)
    assert first + second == [alice.id, ann.id]  # by name: "Alice …" before "<tag>Ann …"


async def test_letters_beyond_ascii_in_any_case(store):
    tag = "q" + uuid.uuid4().hex[:8]
    emile = await store.users.get_or_create(f"emile.{tag}@example.com", f"Émile {tag}Øster")
    for query in (f"émile {tag}", f"ÉMILE {tag}", f"émi {tag}", f"{tag}øst", f"{tag}ØSTER", f"Émile {tag}Ø"):
        assert await ids(store, query) == [emile.id], query
