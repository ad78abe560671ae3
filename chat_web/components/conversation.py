"""The open conversation: its header, the messages, and the composer."""

from __future__ import annotations

import reflex as rx

from chat_web.components.chat_list import avatar
from chat_web.services.validation import TEXT_MAX
from chat_web.state.chat import ChatState
from chat_web.state.rows import MsgRow


def _header() -> rx.Component:
    typing = ChatState.typing_label.contains(ChatState.open_id)
    online = (ChatState.open_peer != "") & ChatState.online_ids.contains(ChatState.open_peer)
    return rx.hstack(
        rx.link(rx.icon("arrow-left", size=20), href="/chat", class_name="back-link", aria_label="Back"),
        avatar(ChatState.open_initial, online),
        rx.vstack(
            rx.text(ChatState.open_title, weight="bold", id="chat-title"),
            rx.box(
                rx.cond(
                    typing,
                    rx.fragment(
                        rx.text(
                            rx.cond(online, "online", ChatState.open_subtitle),
                            key="s" + ChatState.typing_key[ChatState.open_id],
                            size="1",
                            color_scheme="gray",
                            id="chat-status",
                            class_name="typing-hidden",
                        ),
                        rx.text(
                            ChatState.typing_label[ChatState.open_id],
                            key=ChatState.typing_key[ChatState.open_id],
                            size="1",
                            class_name="typing-flash",
                            id="chat-typing",
                        ),
                    ),
                    rx.text(
                        rx.cond(online, "online", ChatState.open_subtitle),
                        size="1",
                        color_scheme="gray",
                        id="chat-status",
                    ),
                ),
                class_name="status-box",
            ),
            spacing="0",
            min_width="0",
        ),
        align="center",
        spacing="3",
        class_name="conversation-header",
    )


def _tick(message: MsgRow) -> rx.Component:
    return rx.cond(
        message.seq <= ChatState.seen_upto,
        rx.icon("check-check", size=14, class_name="tick seen", aria_label="Read"),
        rx.icon("check", size=14, class_name="tick", aria_label="Sent"),
    )


def _bubble(message: MsgRow, meta: rx.Component) -> rx.Component:
    return rx.box(
        rx.cond(message.new_day, rx.center(rx.text(message.day, size="1"), class_name="day-sep")),
        rx.box(
            rx.cond(
                message.new_run & (message.sender != ""),
                rx.text(message.sender, size="1", weight="bold", class_name="msg-sender"),
            ),
            rx.text(message.text, class_name="msg-text", size="2"),
            meta,
            class_name=rx.cond(message.mine, "msg mine", "msg theirs"),
        ),
        class_name="msg-line",
        custom_attrs={"data-key": message.key, "data-seq": message.seq, "data-mine": message.mine},
    )


def _stored(message: MsgRow) -> rx.Component:
    return _bubble(
        message,
        rx.hstack(
            rx.text(message.time, size="1"),
            rx.cond(message.mine, _tick(message)),
            spacing="1",
            align="center",
            class_name="msg-meta",
        ),
    )


def _pending(message: MsgRow) -> rx.Component:
    # My sends: stored ones (state "") wait here, with their tick, until the window takes them.
    return rx.cond(message.state == "", _stored(message), _unsent(message))


def _unsent(message: MsgRow) -> rx.Component:
    failed = message.state == "failed"
    return _bubble(
        message,
        rx.hstack(
            rx.cond(
                failed,
                rx.hstack(
                    rx.text("Not sent", size="1", color_scheme="red"),
                    rx.button(
                        "Retry",
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        on_click=ChatState.retry(message.key),
                        class_name="retry",
                    ),
                    rx.icon_button(
                        rx.icon("x", size=12),
                        size="1",
                        variant="ghost",
                        color_scheme="gray",
                        on_click=ChatState.discard(message.key),
                        title="Discard (the text goes back to the box)",
                        class_name="discard-failed",
                        custom_attrs={"data-text": message.text},
                    ),
                    spacing="2",
                    align="center",
                ),
                rx.hstack(
                    rx.text(message.time, size="1"),
                    rx.icon("clock", size=12, class_name="tick", aria_label="Sending"),
                    spacing="1",
                    align="center",
                ),
            ),
            class_name="msg-meta",
        ),
    )


def _messages() -> rx.Component:
    return rx.box(
        rx.cond(
            ChatState.has_older,
            rx.center(rx.spinner(size="2"), class_name="older-loader"),
            rx.center(
                rx.text("This is the start of the conversation.", size="1"), class_name="history-start"
            ),
        ),
        rx.foreach(ChatState.older, _stored),
        rx.foreach(ChatState.recent, _stored),
        rx.foreach(ChatState.pending, _pending),
        rx.cond(ChatState.newer_waiting, rx.center(rx.spinner(size="2"), class_name="newer-loader")),
        id="messages",
        class_name="messages",
        custom_attrs={
            "data-chat": ChatState.open_id,
            "data-has-older": ChatState.has_older.to_string(),
            "data-newer-waiting": ChatState.newer_waiting.to_string(),
            "data-focus": ChatState.focus,
        },
    )


def _composer() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.text_area(
                name="text",
                id="composer",
                placeholder="Write a message",
                rows="1",
                size="3",
                on_change=ChatState.notify_typing.throttle(2000),
                aria_label="Message",
                class_name="composer-input",
            ),
            rx.icon_button(
                rx.icon("send-horizontal", size=18),
                type="submit",
                id="send",
                size="3",
                aria_label="Send",
            ),
            align="end",
            spacing="2",
            width="100%",
        ),
        rx.text("", id="composer-count", size="1", custom_attrs={"data-limit": str(TEXT_MAX)}),
        on_submit=ChatState.send,
        id="composer-form",
        class_name="composer",
    )


def _hidden_triggers() -> rx.Component:
    # The page script (assets/chat.js) decides when, in the browser, and clicks these.
    return rx.fragment(
        rx.el.button(id="load-older", on_click=ChatState.load_older, hidden=True, type="button"),
        rx.el.button(id="attn-on", on_click=ChatState.set_attentive(True), hidden=True, type="button"),
        rx.el.button(id="attn-off", on_click=ChatState.set_attentive(False), hidden=True, type="button"),
        rx.el.button(id="jump-latest", on_click=ChatState.jump_to_latest, hidden=True, type="button"),
        rx.el.button(id="load-newer", on_click=ChatState.load_newer, hidden=True, type="button"),
    )


def conversation() -> rx.Component:
    return rx.box(
        rx.cond(
            ChatState.open_id != "",
            rx.fragment(
                _header(),
                rx.box(
                    _messages(),
                    rx.button(
                        rx.icon("arrow-down", size=14),
                        # Opened far up the history (a search result): the way to the end.
                        rx.cond(ChatState.newer_waiting, "Latest messages", "New messages"),
                        id="new-pill",
                        class_name="new-pill",
                        radius="full",
                        size="2",
                        type="button",
                    ),
                    class_name="messages-wrap",
                ),
                _composer(),
            ),
            rx.center(
                rx.vstack(
                    rx.icon("messages-square", size=40, color="var(--gray-8)"),
                    rx.text(
                        rx.cond(
                            ChatState.notice != "",
                            ChatState.notice,
                            "Pick a conversation, or search for someone to start one.",
                        ),
                        color_scheme="gray",
                        align="center",
                    ),
                    align="center",
                    spacing="3",
                ),
                class_name="empty-conversation",
            ),
        ),
        _hidden_triggers(),
        class_name="conversation",
    )
