"""What a contact's open tab shows once someone deletes their account: the tab catches up
(the deletion's resync) and shows "Deleted account" wherever the person was named, with none
of their files, voice or quotes left on screen; read back from storage, the same."""

from __future__ import annotations

import re

from chat_web.domain.events import resync
from chat_web.domain.models import DELETED_ACCOUNT
from chat_web.state.chat_edits import DELETED_TEXT
from chat_web.state.chat_info import ChatInfoState
from tests.support import webm
from tests.support.chat_page import open_page, run
from tests.unit.test_chat_state import shown


async def delete_account(world, user) -> None:
    await world.accounts.request_deletion_code(user)
    code = re.search(r"\b(\d{6})\b", world.mail.sent[-1].body).group(1)
    await world.accounts.delete_account(user, code)


async def test_a_group_shows_a_deleted_member_as_deleted_account_live_and_read_back(world):
    ada, bob, cy = await world.user("ada"), await world.user("bob"), await world.user("cy")
    group = await world.chats.create_group(ada, "Trip", [bob.id, cy.id])
    said = await world.send(ada, group.id, "hello from ada")
    file, _ = await world.chats.send_file(ada, group.id, b"x" * 300, "plan.pdf", "application/pdf", None, "f")
    voice, _ = await world.chats.send_voice(ada, group.id, webm.webm(duration_ms=3_000.0), "v")
    answer, _ = await world.chats.send_text(bob, group.id, "ok", "r", reply_to=said.seq)
    bob_tab = world.tab(bob, f"/chat/{group.id}")
    await open_page(bob_tab)
    panel = await bob_tab.get_state(ChatInfoState)
    await run(ChatInfoState.set_open, panel, True)
    assert [m.name for m in panel.members] == ["bob", "ada", "cy"]
    assert bob_tab.open_subtitle == "3 members"
    assert shown(bob_tab)[-1].reply_sender == "ada"

    await delete_account(world, ada)
    await bob_tab._apply_events([resync()])

    rows = {r.seq: r for r in shown(bob_tab)}
    for seq in (said.seq, file.seq, voice.seq):
        assert rows[seq].deleted and rows[seq].sender == DELETED_ACCOUNT
        assert (rows[seq].file_url, rows[seq].file_name, rows[seq].voice_url) == ("", "", "")
    assert (rows[answer.seq].reply_sender, rows[answer.seq].reply_text) == (DELETED_ACCOUNT, DELETED_TEXT)
    assert bob_tab.open_subtitle == "2 members"
    assert [m.name for m in panel.members] == ["bob", "cy"]
    named = [r.sender for r in shown(bob_tab)] + [r.reply_sender for r in shown(bob_tab)]
    assert "ada" not in [*named, *bob_tab._names.values(), panel.creator_name]

    await open_page(bob_tab, "/chat")
    await open_page(bob_tab, f"/chat/{group.id}")  # read back from storage: the same
    rows = {r.seq: r for r in shown(bob_tab)}
    assert [rows[s].sender for s in (said.seq, file.seq, voice.seq)] == [DELETED_ACCOUNT] * 3
    assert rows[answer.seq].reply_sender == DELETED_ACCOUNT


async def test_someone_who_left_keeps_their_name_on_what_they_wrote(world):
    ada, bob, cy = await world.user("ada"), await world.user("bob"), await world.user("cy")
    group = await world.chats.create_group(ada, "Trip", [bob.id, cy.id])
    said = await world.send(cy, group.id, "bye all")
    await world.chats.leave_group(cy, group.id)
    bob_tab = world.tab(bob, f"/chat/{group.id}")
    await open_page(bob_tab)
    assert {r.seq: r.sender for r in shown(bob_tab)}[said.seq] == "cy"


async def test_a_direct_chat_with_a_deleted_account_offers_no_composer(world):
    ada, bob = await world.user("ada"), await world.user("bob")
    chat = await world.chats.open_direct(ada, bob.id)
    await world.send(ada, chat.id, "hi bob")
    bob_tab = world.tab(bob, f"/chat/{chat.id}")
    await open_page(bob_tab)
    assert (bob_tab.open_title, bob_tab.open_gone) == ("ada", False)

    await delete_account(world, ada)
    await bob_tab._apply_events([resync()])
    assert (bob_tab.open_title, bob_tab.open_gone) == (DELETED_ACCOUNT, True)
    assert [r.deleted for r in shown(bob_tab)] == [True]
    await open_page(bob_tab, "/chat")
    assert not bob_tab.open_gone
    await open_page(bob_tab, f"/chat/{chat.id}")  # read back from storage: the same
    assert (bob_tab.open_title, bob_tab.open_gone) == (DELETED_ACCOUNT, True)
