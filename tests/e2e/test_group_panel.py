"""The conversation info panel in headless Chromium: a group's creator renames it, adds one
person and removes another, and the removed member's page follows live.

Runs on the embedded setup and on Redis (the `app_server` fixture's two params).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, open_as

pytestmark = pytest.mark.e2e


def test_ada_renames_her_group_adds_cy_and_removes_bob_who_sees_it_live(app_server, browser, pages):
    ada, bob, cy, dee = (Person(app_server, n) for n in ("Ada", "Bob", "Cy", "Dee"))
    group = ada.api("POST", "/chat/group", json={"title": "Trip", "memberIds": [bob.id, dee.id]}).json()["id"]
    a = open_as(pages, browser, ada, f"/chat/{group}")
    b = open_as(pages, browser, bob, f"/chat/{group}")
    expect(b.locator("#chat-title")).to_have_text("Trip")

    # The header opens the panel, from the keyboard too; Escape closes it.
    a.locator("#chat-info-open").click()
    panel = a.locator("#chat-info")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-member]")).to_have_count(3)
    expect(panel.locator(f'[data-member="{ada.name}"]')).to_contain_text("creator")
    # Presence as the chat list shows it: Bob's page is open, Dee has none.
    expect(panel.locator(f'[data-member="{bob.name}"] .info-status')).to_have_text("online")
    expect(panel.locator(f'[data-member="{bob.name}"] .online-dot')).to_have_count(1)
    expect(panel.locator(f'[data-member="{dee.name}"] .info-status')).to_have_text("offline")
    a.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    a.locator("#chat-info-open").focus()
    a.keyboard.press("Enter")
    expect(panel).to_be_visible()
    expect(panel.locator("[data-member]")).to_have_count(3)

    # Rename inline: a blank title is refused in the panel and the box stays open.
    panel.locator("#info-rename").click()
    title_box = panel.locator("#info-title-input")
    title_box.fill("   ")
    title_box.press("Enter")
    expect(panel.locator("#info-error")).to_have_text("The group needs a title.")
    expect(title_box).to_be_visible()
    title_box.fill("Trip to Lisbon")
    title_box.press("Enter")
    expect(panel.locator("#info-title")).to_have_text("Trip to Lisbon")
    expect(panel.locator("#info-error")).to_have_count(0)
    # Bob's open header and chat list follow live.
    expect(b.locator("#chat-title")).to_have_text("Trip to Lisbon")
    expect(b.locator(f'[data-chat-row="{group}"]')).to_contain_text("Trip to Lisbon")

    # Add Cy through the people search.
    panel.locator("#info-search").fill(cy.name)
    panel.locator(f'[data-info-hit="{cy.name}"]').click()
    expect(panel.locator(f'[data-member="{cy.name}"]')).to_be_visible()
    expect(panel.locator("[data-member]")).to_have_count(4)
    expect(a.locator("#chat-status")).to_have_text("4 members")

    # Remove Bob: he loses the chat, and his page says why.
    panel.get_by_role("button", name=f"Remove {bob.name}").click()
    expect(panel.locator(f'[data-member="{bob.name}"]')).to_have_count(0)
    expect(panel.locator("[data-member]")).to_have_count(3)
    expect(b.locator(f'[data-chat-row="{group}"]')).to_have_count(0)
    expect(b.locator("#chat-title")).to_have_count(0)
    expect(b.get_by_text("You are no longer a member of that conversation.")).to_be_visible()
    members = {m["id"] for m in ada.api("GET", "/chat/all").json()["chats"][0]["members"]}
    assert members == {cy.id, dee.id}
