"""Full-text search over messages: how a query becomes words, and where a text matches them.

Every backend matches the same way: each word of the query must appear in the message as a
whole word, in any case. A word is a run of letters and digits (anything else, `_` included,
separates words), so quotes, `*`, `-`, `:`, parentheses, `%` and `_` in a query are never
operators; `OR`, `AND`, `NOT` and `NEAR` are words like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat_web.domain.models import Chat, Message

SEARCH_TERMS_MAX = 8  # words of a query that count; the rest only narrow what is already narrow
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message found, its chat, and `key`: where the backend's newest-first order is at
    this hit (pass it back as `before` to continue after it; only that backend reads it)."""

    message: Message
    chat: Chat
    key: str


def search_terms(query: str) -> list[str]:
    """The distinct words of a query, lower case, in order (at most SEARCH_TERMS_MAX)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:SEARCH_TERMS_MAX]


def text_words(text: str) -> set[str]:
    """The words of a message as search sees them (the in-memory store's index)."""
    return {w.lower() for w in _WORD.findall(text)}


def highlight_ranges(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of `text` that a query term matches."""
    wanted = set(terms)
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if m.group().lower() in wanted]


def highlight_parts(text: str, ranges: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) in order: what a page renders as plain text pieces."""
    parts: list[tuple[str, bool]] = []
    at = 0
    for start, end in ranges:
        if start > at:
            parts.append((text[at:start], False))
        parts.append((text[start:end], True))
        at = end
    if at < len(text):
        parts.append((text[at:], False))
    return parts
