"""The sidebar of the chat page: who I am, finding people, my chats."""

from __future__ import annotations

import reflex as rx

from chat_web.components.group_dialog import group_dialog
from chat_web.state.chat import ChatState
from chat_web.state.chat_list import LIST_PARTS, ChatListState
from chat_web.state.people import PeopleState
from chat_web.state.rows import FoundRow, Person, Piece
from chat_web.state.search import MessageSearchState
from chat_web.state.session import SessionState

SEARCH_DEBOUNCE_MS = 350


def avatar(initial: rx.Var, online: rx.Var | bool = False, size: str = "3") -> rx.Component:
    return rx.box(
        rx.avatar(fallback=initial, radius="full", size=size, variant="soft"),
        rx.cond(online, rx.box(class_name="online-dot", title="online")),
        class_name="avatar-wrap",
    )


def _first_block_row(row: rx.Var, index: rx.Var) -> rx.Component:
    return _chat_row(row, index == 0)


def _later_block_row(row: rx.Var) -> rx.Component:
    return _chat_row(row, False)


def _chat_row(row: rx.Var, top: rx.Var | bool) -> rx.Component:
    # The top row's changing part comes from the list's top_* vars (see ChatListState.rows).
    preview = rx.cond(top, ChatListState.top_preview, row.preview)
    when = rx.cond(top, ChatListState.top_when, row.when)
    badge = rx.cond(top, ChatListState.top_badge, row.badge)
    mentioned = rx.cond(top, ChatListState.top_mentioned, row.mentioned)
    typing = ChatListState.typing_label.contains(row.id)
    return rx.link(
        rx.hstack(
            avatar(row.initial, (row.peer != "") & ChatListState.online_ids.contains(row.peer)),
            rx.vstack(
                rx.hstack(
                    rx.text(row.title, weight="medium", class_name="row-title"),
                    rx.spacer(),
                    rx.text(when, size="1", color_scheme="gray", class_name="row-when"),
                    width="100%",
                    align="center",
                ),
                rx.hstack(
                    rx.box(
                        rx.cond(
                            typing,
                            rx.fragment(
                                rx.text(
                                    preview,
                                    key="p" + ChatListState.typing_key[row.id],
                                    size="2",
                                    color_scheme="gray",
                                    class_name="row-preview typing-hidden",
                                ),
                                rx.text(
                                    ChatListState.typing_label[row.id],
                                    key=ChatListState.typing_key[row.id],
                                    size="2",
                                    class_name="typing-flash",
                                ),
                            ),
                            rx.text(preview, size="2", color_scheme="gray", class_name="row-preview"),
                        ),
                        class_name="row-preview-box",
                    ),
                    rx.cond(
                        row.muted, rx.icon("volume-x", size=14, class_name="muted-icon", aria_label="Muted")
                    ),
                    rx.cond(
                        mentioned,
                        rx.badge(
                            "@", radius="full", variant="solid", class_name="mention-badge", title="Mentioned"
                        ),
                    ),
                    rx.cond(
                        badge != "",
                        rx.badge(
                            badge,
                            radius="full",
                            variant="solid",
                            class_name=rx.cond(row.muted, "unread-badge muted", "unread-badge"),
                        ),
                    ),
                    width="100%",
                    align="center",
                ),
                spacing="0",
                width="100%",
                min_width="0",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        href="/chat/" + row.id,
        underline="none",
        class_name=rx.cond(row.id == ChatListState.open_id, "chat-row active", "chat-row"),
        custom_attrs={"data-chat-row": row.id},
    )


def _person(person: Person) -> rx.Component:
    return rx.button(
        rx.hstack(avatar(person.initial, size="2"), rx.text(person.name), align="center", spacing="2"),
        on_click=PeopleState.start_direct(person.id),
        variant="ghost",
        class_name="person-hit",
        custom_attrs={"data-person": person.name},
    )


def _people_results() -> rx.Component:
    return rx.vstack(
        rx.text("People", size="1", weight="bold", color_scheme="gray", class_name="section-label"),
        rx.cond(
            PeopleState.people.length() > 0,
            rx.foreach(PeopleState.people, _person),
            rx.text("Nobody found by that name or email.", size="2", color_scheme="gray", padding="8px 12px"),
        ),
        spacing="1",
        width="100%",
        id="people-results",
    )


def _piece(piece: Piece) -> rx.Component:
    # Plain text nodes (React escapes them): a message can never inject markup here.
    return rx.cond(piece.hit, rx.el.mark(piece.text, class_name="hit"), rx.fragment(piece.text))


def _found(row: FoundRow) -> rx.Component:
    return rx.box(
        rx.hstack(
            avatar(row.initial),
            rx.vstack(
                rx.hstack(
                    rx.text(row.title, weight="medium", class_name="row-title"),
                    rx.spacer(),
                    rx.text(row.when, size="1", color_scheme="gray", class_name="row-when"),
                    width="100%",
                    align="center",
                ),
                rx.text(rx.foreach(row.pieces, _piece), size="2", class_name="found-snippet"),
                spacing="0",
                width="100%",
                min_width="0",
            ),
            align="center",
            spacing="3",
            width="100%",
        ),
        on_click=ChatState.open_at(row.chat_id, row.seq),
        class_name="chat-row found-row",
        role="button",
        tab_index=0,
        custom_attrs={"data-found": row.key, "data-seq": row.seq},
    )


def _message_results() -> rx.Component:
    return rx.vstack(
        rx.text("Messages", size="1", weight="bold", color_scheme="gray", class_name="section-label"),
        rx.foreach(MessageSearchState.results, _found),
        rx.cond(
            MessageSearchState.searched & (MessageSearchState.results.length() == 0),
            rx.text("No messages found.", size="2", color_scheme="gray", padding="8px 16px"),
        ),
        rx.cond(
            MessageSearchState.cursor != "",
            rx.center(
                rx.button(
                    "Load more",
                    on_click=MessageSearchState.load_more,
                    loading=MessageSearchState.searching,
                    variant="soft",
                    id="more-found",
                ),
                padding="12px",
                width="100%",
            ),
        ),
        spacing="0",
        width="100%",
        id="message-results",
    )


def _search_box() -> rx.Component:
    messages = MessageSearchState.mode == "messages"
    return rx.vstack(
        rx.cond(
            messages,
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search messages",
                default_value=MessageSearchState.query,
                on_change=MessageSearchState.search.debounce(SEARCH_DEBOUNCE_MS),
                id="message-search",
                width="100%",
                aria_label="Search messages",
                max_length=200,
            ),
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder="Search people",
                value=PeopleState.query,
                on_change=PeopleState.search_people,
                id="people-search",
                width="100%",
                aria_label="Search people",
            ),
        ),
        rx.segmented_control.root(
            rx.segmented_control.item("People", value="people"),
            rx.segmented_control.item("Messages", value="messages"),
            value=MessageSearchState.mode,
            on_change=MessageSearchState.set_mode,
            size="1",
            width="100%",
            id="search-mode",
        ),
        spacing="2",
        width="100%",
        min_width="0",
    )


