"""The chat page's rows for links, @mentions and quotes of captioned images (issue 19)."""

from __future__ import annotations

from chat_web.domain import quote_of
from chat_web.domain.events import message_edited, message_new
from chat_web.domain.wire import quote_json
from chat_web.state.composer import ComposerState
from chat_web.state.rows import TextPiece
from tests.support import images
from tests.support.chat_page import composer, open_page, run
from tests.unit.test_chat_state import screen, shown


def marked(row) -> list[tuple[str, str, str]]:
    return [(p.text, p.href, p.kind) for p in row.pieces if p.href or p.kind]


async def test_a_reply_to_a_captioned_image_quotes_the_caption_for_everyone(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    picture = images.encoded("JPEG", (64, 48))
    await world.chats.send_image(bob, chat.id, picture, "The view from the top\nday two", "i1")
    await world.chats.send_image(bob, chat.id, picture, None, "i2")
    ann_tab = world.tab(ann, f"/chat/{chat.id}")
    await open_page(ann_tab)
    bob_tab = world.tab(bob, f"/chat/{chat.id}", tab_id="tab-bob")
    await open_page(bob_tab)

    await run(ComposerState.start_reply, composer(ann_tab), 1)
    assert composer(ann_tab).replying_text == "📷 The view from the top"  # the banner
    wow, _ = await world.chats.send_text(ann, chat.id, "Wow", "r1", reply_to=composer(ann_tab).replying_seq)
    await ann_tab._apply_events([message_new(wow)])
    # The sender's row, once stored, and the other's, live and read back from storage, agree.
    (mine,) = [r for r in screen(ann_tab) if r.text == "Wow"]
    assert (mine.seq, mine.reply_text) == (3, "📷 The view from the top")
    sent, _ = await world.chats.send_text(ann, chat.id, "and this one?", "r2", reply_to=2)
    await bob_tab._apply_events([message_new(sent)])
    assert quote_json(sent)["text"] == "" and quote_json(sent)["kind"] == "image"
    assert shown(bob_tab)[-1].reply_text == "📷 Image"  # no caption: the image itself
    await open_page(bob_tab, "/chat")
    await open_page(bob_tab, f"/chat/{chat.id}")
    assert [r.reply_text for r in screen(bob_tab) if r.reply_seq] == ["📷 The view from the top", "📷 Image"]

    # The API says the same: an image's quote carries its caption's first line.
    first = await world.store.messages.get(chat.id, screen(bob_tab)[0].id)
    assert quote_of(first).text == "The view from the top" and quote_of(first).kind == "image"


async def test_group_rows_carry_links_and_mentions_and_plain_rows_carry_no_pieces(world):
    ann, bob, cyd = await world.user("ann"), await world.user("bob"), await world.user("cyd")
    group = await world.chats.create_group(ann, "Lunch club", [bob.id, cyd.id])
    ann_tab = world.tab(ann, f"/chat/{group.id}")
    await open_page(ann_tab)
    for n, text in enumerate(("@bob look at www.example.com (menu)", "plain words")):
        sent, _ = await world.chats.send_text(ann, group.id, text, f"c{n}")
        await ann_tab._apply_events([message_new(sent)])
    with_link, plain = screen(ann_tab)
    assert marked(with_link) == [("@bob", "", "mention"), ("www.example.com", "https://www.example.com", "")]
    assert plain.pieces == []

    bob_tab = world.tab(bob, f"/chat/{group.id}", tab_id="tab-bob")
    await open_page(bob_tab)
    shown_to_bob = screen(bob_tab)
    assert marked(shown_to_bob[0]) == [
        ("@bob", "", "me"),  # Bob is the reader: his mention is his
        ("www.example.com", "https://www.example.com", ""),
    ]
    assert shown_to_bob[0].mentions_me and shown_to_bob[1].pieces == []

    # An edit re-cuts the text; javascript: stays text.
    edited = await world.chats.edit_message(ann, group.id, shown_to_bob[1].id, "javascript:alert(1) @cyd")
    await bob_tab._apply_events([message_edited(edited)])
    assert screen(bob_tab)[1].pieces == [TextPiece("javascript:alert(1) "), TextPiece("@cyd", "", "mention")]


async def test_in_a_direct_chat_links_are_cut_but_at_words_are_not_mentions(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    await world.send(bob, chat.id, "@ann https://example.com/a_(b)")
    state = world.tab(ann, f"/chat/{chat.id}")
    await open_page(state)
    assert marked(screen(state)[0]) == [("https://example.com/a_(b)", "https://example.com/a_(b)", "")]
