"""Full-text search over messages: how a query becomes words, and where a text matches them.

Every backend matches the same way, in any case: each word of the query but the last must
appear in the message as a whole word, and the last word (the one being typed) must start a
word of the message, once it has PREFIX_MIN characters ("pin" finds "pinned"). A shorter last
word counts as a whole word, like the others: one letter would match nearly everything.
A word is a run of letters and digits (anything else, `_` included, separates words), so
quotes, `*`, `-`, `:`, `&`, `|`, `!`, parentheses, `%` and `_` in a query are never
operators; `OR`, `AND`, `NOT` and `NEAR` are words like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chat_web.domain.models import Chat, Message

SEARCH_TERMS_MAX = 8  # words of a query that count; the rest only narrow what is already narrow
PREFIX_MIN = 2  # characters the last word needs to match as the start of a word
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What a message must hold: every one of `words` as a whole word and, when `prefix` is
    set, some word that starts with it. All lower case, letters and digits only."""

    words: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def empty(self) -> bool:
        return not self.words and not self.prefix

    def matches(self, words: set[str]) -> bool:
        """The rule itself, over a message's words (text_words): the in-memory store's match."""
        if self.empty or not words.issuperset(self.words):
            return False
        return not self.prefix or any(w.startswith(self.prefix) for w in words)

    def marks(self, word: str) -> bool:
        """A word of a text that this query matched (lower case)."""
        return word in self.words or bool(self.prefix) and word.startswith(self.prefix)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message found, its chat, and `key`: where the backend's newest-first order is at
    this hit (pass it back as `before` to continue after it; only that backend reads it)."""

    message: Message
    chat: Chat
    key: str


def search_query(query: str) -> SearchQuery:
    """A typed query: its last word is a prefix (from PREFIX_MIN characters), the words before
    it whole words. Past SEARCH_TERMS_MAX words, the first ones and the last one count. A last
    word that also came earlier is a whole word (the earlier one already asks for that)."""
    found = [w.lower() for w in _WORD.findall(query)]
    if not found:
        return SearchQuery()
    *earlier, last = found
    words = list(dict.fromkeys(earlier))
    if len(last) < PREFIX_MIN or last in words:
        return SearchQuery(tuple(dict.fromkeys([*words, last]))[:SEARCH_TERMS_MAX])
    return SearchQuery(tuple(words[: SEARCH_TERMS_MAX - 1]), last)


def text_words(text: str) -> set[str]:
    """The words of a message as search sees them (the in-memory store's index)."""
    return {w.lower() for w in _WORD.findall(text)}


def highlight_ranges(text: str, query: SearchQuery) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of `text` that the query matched (a word
    the prefix starts is marked whole)."""
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if query.marks(m.group().lower())]


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
