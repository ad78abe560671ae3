"""PostgreSQL searches a common word and a rare one with different plans; both keep the contract."""

from __future__ import annotations

import pytest

from chat_web.adapters.storage import sql as sql_module
from chat_web.adapters.storage.sql import SqlDatabase, SqlStore
from chat_web.domain.search import SearchQuery, search_query
from tests.contract import test_search as contract
from tests.contract.test_storage import new_users, text
from tests.support.postgres import temporary_database


@pytest.fixture
async def store(postgres_url):
    # A database of its own: the word statistics below count only this test's messages.
    with temporary_database(postgres_url, "chat_plans") as url:
        db = SqlDatabase(url.replace("postgresql://", "postgresql+asyncpg://"))
        await db.migrate()
        store = SqlStore(db)
        store.kind = "postgresql"
        yield store
        await store.close()


@pytest.mark.parametrize("plan", ["common", "rare"])
async def test_either_plan_keeps_the_contract(store, monkeypatch, plan):
    # Every word counts as common (share >= 0) or none does (no share reaches 2).
    monkeypatch.setattr(sql_module, "COMMON_WORD_SHARE", 0.0 if plan == "common" else 2.0)
    await contract.test_finds_a_word_in_any_case(store)
    await contract.test_never_another_chats_message(store)
    await contract.test_newest_first_and_paging_without_gaps_or_repeats(store)
    await contract.test_the_last_word_matches_the_start_of_a_word(store)
    for place in ("last", "first"):
        await contract.test_special_characters_are_never_operators(store, 'NOT (word OR "x") -y:*', place)
        await contract.test_special_characters_are_never_operators(store, "ne&ar|or!(", place)
    await contract.test_quoting_holds_for_any_string_a_backend_is_handed(store, "a\\'&|!(:*")


def test_a_prefix_is_common_when_the_words_it_starts_are():
    shares = {"lunch": 0.2, "lumen": 0.004, "lucky": 0.008}
    assert sql_module._is_common(SearchQuery((), "lu"), shares)  # 0.212 together
    assert sql_module._is_common(SearchQuery((), "lun"), shares)
    assert not sql_module._is_common(SearchQuery((), "lum"), shares)
    assert not sql_module._is_common(SearchQuery(("lumen",), "x"), shares)
    assert sql_module._is_common(SearchQuery(("lunch",), "x"), shares)


async def test_the_planner_statistics_tell_a_common_word_from_a_rare_one(store):
    a, b = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(a.id, b.id)
    word = contract.tag()
    for i in range(250):  # the rare word is in one: a share of 0.4%
        await store.messages.append(text(chat, a, f"{word} {'rare' + word if i == 7 else 'filler'} {i}"))
    async with store.db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE messages")
        await conn.commit()
    repo = store.messages
    repo._shares_at = -sql_module._WORD_STATS_TTL  # read the fresh statistics
    async with store.db.reads() as session:
        shares = await repo._word_shares(session)
    assert shares.get(word, 0) >= sql_module.COMMON_WORD_SHARE  # in every message of this test
    assert shares.get("rare" + word, 0) < sql_module.COMMON_WORD_SHARE
    hits = await repo.search(a.id, search_query(f"rare{word} {word}"), 10)
    assert [h.message.text for h in hits] == [f"{word} rare{word} 7"]