def _me_bar() -> rx.Component:
    return rx.hstack(
        rx.heading("Chat", size="5"),
        rx.spacer(),
        rx.link(
            rx.text(SessionState.user_name, id="signed-in-name"),
            href="/profile",
            id="profile-link",
            size="2",
            weight="medium",
            title="Your profile",
            class_name="me-name",
        ),
        # Notifications on and off (aria-pressed), run by /notify.js: turning them on asks the
        # browser's permission from this click, never on load; with it, in-tab notifications
        # are on and this browser is subscribed to Web Push if it can be (#notify-note says
        # when it cannot); off unsubscribes it. Where the browser blocks them the button stays,
        # aria-disabled, and says so. A bell (ringing when on): the chat's mute switch is a
        # speaker, so the two never look alike.
        rx.icon_button(
            rx.icon("bell-ring", size=16, class_name="notify-on-icon", aria_hidden="true"),
            rx.icon("bell-off", size=16, class_name="notify-off-icon", aria_hidden="true"),
            variant="ghost",
            id="notify-enable",
            title="Notifications off",
            aria_label="Notifications",
            hidden=True,
            custom_attrs={"aria-pressed": "false"},
        ),
        rx.icon_button(
            rx.icon("log-out", size=16),
            on_click=SessionState.sign_out,
            variant="ghost",
            id="sign-out",
            title="Sign out",
            aria_label="Sign out",
        ),
        align="center",
        spacing="3",
        padding="14px 16px 8px",
        width="100%",
        class_name="me-bar",
    )


def chat_list() -> rx.Component:
    return rx.vstack(
        _me_bar(),
        # What became of the notifications button's last click when it is not obvious (on
        # only while a tab is open, or blocked): filled and emptied by /notify.js.
        rx.el.p(id="notify-note", class_name="notify-note", role="status"),
        rx.hstack(
            _search_box(),
            group_dialog(),
            spacing="2",
            padding="0 16px 8px",
            width="100%",
            align="start",
        ),
        rx.box(
            rx.cond(
                MessageSearchState.mode == "messages",
                rx.cond(MessageSearchState.query != "", _message_results()),
                rx.cond(PeopleState.query != "", _people_results()),
            ),
            rx.cond(
                (MessageSearchState.mode == "messages") & (MessageSearchState.query != ""),
                rx.fragment(),
                _chat_list_rows(),
            ),
            class_name="chat-rows",
            id="chat-rows",
        ),
        spacing="0",
        class_name="sidebar",
    )


def _chat_list_rows() -> rx.Component:
    return rx.fragment(
        rx.cond(
            ChatListState.rows.length() > 0,
            # The list's blocks (ChatListState._set_rows), one after another.
            rx.fragment(
                rx.foreach(ChatListState.rows, _first_block_row),
                *[rx.foreach(getattr(ChatListState, name), _later_block_row) for name in LIST_PARTS[1:]],
            ),
            rx.cond(
                (PeopleState.query == "") & ChatListState.chats_loaded,
                rx.text(
                    "No conversations yet. Search for someone above to start one.",
                    size="2",
                    color_scheme="gray",
                    padding="16px",
                ),
            ),
        ),
        rx.cond(
            ChatListState.chats_cursor != "",
            rx.center(
                rx.button(
                    "Load more", on_click=ChatListState.load_more_chats, variant="soft", id="more-chats"
                ),
                padding="12px",
            ),
        ),
    )
