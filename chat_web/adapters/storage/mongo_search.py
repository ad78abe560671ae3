"""Message search on MongoDB: a stored `words` field and an index on it.

`$text` matches whole words only (no prefixes), and tokenizes its own way (it keeps `_`
inside words and folds diacritics). Instead every message stores `words`: its distinct
words, lower case, cut by domain.search like on every other backend, in a multikey index.
Whole words are `$all`; the prefix is an anchored, case-sensitive regex (`^pin`), which
MongoDB answers from the same index as a range of keys (["pin", "pio")), not a scan.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pymongo import ASCENDING, UpdateOne

from chat_web.domain.search import SearchQuery, text_words

log = logging.getLogger(__name__)

WORDS_INDEX = "messages_words"
_OLD_TEXT_INDEX = "messages_text"  # what searched before the words field (no prefixes)
_BACKFILL_BATCH = 1000


def words_of(text: str) -> list[str]:
    """The `words` field of a message with this text."""
    return sorted(text_words(text))


def words_filter(query: SearchQuery) -> dict[str, Any]:
    """The condition on `words` for a query (not empty)."""
    conditions: list[dict[str, Any]] = []
    if query.words:
        conditions.append({"words": {"$all": list(query.words)}})
    if query.prefix:
        conditions.append({"words": {"$regex": "^" + re.escape(query.prefix)}})
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


async def prepare_words(messages) -> None:
    """The index, the field on messages stored before it (idempotent, in batches, by id), and
    the old text index gone (it no longer answers anything and costs every write)."""
    await messages.create_index([("words", ASCENDING)], name=WORDS_INDEX)
    last = None
    filled = 0
    while True:
        missing: dict[str, Any] = {"words": {"$exists": False}}
        if last is not None:
            missing["_id"] = {"$gt": last}
        docs = [
            doc
            async for doc in messages.find(missing, {"text": 1}).sort("_id", ASCENDING).limit(_BACKFILL_BATCH)
        ]
        if not docs:
            break
        # Only where the field is still missing: an edit meanwhile stored its own words.
        await messages.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "words": {"$exists": False}},
                    {"$set": {"words": words_of(doc.get("text") or "")}},
                )
                for doc in docs
            ],
            ordered=False,
        )
        filled += len(docs)
        last = docs[-1]["_id"]
    if filled:
        log.info("message search: stored the words of %d earlier messages", filled)
    if _OLD_TEXT_INDEX in await messages.index_information():
        await messages.drop_index(_OLD_TEXT_INDEX)
