"""The conversation's info panel, opened from its header: a group's members with their
presence, and (as the service allows) add, remove, leave and rename; a direct chat's
other person. A Radix dialog: the focus stays inside, Escape closes it, and the focus
goes back to the header."""

from __future__ import annotations

import reflex as rx

from chat_web.components.chat_list import avatar
from chat_web.services.validation import TITLE_MAX
from chat_web.state.chat_info import ChatInfoState, InfoMember
from chat_web.state.chat_list import ChatListState
from chat_web.state.rows import Person


def _member(member: InfoMember) -> rx.Component:
    online = ~member.me & ChatListState.online_ids.contains(member.id)  # live, as in the chat list
    return rx.hstack(
        avatar(member.initial, online, size="2"),
        rx.vstack(
            rx.hstack(
                rx.text(member.name, weight="medium", class_name="info-name"),
                rx.cond(member.me, rx.badge("you", variant="soft", color_scheme="gray", size="1")),
                rx.cond(member.creator, rx.badge("creator", variant="soft", size="1")),
                spacing="2",
                align="center",
                min_width="0",
            ),
            rx.cond(
                ~member.me,
                rx.text(
                    rx.cond(online, "online", member.seen),
                    size="1",
                    color_scheme="gray",
                    class_name="info-status",
                ),
            ),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.cond(
            ChatInfoState.manage & ~member.me,
            rx.icon_button(
                rx.icon("user-minus", size=16),
                on_click=ChatInfoState.remove(member.id),
                disabled=ChatInfoState.busy,
                variant="ghost",
                color_scheme="red",
                type="button",
                title="Remove " + member.name,
                aria_label="Remove " + member.name,
                class_name="info-remove",
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
        class_name="info-member",
        custom_attrs={"data-member": member.name, "role": "listitem"},
    )


def _found(person: Person) -> rx.Component:
    return rx.button(
        rx.icon("user-plus", size=14),
        person.name,
        on_click=ChatInfoState.add(person.id),
        disabled=ChatInfoState.busy,
        variant="ghost",
        size="2",
        type="button",
        class_name="person-hit",
        aria_label="Add " + person.name,
        custom_attrs={"data-info-hit": person.name},
    )


def _title() -> rx.Component:
    """The title, or its inline edit (Enter saves; the box keeps a refused title)."""
    return rx.cond(
        ChatInfoState.renaming,
        rx.form(
            # The dialog keeps its accessible name while the title is being edited.
            rx.dialog.title(ChatInfoState.title, class_name="sr-only"),
            rx.hstack(
                rx.input(
                    name="title",
                    default_value=ChatInfoState.title,
                    max_length=TITLE_MAX,
                    auto_focus=True,
                    id="info-title-input",
                    aria_label="Group name",
                    flex="1",
                    min_width="0",
                ),
                rx.button("Save", type="submit", loading=ChatInfoState.busy, id="info-title-save"),
                rx.button(
                    "Cancel",
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=ChatInfoState.cancel_rename,
                ),
                spacing="2",
                width="100%",
            ),
            on_submit=ChatInfoState.save_title,
            reset_on_submit=False,
            width="100%",
        ),
        rx.hstack(
            rx.dialog.title(ChatInfoState.title, id="info-title", class_name="info-title", margin="0"),
            rx.cond(
                ChatInfoState.group,
                rx.icon_button(
                    rx.icon("pencil", size=16),
                    on_click=ChatInfoState.start_rename,
                    variant="ghost",
                    color_scheme="gray",
                    type="button",
                    title="Rename group",
                    aria_label="Rename group",
                    id="info-rename",
                ),
            ),
            align="center",
            spacing="2",
            min_width="0",
        ),
    )


def _add() -> rx.Component:
    return rx.cond(
        ChatInfoState.manage,
        rx.vstack(
            rx.input(
                placeholder="Add people by name or email",
                on_change=ChatInfoState.search.debounce(300),
                id="info-search",
                aria_label="Add people by name or email",
                width="100%",
            ),
            rx.vstack(rx.foreach(ChatInfoState.found, _found), spacing="1", width="100%"),
            spacing="2",
            width="100%",
        ),
        rx.text(
            "Only " + ChatInfoState.creator_name + " can add or remove members; anyone can rename the group.",
            size="1",
            color_scheme="gray",
        ),
    )


def _leave() -> rx.Component:
    return rx.cond(
        ChatInfoState.confirm_leave,
        rx.box(
            rx.text(
                "Leave “" + ChatInfoState.title + "”? You will no longer see its messages, "
                "and only its creator can add you back.",
                size="2",
            ),
            rx.hstack(
                rx.button(
                    "Stay",
                    on_click=ChatInfoState.ask_leave(False),
                    variant="soft",
                    color_scheme="gray",
                    type="button",
                ),
                rx.button(
                    "Leave group",
                    on_click=ChatInfoState.leave,
                    loading=ChatInfoState.busy,
                    color_scheme="red",
                    type="button",
                    id="info-leave-confirm",
                ),
                justify="end",
                spacing="2",
                width="100%",
            ),
            role="alertdialog",
            aria_label="Leave the group?",
            class_name="info-confirm",
        ),
        rx.button(
            rx.icon("log-out", size=16),
            "Leave group",
            on_click=ChatInfoState.ask_leave(True),
            variant="soft",
            color_scheme="red",
            type="button",
            id="info-leave",
        ),
    )


def _panel() -> rx.Component:
    return rx.dialog.content(
        rx.vstack(
            rx.hstack(
                rx.box(_title(), class_name="info-head"),
                rx.dialog.close(
                    rx.icon_button(
                        rx.icon("x", size=18),
                        variant="ghost",
                        color_scheme="gray",
                        type="button",
                        aria_label="Close",
                        title="Close (Esc)",
                        id="info-close",
                    )
                ),
                align="center",
                width="100%",
            ),
            rx.dialog.description(
                rx.cond(
                    ChatInfoState.group,
                    ChatInfoState.members.length().to_string() + " members",
                    "Direct conversation",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                ChatInfoState.error != "",
                rx.callout(
                    ChatInfoState.error,
                    icon="triangle-alert",
                    color_scheme="red",
                    role="alert",
                    id="info-error",
                    width="100%",
                ),
            ),
            rx.vstack(
                rx.foreach(ChatInfoState.members, _member),
                spacing="2",
                width="100%",
                class_name="info-members",
                custom_attrs={"role": "list", "aria-label": "Members"},
            ),
            rx.cond(
                ChatInfoState.group,
                rx.fragment(rx.separator(size="4"), _add(), rx.separator(size="4"), _leave()),
            ),
            spacing="3",
            width="100%",
        ),
        max_width="440px",
        id="chat-info",
        class_name="chat-info",
    )


def chat_info(*header: rx.Component) -> rx.Component:
    """The header's avatar and title become the button that opens the panel."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.el.button(
                *header,
                type="button",
                id="chat-info-open",
                class_name="chat-info-open",
                title="Members and settings",
                custom_attrs={"aria-haspopup": "dialog"},
            ),
        ),
        _panel(),
        open=ChatInfoState.open,
        on_open_change=ChatInfoState.set_open,
    )
