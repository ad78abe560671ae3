"""The conversation info panel's state (ChatInfoState) over in-memory adapters: opened on the
open chat, it lists the members and adds, removes, renames and leaves through ChatService;
refusals show in the panel; live chat.changed events keep it as storage holds it."""

from __future__ import annotations

from chat_web.domain.events import chat_changed, presence
from chat_web.state.chat import ChatState
from chat_web.state.chat_info import ChatInfoState
from tests.support.chat_page import open_page, run


async def panel_of(world, user, chat_id, tab_id="tab-1") -> tuple[ChatState, ChatInfoState]:
    chat = world.tab(user, f"/chat/{chat_id}", tab_id)
    await open_page(chat)
    panel = await chat.get_state(ChatInfoState)
    await run(ChatInfoState.set_open, panel, True)
    return chat, panel


async def test_a_group_panel_lists_members_and_its_creator_manages_them(world):
    ada, bob, cy, dan = [await world.user(n) for n in ("ada", "bob", "cy", "dan")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    _, panel = await panel_of(world, ada, group.id)
    assert panel.open and panel.group and panel.manage and panel.title == "Team"
    assert [(m.name, m.me, m.creator) for m in panel.members] == [
        ("ada", True, True),
        ("bob", False, False),
        ("cy", False, False),
    ]
    assert [m.seen for m in panel.members] == ["", "offline", "offline"]
    await run(ChatInfoState.search, panel, "d")
    assert [p.name for p in panel.found] == ["dan"]  # members are not offered again
    await run(ChatInfoState.add, panel, dan.id)
    assert "dan" in [m.name for m in panel.members] and panel.found == [] and panel.error == ""
    await run(ChatInfoState.remove, panel, bob.id)
    assert [m.name for m in panel.members] == ["ada", "cy", "dan"]
    assert set((await world.store.chats.get(group.id)).member_ids) == {ada.id, cy.id, dan.id}


async def test_any_member_renames_and_a_refused_title_stays_in_the_panel(world):
    ada, bob, cy = [await world.user(n) for n in ("ada", "bob", "cy")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    _, panel = await panel_of(world, bob, group.id)
    assert not panel.manage and panel.creator_name == "ada"
    await run(ChatInfoState.start_rename, panel)
    await run(ChatInfoState.save_title, panel, {"title": "   "})
    assert panel.renaming and panel.error == "The group needs a title."  # the box stays open
    assert (await world.store.chats.get(group.id)).title == "Team"
    await run(ChatInfoState.save_title, panel, {"title": " Lunch "})
    assert not panel.renaming and panel.error == "" and panel.title == "Lunch"
    assert (await world.store.chats.get(group.id)).title == "Lunch"
    await run(ChatInfoState.remove, panel, cy.id)  # not the creator: refused, and said so
    assert panel.error == "Only the group's creator can change its members."
    assert cy.id in (await world.store.chats.get(group.id)).member_ids


async def test_leaving_asks_first_then_closes_the_panel(world):
    ada, bob, cy = [await world.user(n) for n in ("ada", "bob", "cy")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    _, panel = await panel_of(world, cy, group.id)
    await run(ChatInfoState.ask_leave, panel, True)
    assert panel.confirm_leave
    await run(ChatInfoState.ask_leave, panel, False)
    assert not panel.confirm_leave and cy.id in (await world.store.chats.get(group.id)).member_ids
    await run(ChatInfoState.ask_leave, panel, True)
    await run(ChatInfoState.leave, panel)
    assert not panel.open and panel.members == []
    assert cy.id not in (await world.store.chats.get(group.id)).member_ids


async def test_a_direct_chat_panel_shows_the_other_person_only(world):
    ada, bob = await world.user("ada"), await world.user("bob")
    chat = await world.chats.open_direct(ada, bob.id)
    _, panel = await panel_of(world, ada, chat.id)
    assert not panel.group and not panel.manage and panel.title == "bob"
    assert [m.name for m in panel.members] == ["bob"]
    await run(ChatInfoState.start_rename, panel)
    assert not panel.renaming


async def test_live_changes_reach_an_open_panel_and_a_removed_member_loses_it(world):
    ada, bob, cy = [await world.user(n) for n in ("ada", "bob", "cy")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    bob_chat, bob_panel = await panel_of(world, bob, group.id)
    await world.chats.rename_group(ada, group.id, "Renamed")
    await bob_chat._apply_events([chat_changed(group.id)])
    assert bob_chat.open_title == "Renamed" and bob_panel.title == "Renamed"
    await world.chats.remove_member(ada, group.id, bob.id)
    await bob_chat._apply_events([chat_changed(group.id)])
    assert not bob_panel.open and bob_chat.open_id == ""
    assert bob_chat.notice == "You are no longer a member of that conversation."


async def test_hostile_arguments_are_refused_and_never_kept(world):
    ada, bob, cy = [await world.user(n) for n in ("ada", "bob", "cy")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    _, panel = await panel_of(world, ada, group.id)
    huge = "x" * 900_000
    await run(ChatInfoState.search, panel, huge)
    assert panel.query == "" and panel.found == [] and panel.error  # refused, not kept
    await run(ChatInfoState.save_title, panel, {"title": huge})
    assert panel.error == "A group title can have at most 80 characters."
    await run(ChatInfoState.save_title, panel, "not a form")
    assert panel.error == "The group needs a title."
    await run(ChatInfoState.add, panel, huge)
    await run(ChatInfoState.remove, panel, {"id": bob.id})
    assert panel.error and not panel.busy
    stored = await world.store.chats.get(group.id)
    assert stored.title == "Team" and set(stored.member_ids) == {ada.id, bob.id, cy.id}


async def test_the_panels_members_presence_is_live_while_it_is_open(world):
    ada, bob, cy = [await world.user(n) for n in ("ada", "bob", "cy")]
    group = await world.chats.create_group(ada, "Team", [bob.id, cy.id])
    chat, panel = await panel_of(world, ada, group.id)
    assert {bob.id, cy.id} <= set(chat._peers)  # watched while the panel shows them
    await chat._apply_events([presence(cy.id, True, None)])
    assert cy.id in chat.online_ids
    await chat._apply_events([presence(cy.id, False, "2026-01-02T10:00:00+00:00")])
    assert cy.id not in chat.online_ids
    await chat._apply_events([presence(bob.id, True, None)])
    await run(ChatInfoState.set_open, panel, False)
    assert bob.id not in chat._peers and bob.id not in chat.online_ids  # no longer followed
