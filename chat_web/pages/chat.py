import reflex as rx

from chat_web.components.chat_list import chat_list
from chat_web.components.conversation import API_ORIGIN, conversation
from chat_web.state.chat_list import ChatListState
from chat_web.state.session import SessionState


def chat_page() -> rx.Component:
    """/chat and /chat/<id>: the list beside the conversation; on a phone, one at a time.

    The whole shell is the main landmark: on a phone the list or the conversation is the
    page's content by itself."""
    return rx.el.main(
        # Scrolling, the composer's keys, drafts and the "new messages" pill live in the browser.
        rx.script(src="/chat.js"),
        rx.script(src="/files.js"),
        # The unread count in the title and notifications while the tab is hidden.
        rx.script(src="/notify.js"),
        rx.script(src="/mentions.js"),
        # The composer's emoji picker, and the bundled emoji font's sheet.
        rx.script(src="/emoji.js"),
        rx.script(src="/edits.js"),
        rx.script(src="/keys.js"),
        # New messages: drawn at once, kept in the browser until stored, sent through the API.
        rx.script(src="/sends.js"),
        # The message list from the keyboard (one Tab stop, arrows) and on touch (long press, swipe).
        rx.script(src="/msgkeys.js"),
        rx.script(src="/touch.js"),
        chat_list(),
        conversation(),
        # Signed out elsewhere: the page script sees this and goes to /login.
        rx.cond(ChatListState.session_ended, rx.el.div(id="session-ended", hidden=True)),
        rx.el.div(
            id="notify-feed",
            hidden=True,
            custom_attrs={
                "data-unread": ChatListState.unread_total,
                "data-key": ChatListState.notify.get("key", ""),
                "data-chat": ChatListState.notify.get("chat", ""),
                "data-title": ChatListState.notify.get("title", ""),
                "data-body": ChatListState.notify.get("body", ""),
            },
        ),
        class_name="chat-shell",
        # data-me and data-api: whose unsent messages the page script keeps, and where it sends
        # them (assets/sends.js).
        custom_attrs={
            "data-open": (ChatListState.open_id != "").to_string(),
            "data-me": SessionState.user_id,
            "data-api": API_ORIGIN,
        },
    )
