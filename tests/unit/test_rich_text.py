"""Links and @mentions in a message's text: what becomes an element, and what stays text."""

from __future__ import annotations

import pytest

from chat_web.domain.rich_text import find_links, find_mentions
from chat_web.state.rows import TextPiece, text_pieces

NAMES = {"me": "Ada Lovelace", "b": "Bob", "c": "Cyd Charisse", "z": "Zoë"}


def links(text: str) -> list[tuple[str, str]]:
    """(what the link shows, where it goes) for each link of `text`."""
    return [(text[link.start : link.end], link.href) for link in find_links(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com", [("https://example.com", "https://example.com")]),
        (
            "http://example.com/a?b=1&c=2#d",
            [("http://example.com/a?b=1&c=2#d", "http://example.com/a?b=1&c=2#d")],
        ),
        ("HTTPS://EXAMPLE.COM", [("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM")]),
        ("go to www.example.com now", [("www.example.com", "https://www.example.com")]),
        ("www.x", [("www.x", "https://www.x")]),
        # Trailing punctuation ends a sentence, not the address.
        ("Look: https://example.com.", [("https://example.com", "https://example.com")]),
        (
            "https://a.io, https://b.io! www.c.io? ok",
            [
                ("https://a.io", "https://a.io"),
                ("https://b.io", "https://b.io"),
                ("www.c.io", "https://www.c.io"),
            ],
        ),
        ("'https://example.com';", [("https://example.com", "https://example.com")]),
        # Parentheses: around a link they are not part of it; balanced inside one they are.
        ("(see https://example.com)", [("https://example.com", "https://example.com")]),
        (
            "https://en.wikipedia.org/wiki/Ada_(programming_language)",
            [
                (
                    "https://en.wikipedia.org/wiki/Ada_(programming_language)",
                    "https://en.wikipedia.org/wiki/Ada_(programming_language)",
                )
            ],
        ),
        (
            "(https://en.wikipedia.org/wiki/Ada_(language)).",
            [
                (
                    "https://en.wikipedia.org/wiki/Ada_(language)",
                    "https://en.wikipedia.org/wiki/Ada_(language)",
                )
            ],
        ),
        ("<https://example.com>", [("https://example.com", "https://example.com")]),
        ('"https://example.com"', [("https://example.com", "https://example.com")]),
        ("https://example.com\nnext line", [("https://example.com", "https://example.com")]),
        ("https://[::1]:8080/x", [("https://[::1]:8080/x", "https://[::1]:8080/x")]),
        ("https://例え.jp/パス", [("https://例え.jp/パス", "https://例え.jp/パス")]),
    ],
)
def test_http_and_www_addresses_are_links(text, expected):
    assert links(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "javascript:https://example.com",  # a scheme before it: not a link at all
        "javascript://www.example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "mailto:ada@example.com",
        "ada@www.example.com",  # an email address, not a web address
        "xhttps://example.com",
        "sub.www.example.com",
        "https://",
        "https:// example.com",
        "www.",
        "www..example.com",
        "https://.",
        "no links here, just www and http talk",
    ],
)
def test_other_schemes_and_non_addresses_stay_text(text):
    assert find_links(text) == []
    assert text_pieces(text, "me", NAMES, "b") == []


def test_an_address_ends_at_a_quote_or_an_angle_bracket_so_no_markup_gets_in():
    text = 'https://example.com/"><img src=x onerror=alert(1)>'
    assert links(text) == [("https://example.com/", "https://example.com/")]
    pieces = text_pieces(text, "me", NAMES, "b")
    assert pieces == [
        TextPiece("https://example.com/", "https://example.com/"),
        TextPiece('"><img src=x onerror=alert(1)>'),
    ]
    assert "".join(p.text for p in pieces) == text  # everything else stays as text


def test_script_tags_around_a_link_are_text_pieces():
    text = "<script>alert(1)</script>https://example.com<script>x</script>"
    pieces = text_pieces(text, "me", NAMES, "b")
    assert [p.href for p in pieces] == ["", "https://example.com", ""]
    assert pieces[0].text == "<script>alert(1)</script>" and pieces[2].text == "<script>x</script>"


def test_invisible_and_control_characters_end_an_address():
    for mark in ("\u200b", "\u202e", "\u2066", "\ufeff", "\x00", "\x1b"):
        assert links(f"https://example.com{mark}evil") == [("https://example.com", "https://example.com")]


def test_a_very_long_address_is_one_link_and_quick():
    url = "https://example.com/" + "a" * 4000
    assert links(f"({url}).") == [(url, url)]
    # Much punctuation or many parentheses do not make the search slow (no backtracking).
    for text in ("https://x.io/" + "(" * 3000 + ")" * 3000, "https://x.io/" + ")" * 4000, "." * 4000):
        find_links(text)
    many = " ".join(f"https://x{n}.io" for n in range(500))
    assert len(find_links(many)) == 500


def test_plain_text_has_no_pieces_and_the_pieces_put_the_text_back_together():
    assert text_pieces("just words, @nobody", "me", NAMES, "b") == []
    text = "Hi @Bob, see https://example.com/@cyd (and www.example.org). @Ada Lovelace!"
    pieces = text_pieces(text, "me", NAMES, "c")
    assert "".join(p.text for p in pieces) == text
    assert [(p.text, p.href, p.kind) for p in pieces if p.href or p.kind] == [
        ("@Bob", "", "mention"),
        ("https://example.com/@cyd", "https://example.com/@cyd", ""),  # no mention inside a link
        ("www.example.org", "https://www.example.org", ""),
        ("@Ada Lovelace", "", "me"),  # naming the reader: marked more strongly
    ]


def test_mentions_are_whole_member_names_the_longest_first_and_never_the_sender():
    assert [(p.text, p.kind) for p in text_pieces("@bob and @BOB", "me", NAMES, "c") if p.kind] == [
        ("@bob", "mention"),
        ("@BOB", "mention"),
    ]
    assert text_pieces("@Bobby and bob@example.com", "me", NAMES, "c") == []
    assert text_pieces("@Bob talks to himself", "me", NAMES, "b") == []  # the sender names nobody
    names = {"a": "Ada", "al": "Ada Lovelace"}
    found = find_mentions("@Ada Lovelace and @Ada", names.items())
    assert [(m.user_id, m.start, m.end) for m in found] == [("al", 0, 13), ("a", 18, 22)]
    # Case folding that changes a length ("ß" is "ss" folded) keeps the offsets right.
    found = find_mentions("Straße @Zoë!", [("z", "ZOË")])
    assert [(m.start, m.end) for m in found] == [(7, 11)]


def test_mention_names_are_text_not_patterns():
    names = {"x": "a.*b", "y": "<img src=x>"}
    pieces = text_pieces("@a.*b and @aXXb and @<img src=x>", "me", names, "z")
    assert [(p.text, p.kind) for p in pieces if p.kind] == [("@a.*b", "mention"), ("@<img src=x>", "mention")]
