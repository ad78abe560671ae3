"""What a reply quotes of a captioned image, on every store: its caption, at send and read back."""

from __future__ import annotations

from chat_web.domain import NewMessage
from chat_web.domain.models import Image, quote_label
from tests.contract.test_storage import new_users


async def test_a_reply_to_a_captioned_image_quotes_its_caption_at_send_and_in_a_page(store):
    ann, bob = await new_users(store, 2)
    chat = await store.chats.get_or_create_direct(ann.id, bob.id)
    image = Image("https://img.example/a.jpg", "chat-images/a", 800, 600)
    captioned = NewMessage(chat.id, bob.id, "image", text="Summit\nday two", image=image, client_id="i-1")
    bare = NewMessage(chat.id, bob.id, "image", image=image, client_id="i-2")
    await store.messages.send(captioned)
    await store.messages.send(bare)
    first = await store.messages.send(
        NewMessage(chat.id, ann.id, "text", text="wow", client_id="r-1", reply_to=1)
    )
    second = await store.messages.send(
        NewMessage(chat.id, ann.id, "text", text="and?", client_id="r-2", reply_to=2)
    )
    assert quote_label(first.message.quote) == "📷 Summit"
    assert quote_label(second.message.quote) == "📷 Image"
    page = await store.messages.window(chat.id, bob.id, limit=10)
    assert [quote_label(m.quote) for m in page.messages if m.quote] == ["📷 Summit", "📷 Image"]
