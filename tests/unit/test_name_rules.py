"""Display names and group titles: visible text, no bidi controls; duplicates allowed (issue 18)."""

from __future__ import annotations

import pytest

from chat_web.adapters.fanout.inprocess import InProcessFanOut
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput
from chat_web.services.chats import ChatService
from chat_web.services.validation import clean_name, clean_title, default_name

ZERO_WIDTH_ONLY = [
    "\u200b",  # zero-width space
    "\u200b\u200c\u200d",  # and the joiners
    "\u2060\ufeff",  # word joiner, BOM
    " \u200b \u200e ",  # spaces around a zero-width space and a left-to-right mark
    "\u00ad",  # soft hyphen
    "\u3164\u3164",  # Hangul filler
    "\u2800",  # braille blank
]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize("clean", [clean_name, clean_title])
@pytest.mark.parametrize("text", ZERO_WIDTH_ONLY)
def test_text_made_only_of_invisible_characters_is_refused(clean, text):
    with pytest.raises(BadInput, match="visible character"):
        clean(text)


@pytest.mark.parametrize("clean", [clean_name, clean_title])
@pytest.mark.parametrize("control", BIDI)
def test_bidi_controls_are_refused_anywhere(clean, control):
    with pytest.raises(BadInput, match="text-direction"):
        clean(f"alice{control}gnp.exe")
    with pytest.raises(BadInput, match="text-direction"):
        clean(control)


@pytest.mark.parametrize("clean", [clean_name, clean_title])
def test_visible_text_with_joiners_stays_as_typed(clean):
    # A zero-width joiner inside an emoji sequence or a Persian name is legitimate.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean(f"  {family} family ") == f"{family} family"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a zero-width non-joiner
    assert clean(persian) == persian
    # Right-to-left text itself is fine: only the controls that reorder it are refused.
    assert clean("\u05e9\u05dc\u05d5\u05dd") == "\u05e9\u05dc\u05d5\u05dd"


def test_two_people_may_share_a_name():
    assert clean_name("Ada") == clean_name(" Ada ") == "Ada"


def test_a_first_sign_in_name_drops_bidi_controls_and_falls_back_when_nothing_shows():
    assert default_name("ad\u202ea@example.com") == "ada"
    assert default_name("\u200b@example.com") == "user"


async def test_the_services_apply_the_rules_to_names_and_group_titles(clock):
    store = InMemoryStore(clock)
    chats = ChatService(store.users, store.chats, store.messages, InProcessFanOut(), clock)
    ann, bob, cat = [await store.users.get_or_create(f"{n}@example.com", n) for n in ("ann", "bob", "cat")]
    with pytest.raises(BadInput, match="visible"):
        await chats.create_group(ann, "\u200b\u200b", [bob.id, cat.id])
    with pytest.raises(BadInput, match="text-direction"):
        await chats.create_group(ann, "Team\u202e", [bob.id, cat.id])
    assert (await chats.create_group(ann, "Team", [bob.id, cat.id])).title == "Team"
    assert (await chats.create_group(ann, "Team", [bob.id, cat.id])).title == "Team"  # twice is fine
