"""Files and voice messages on every store: the attachment goes in with the send (each
backend's own send statement, and the transaction path of a group message that may mention),
comes back on every read (a page, one message, a page that reads the chat, my chat list's
preview, a quote), and leaves with a deletion."""

from __future__ import annotations

from chat_web.domain import Attachment, NewMessage
from chat_web.domain.models import quote_label
from tests.contract.test_storage import new_users

REPORT = Attachment("/api/v1/media/" + "F" * 32, "F" * 32, "Q3 report — final.pdf", 48_213, "application/pdf")
VOICE = Attachment("/api/v1/media/" + "V" * 32, "V" * 32, "voice.webm", 9_120, "audio/webm", 12_400)


async def test_a_file_and_a_voice_message_round_trip_with_their_labels(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    sent_file = await store.messages.send(
        NewMessage(chat.id, ann.id, "file", text="the numbers", attachment=REPORT, client_id="f-1")
    )
    assert sent_file.created and sent_file.message.attachment == REPORT
    assert sent_file.message.kind == "file" and sent_file.message.text == "the numbers"
    sent_voice = await store.messages.send(
        NewMessage(chat.id, bob.id, "voice", attachment=VOICE, client_id="v-1")
    )
    assert sent_voice.message.attachment == VOICE

    # A retry of the same client id answers the stored message, attachment included.
    again = await store.messages.send(NewMessage(chat.id, ann.id, "file", attachment=REPORT, client_id="f-1"))
    assert not again.created and again.message.attachment == REPORT and again.message.text == "the numbers"

    page = await store.messages.window(chat.id, ann.id, limit=10)
    assert [(m.kind, m.attachment) for m in page.messages] == [("file", REPORT), ("voice", VOICE)]
    assert (await store.messages.get(chat.id, sent_voice.message.id)).attachment == VOICE
    read = await store.messages.window(chat.id, ann.id, limit=10, read_latest=True)
    assert [m.attachment for m in read.messages] == [REPORT, VOICE]

    listing = await store.chats.listing(ann.id, 10)
    assert [v.chat.preview for v in listing.views if v.chat.id == chat.id] == ["🎤 Voice message (0:12)"]

    answer_file = await store.messages.send(NewMessage(chat.id, bob.id, "text", text="ok", reply_to=1))
    answer_voice = await store.messages.send(NewMessage(chat.id, ann.id, "text", text="yes", reply_to=2))
    assert quote_label(answer_file.message.quote) == "📎 Q3 report — final.pdf"
    assert quote_label(answer_voice.message.quote) == "🎤 Voice message (0:12)"
    page = await store.messages.window(chat.id, bob.id, limit=10)
    assert [quote_label(m.quote) for m in page.messages if m.quote] == [
        "📎 Q3 report — final.pdf",
        "🎤 Voice message (0:12)",
    ]


async def test_a_group_file_that_may_mention_takes_the_transaction_path(store):
    ann, bob, cy = await new_users(store, 3)
    group = await store.chats.create_group(ann.id, "Plans", [ann.id, bob.id, cy.id])
    sent = await store.messages.send(
        NewMessage(group.id, ann.id, "file", text=f"for @{bob.name}", attachment=REPORT),
        mentions=lambda people: tuple(u for u, name in people if name == bob.name),
    )
    assert sent.message.attachment == REPORT and sent.message.mention_ids == (bob.id,)
    assert (await store.messages.get(group.id, sent.message.id)).attachment == REPORT


async def test_seeded_messages_keep_their_attachment(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    stored, created = await store.messages.append(NewMessage(chat.id, ann.id, "voice", attachment=VOICE))
    assert created and stored.attachment == VOICE
    assert (await store.messages.get(chat.id, stored.id)).attachment == VOICE


async def test_deleting_a_file_message_forgets_the_file(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    sent = await store.messages.send(NewMessage(chat.id, ann.id, "file", text="x", attachment=REPORT))
    gone = await store.messages.delete(chat.id, sent.message.id, sent.message.created_at)
    assert gone.deleted and gone.attachment is None and gone.kind == "file"
    assert (await store.messages.get(chat.id, sent.message.id)).attachment is None
