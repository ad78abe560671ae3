"""What deleting an account asks of storage, on every store: a sender's messages erased in one
write, their images, files and voice recordings handed back, the search index left without
them, and their user row and blocks gone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chat_web.domain import Attachment, Forbidden, Image, NewMessage
from chat_web.domain.models import DELETED_PREVIEW
from chat_web.domain.search import SearchQuery
from chat_web.domain.sending import ACCOUNT_GONE
from tests.contract.test_storage import new_users, text


async def test_erase_sender_makes_tombstones_in_change_order_and_hands_back_images(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    photo = Image("/api/v1/media/" + "p" * 32, "p" * 32, 40, 30)
    await store.messages.send(text(chat, ann, "first of ann"))
    await store.messages.send(text(chat, bob, "bob stays"))
    await store.messages.send(NewMessage(chat.id, ann.id, "image", "a caption", photo))
    gone = await store.messages.send(text(chat, ann, "already deleted"))
    await store.messages.delete(chat.id, gone.message.id, datetime.now(UTC))
    await store.messages.send(text(chat, ann, "last word"))
    report = Attachment("/api/v1/media/" + "f" * 32, "f" * 32, "report.pdf", 1234, "application/pdf")
    await store.messages.send(NewMessage(chat.id, ann.id, "file", attachment=report))
    before = (await store.chats.get(chat.id)).last_change

    stored_media = await store.messages.erase_sender(chat.id, ann.id)

    assert stored_media == [photo, report]  # images first, then files and voice recordings
    after = await store.messages.page_after(chat.id, 0, 10)
    assert [(m.seq, m.deleted, m.text, m.image, m.attachment) for m in after] == [
        (1, True, "", None, None),
        (2, False, "bob stays", None, None),
        (3, True, "", None, None),
        (4, True, "", None, None),
        (5, True, "", None, None),
        (6, True, "", None, None),
    ]
    # Each erased message took its own next change count, in seq order: a reader paging the
    # changes (changed_after with a limit) misses none of them.
    changed = await store.messages.changed_after(chat.id, before, 2)
    assert [(m.seq, m.change) for m in changed] == [(1, before + 1), (3, before + 2)]
    rest = await store.messages.changed_after(chat.id, changed[-1].change, 10)
    assert [(m.seq, m.change) for m in rest] == [(5, before + 3), (6, before + 4)]
    stored = await store.chats.get(chat.id)
    assert stored.last_change == before + 4 and stored.preview == DELETED_PREVIEW  # the last was hers
    assert await store.messages.erase_sender(chat.id, ann.id) == []  # nothing left to erase


async def test_erased_words_are_not_found_and_others_previews_stay(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    await store.messages.send(text(chat, ann, "zebracrossing tonight"))
    await store.messages.send(text(chat, bob, "see you there"))
    assert await store.messages.search(bob.id, SearchQuery(words=("zebracrossing",)), 10)

    await store.messages.erase_sender(chat.id, ann.id)
    await store.messages.purge_search_index()

    assert await store.messages.search(bob.id, SearchQuery(words=("zebracrossing",)), 10) == []
    assert (await store.chats.get(chat.id)).preview == "see you there"  # the last message was Bob's


async def test_deleting_a_user_deletes_their_blocks_either_way(store):
    ann, bob, cy = await new_users(store, 3)
    now = datetime.now(UTC)
    assert await store.users.block(ann.id, bob.id, now)
    assert await store.users.block(cy.id, ann.id, now)
    await store.users.delete(ann.id)
    assert await store.users.get(ann.id) is None
    assert await store.users.blockers_among([cy.id], ann.id) == set()
    assert await store.users.block(ann.id, bob.id, now)  # no row was left to refuse a new one


async def test_a_direct_chat_whose_other_person_is_deleted_takes_no_message(store):
    ann, bob, cy = await new_users(store, 3)
    direct = await store.chats.get_or_create_direct(ann.id, bob.id)
    group = await store.chats.create_group(ann.id, "Trip", [bob.id, cy.id])
    await store.users.delete(ann.id)

    with pytest.raises(Forbidden) as refused:
        await store.messages.send(text(direct, bob, "are you there?"))
    assert refused.value.message == ACCOUNT_GONE
    assert await store.messages.page_after(direct.id, 0, 10) == []  # nothing stored
    assert (await store.messages.send(text(group, bob, "a group goes on"))).created
