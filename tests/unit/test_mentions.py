"""Who a group message mentions."""

from __future__ import annotations

import pytest

from chat_web.services.mentions import mentioned_ids

MEMBERS = [("a", "Ada"), ("al", "Ada Lovelace"), ("b", "Bob"), ("c", "Cyd Charisse"), ("z", "Zoë")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no mention here", ()),
        ("@Bob lunch?", ("b",)),
        ("lunch, @bob?", ("b",)),  # any case, punctuation after
        ("@Ada Lovelace and @Cyd Charisse", ("al", "c")),  # the longer name, not also "Ada"
        ("@Ada and @Ada Lovelace", ("a", "al")),
        ("mail bob@bob.com", ()),  # not after a letter
        ("@Bobby", ()),  # not the start of a longer word
        ("@Cyd", ()),  # the whole name or nothing
        ("@zoë!", ("z",)),
        ("@Me myself", ()),  # the sender is never mentioned
        ("@Bob @Bob @bob", ("b",)),
    ],
)
def test_mentions_are_whole_names_after_an_at(text, expected):
    assert mentioned_ids(text, [*MEMBERS, ("me", "Me")], sender_id="me") == expected
