"""People search: how a query becomes what every storage backend matches.

* A query with `@` in it is an email address: it finds the one person with exactly that
  address (in any case), never anyone whose address merely starts with it, so a search
  cannot confirm an address character by character.
* Any other query is words of a name: each word must be the start of a word of the name
  (words are separated by spaces), in any case. "Builder" and "bob build" both find
  "Bob the Builder".
* An empty query finds no one: the directory cannot be listed.
"""

from __future__ import annotations

from dataclasses import dataclass

PEOPLE_TERMS_MAX = 4  # words of a name query that count


@dataclass(frozen=True, slots=True)
class PeopleQuery:
    words: tuple[str, ...] = ()  # lower-case starts of name words, all of which must match
    email: str | None = None  # a whole address, lower-case

    @property
    def empty(self) -> bool:
        return not self.words and not self.email


def people_query(query: str) -> PeopleQuery:
    text = query.strip().lower()
    if "@" in text:
        return PeopleQuery(email=text)
    return PeopleQuery(words=tuple(dict.fromkeys(text.split()))[:PEOPLE_TERMS_MAX])


def name_matches(name: str, query: PeopleQuery) -> bool:
    """The rule itself, for the in-memory store (the others say the same in their own terms)."""
    words = name.lower().split(" ")
    return bool(query.words) and all(any(w.startswith(term) for w in words) for term in query.words)
