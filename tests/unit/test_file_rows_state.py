"""The chat page's state with file and voice messages: the bubbles' rows, live and read back,
and the reply banner and quote, the same for both people."""

from __future__ import annotations

from chat_web.domain.events import message_new
from chat_web.state.composer import ComposerState
from tests.support import webm
from tests.support.chat_page import composer, open_page, run
from tests.unit.test_chat_state import screen, shown


async def test_file_and_voice_rows_and_a_reply_to_each(world):
    ann, bob = await world.user("ann"), await world.user("bob")
    chat = await world.chats.open_direct(ann, bob.id)
    ann_tab = world.tab(ann, f"/chat/{chat.id}")
    await open_page(ann_tab)
    file, _ = await world.chats.send_file(
        bob, chat.id, b"x" * 3000, "menu.pdf", "application/pdf", None, "f1"
    )
    voice, _ = await world.chats.send_voice(bob, chat.id, webm.webm(duration_ms=65_000.0), "v1")
    await ann_tab._apply_events([message_new(file), message_new(voice)])
    rows = shown(ann_tab)[-2:]
    assert (rows[0].file_name, rows[0].file_meta) == ("menu.pdf", "3 KB · PDF")
    assert (rows[1].voice_length, rows[1].file_url) == ("1:05", "")

    await run(ComposerState.start_reply, composer(ann_tab), file.seq)
    assert composer(ann_tab).replying_text == "📎 menu.pdf"
    await run(ComposerState.start_reply, composer(ann_tab), voice.seq)
    assert composer(ann_tab).replying_text == "🎤 Voice message (1:05)"
    answer, _ = await world.chats.send_text(ann, chat.id, "ok", "r1", reply_to=voice.seq)
    await ann_tab._apply_events([message_new(answer)])
    assert shown(ann_tab)[-1].reply_text == "🎤 Voice message (1:05)"
    await open_page(ann_tab, "/chat")
    await open_page(ann_tab, f"/chat/{chat.id}")  # read back from storage: the same rows
    assert [r.file_name or r.voice_length for r in screen(ann_tab) if r.file_url or r.voice_url] == [
        "menu.pdf",
        "1:05",
    ]
