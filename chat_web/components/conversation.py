"""The open conversation: its header, the messages, and the composer."""

from __future__ import annotations

import reflex as rx
from reflex.constants import Dirs
from reflex.vars.base import VarData
from reflex_components_core.el.elements.inline import A as Anchor

from chat_web.components.chat_info import chat_info
from chat_web.components.chat_list import avatar
from chat_web.config import get_settings
from chat_web.domain.models import REACTIONS
from chat_web.services.validation import TEXT_MAX
from chat_web.state.chat import ChatState
from chat_web.state.chat_edits import DELETED_TEXT
from chat_web.state.composer import ComposerState
from chat_web.state.rows import TAILS, Chip, MsgRow, TextPiece

# Where the API is, as the browser reaches it: Reflex's own backend URL (the page's origin in
# production; the backend port in development). Image paths of the local store hang off it.
API_ORIGIN = rx.Var(
    _js_expr="getBackendURL(env.PING).origin",
    _var_data=VarData(
        imports={
            f"$/{Dirs.STATE_PATH}": "getBackendURL",
            "$/env.json": rx.ImportVar(tag="env", is_default=True),
        }
    ),
).to(str)
IMAGE_TYPES = "image/jpeg,image/png,image/gif,image/webp"


def _address(url) -> rx.Var:
    """An app path gets the API's origin; an absolute URL (Cloudinary) stays as it is."""
    return rx.cond(url.startswith("/"), API_ORIGIN + url, url)


def _picture(message: MsgRow) -> rx.Component:
    # width/height from the stored size: the browser reserves the box before the file arrives.
    return rx.el.a(
        rx.el.img(
            src=_address(message.thumb),
            # As attributes (Reflex would make `width=` a CSS width): the browser takes the
            # aspect ratio from them, and CSS still lets the picture shrink on a narrow screen.
            custom_attrs={"width": message.thumb_w, "height": message.thumb_h},
            alt="Image",
            loading="lazy",
            decoding="async",
        ),
        href=_address(message.image),
        target="_blank",
        rel="noopener",
        class_name="msg-image",
        title="Open full size",
    )


# A file name's extension: a dot and up to 8 characters at the end, after at least one other
# character (".bashrc" has none).
_EXTENSION = r"/(?<=.)\.[^.\s]{1,8}$/"


def _name_parts(name: rx.Var) -> tuple[rx.Var, rx.Var]:
    """A file name as (stem, extension), computed in the browser."""
    data = name._get_all_var_data()
    text = f"String({name._js_expr})"
    stem = rx.Var(_js_expr=f"{text}.replace({_EXTENSION}, '')", _var_type=str, _var_data=data)
    extension = rx.Var(_js_expr=f"({text}.match({_EXTENSION}) || [''])[0]", _var_type=str, _var_data=data)
    return stem, extension


def _file(message: MsgRow) -> rx.Component:
    # A download (the server sends it as an attachment under its name): icon, name, size and type.
    stem, extension = _name_parts(message.file_name)
    return rx.el.a(
        rx.icon("file-text", size=22, class_name="msg-file-icon", aria_hidden="true"),
        # Named by what it shows (a screen reader hears "Download <name>, <size · type>").
        rx.el.span(
            rx.el.span("Download ", message.file_name, class_name="sr-only"),
            # Shown as stem and extension: a long name is cut in the middle (the stem gets the
            # ellipsis) and keeps its extension in sight, even at 360 px.
            rx.el.span(
                rx.el.span(stem, class_name="msg-file-stem"),
                rx.el.span(extension, class_name="msg-file-ext"),
                class_name="msg-file-name",
                aria_hidden="true",
            ),
            rx.el.span(", ", class_name="sr-only"),
            rx.el.span(message.file_meta, class_name="msg-file-meta"),
            class_name="msg-file-text",
        ),
        rx.icon("download", size=16, class_name="msg-file-get", aria_hidden="true"),
        href=_address(message.file_url),
        class_name="msg-file",
        title="Download " + message.file_name,
        custom_attrs={"download": message.file_name},
    )


def _voice(message: MsgRow) -> rx.Component:
    # The browser's own player (play, pause, seek) and the length measured by the server.
    return rx.box(
        rx.icon("mic", size=18, class_name="msg-voice-icon"),
        rx.el.audio(
            src=_address(message.voice_url),
            controls=True,
            preload="metadata",
            aria_label="Voice message, " + message.voice_length,
        ),
        rx.el.span(message.voice_length, class_name="msg-voice-length"),
        class_name="msg-voice",
    )


def _header() -> rx.Component:
    typing = ChatState.typing_label.contains(ChatState.open_id)
    online = (ChatState.open_peer != "") & ChatState.online_ids.contains(ChatState.open_peer)
    return rx.hstack(
        rx.link(rx.icon("arrow-left", size=20), href="/chat", class_name="back-link", aria_label="Back"),
        chat_info(
            avatar(ChatState.open_initial, online),
            rx.vstack(
                # The page's h1 on a phone, where the sidebar (and its "Chat" heading) is hidden.
                rx.heading(ChatState.open_title, as_="h1", size="3", weight="bold", id="chat-title"),
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
        ),
        rx.spacer(),
        rx.icon_button(
            # A speaker, not a bell: the bell is the notifications button (chat_list.py).
            rx.cond(ChatState.open_muted, rx.icon("volume-x", size=18), rx.icon("volume-2", size=18)),
            on_click=ChatState.toggle_mute,
            variant="ghost",
            color_scheme="gray",
            id="mute-toggle",
            title=rx.cond(ChatState.open_muted, "Unmute this chat", "Mute this chat"),
            aria_label=rx.cond(ChatState.open_muted, "Unmute this chat", "Mute this chat"),
            custom_attrs={"data-muted": ChatState.open_muted.to_string()},
        ),
        align="center",
        spacing="3",
        width="100%",
        class_name="conversation-header",
    )


def _tick(message: MsgRow) -> rx.Component:
    return rx.cond(
        message.seq <= ChatState.seen_upto,
        rx.icon("check-check", size=14, class_name="tick seen", aria_label="Read"),
        rx.icon("check", size=14, class_name="tick", aria_label="Sent"),
    )


def _seen_name(name: rx.Var) -> rx.Component:
    return rx.el.li(name)


def _seen_names(title: str, names: rx.Var, key: str) -> list[rx.Component]:
    """One of the seen list's two lists ("Read by", "Not yet"), named by its title."""
    return [
        rx.text(title, size="1", weight="bold", as_="div", id=f"seen-{key}-title"),
        rx.el.ul(
            rx.foreach(names, _seen_name),
            id=f"seen-{key}",
            class_name="seen-names",
            custom_attrs={"aria-labelledby": f"seen-{key}-title"},
        ),
    ]


def _seen_by(message: MsgRow) -> rx.Component:
    """Under my latest message in a group, once someone has read it: "Seen by Ada, Bob" (the
    tab works it out from the read cursors, state/seen.py). A button: a click, Enter or Space
    opens the list of who has read it and who has not yet; Escape closes it and the focus
    comes back (a Radix popover)."""
    return rx.cond(
        (message.seq == ChatState.seen.seq) & (ChatState.seen.label != "") & ~message.deleted,
        rx.popover.root(
            rx.popover.trigger(
                rx.el.button(ChatState.seen.label, type="button", id="seen-by", class_name="seen-by"),
            ),
            rx.popover.content(
                *_seen_names("Read by", ChatState.seen.read, "read"),
                rx.cond(
                    ChatState.seen.unread.length() > 0,
                    rx.fragment(*_seen_names("Not yet", ChatState.seen.unread, "unread")),
                ),
                id="seen-list",
                aria_label="Who has read your message",
                size="1",
                side="top",
                align="end",
                class_name="seen-list",
            ),
        ),
    )


def _bubble(message: MsgRow, meta: rx.Component) -> rx.Component:
    return rx.box(
        rx.cond(message.new_day, rx.center(rx.text(message.day, size="1"), class_name="day-sep")),
        rx.box(
            rx.cond(
                message.new_run & (message.sender != ""),
                rx.text(message.sender, size="1", weight="bold", class_name="msg-sender"),
            ),
            rx.cond(
                message.reply_seq > 0,
                rx.box(
                    rx.text(message.reply_sender, size="1", weight="bold"),
                    rx.text(message.reply_text, size="1", class_name="quote-text"),
                    on_click=ChatState.jump_to(message.reply_seq),
                    class_name="quote",
                    title="Show the message this answers",
                    custom_attrs={"data-reply-seq": message.reply_seq},
                ),
            ),
            rx.cond(message.image != "", _picture(message)),
            rx.cond(message.file_url != "", _file(message)),
            rx.cond(message.voice_url != "", _voice(message)),
            rx.cond(
                message.deleted,
                rx.text(DELETED_TEXT, class_name="msg-text msg-deleted", size="2"),
                rx.cond(message.text != "", _text(message)),
            ),
            rx.cond(
                message.reactions.length() > 0,
                rx.hstack(rx.foreach(message.reactions, _chip(message)), class_name="chips"),
            ),
            meta,
            rx.cond((message.id != "") & ~message.deleted, _actions(message)),
            class_name=rx.cond(message.mine, "msg mine", "msg theirs"),
        ),
        _seen_by(message),
        class_name="msg-line",
        # Focusable from the script (assets/msgkeys.js gives one row the list's tab stop), and
        # heard as one message: who, what, when.
        tab_index=-1,
        role="article",
        aria_label=_spoken(message),
        custom_attrs={"data-key": message.key, "data-seq": message.seq, "data-mine": message.mine},
    )


def _spoken(message: MsgRow) -> rx.Var:
    """What a screen reader says for a focused message, e.g. "Bob: See you at 5, 10:42" or
    "You: Image, The view from the top, 10:43"."""
    who = rx.cond(message.mine, "You", rx.cond(message.sender != "", message.sender, ChatState.open_title))
    picture = rx.cond(message.image != "", rx.cond(message.text != "", "Image, ", "Image"), "")
    attached = rx.cond(
        message.file_url != "",
        "File " + message.file_name + rx.cond(message.text != "", ", ", ""),
        rx.cond(message.voice_url != "", "Voice message, " + message.voice_length, ""),
    )
    what = rx.cond(message.deleted, DELETED_TEXT, picture.to(str) + attached.to(str) + message.text)
    return who.to(str) + ": " + what.to(str) + ", " + message.time


def _text(message: MsgRow) -> rx.Component:
    """The message's text: plain, or its pieces when it holds links or @mentions. Each piece
    is a text node inside an element (an anchor, a span), never HTML."""
    return rx.cond(
        message.pieces.length() > 0,
        rx.text(rx.foreach(message.pieces, _piece), class_name="msg-text", size="2"),
        rx.text(message.text, class_name="msg-text", size="2"),
    )


def _piece(piece: TextPiece) -> rx.Component:
    return rx.cond(
        piece.href != "",
        # The href is http(s) only (chat_web/domain/rich_text.py); a new tab that cannot reach
        # back to this page (noopener) and is not told where it came from (noreferrer).
        # A plain <a> (rx.el.a is React Router's Link, which would route an address of this site).
        Anchor.create(
            piece.text, href=piece.href, target="_blank", rel="noopener noreferrer", class_name="msg-link"
        ),
        rx.el.span(
            piece.text,
            class_name=rx.cond(
                piece.kind == "me", "mention mention-me", rx.cond(piece.kind == "", "", "mention")
            ),
        ),
    )


def _chip(message: MsgRow):
    def chip(reaction: Chip) -> rx.Component:
        return rx.button(
            reaction.emoji,
            rx.text(reaction.count, as_="span", size="1"),
            size="1",
            variant=rx.cond(reaction.mine, "soft", "outline"),
            radius="full",
            title=reaction.who,
            on_click=ChatState.react(message.seq, reaction.emoji),
            class_name="chip",
            custom_attrs={"data-emoji": reaction.emoji, "data-mine": reaction.mine.to_string()},
        )

    return chip


def _actions(message: MsgRow) -> rx.Component:
    """A stored message's menu: react, reply, show what it answers, copy its text; on my own,
    also edit (for 15 minutes) or delete."""
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=14),
                size="1",
                variant="ghost",
                color_scheme="gray",
                class_name="msg-actions",
                aria_label="Message actions",
                # Not a Tab stop of its own: the message is (Enter opens this menu; msgkeys.js).
                tab_index=-1,
            ),
        ),
        rx.dropdown_menu.content(
            # The emoji in one row (assets/chat.css), above the edit and delete of my own.
            *[
                rx.dropdown_menu.item(
                    emoji,
                    on_select=ChatState.react(message.seq, emoji),
                    class_name="react-item",
                    aria_label=f"React {emoji}",
                )
                for emoji in REACTIONS
            ],
            rx.dropdown_menu.separator(),
            rx.dropdown_menu.item(
                "Reply", on_select=ComposerState.start_reply(message.seq), class_name="msg-reply"
            ),
            # The quote's click, for the keyboard (the message is the one Tab stop).
            rx.cond(
                message.reply_seq > 0,
                rx.dropdown_menu.item(
                    "Show the message this answers",
                    on_select=ChatState.jump_to(message.reply_seq),
                    class_name="msg-show-quoted",
                ),
            ),
            # Copy: a long press on a touch screen opens this menu instead of selecting text.
            rx.cond(
                message.text != "",
                rx.dropdown_menu.item(
                    "Copy text",
                    on_select=[rx.set_clipboard(message.text), rx.toast("Copied", duration=1500)],
                    class_name="msg-copy",
                ),
            ),
            rx.cond(
                message.mine,
                rx.fragment(
                    rx.dropdown_menu.item(
                        "Edit", on_select=ComposerState.start_edit(message.seq), class_name="msg-edit"
                    ),
                    rx.dropdown_menu.item(
                        "Delete",
                        color="red",
                        on_select=ComposerState.ask_delete(message.seq),
                        class_name="msg-delete",
                    ),
                ),
            ),
            size="1",
            class_name="msg-menu",
        ),
    )


def _stored(message: MsgRow) -> rx.Component:
    return _bubble(
        message,
        rx.hstack(
            rx.cond(message.edited, rx.text("edited", size="1", class_name="msg-edited")),
            rx.text(message.time, size="1"),
            rx.cond(message.mine, _tick(message)),
            spacing="1",
            align="center",
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
        # The newest messages, in short blocks (ChatState._show_window): in order, one after another.
        *[rx.foreach(getattr(ChatState, name), _stored) for name in TAILS],
        # My sends not back from the server yet: drawn by the page script (assets/sends.js),
        # which keeps them until they are stored. React renders this empty and leaves it be.
        rx.el.div(id="unsent", class_name="unsent"),
        rx.cond(ChatState.newer_waiting, rx.center(rx.spinner(size="2"), class_name="newer-loader")),
        id="messages",
        class_name="messages",
        custom_attrs={
            "data-api": API_ORIGIN,
            "data-chat": ChatState.open_id,
            "data-has-older": ChatState.has_older.to_string(),
            "data-newer-waiting": ChatState.newer_waiting.to_string(),
            "data-focus": ChatState.focus,
        },
    )


def _edit_banner() -> rx.Component:
    # The page script (assets/edits.js) puts data-text in the box when data-nonce changes,
    # and the draft back when the banner goes.
    return rx.cond(
        ComposerState.editing_seq > 0,
        rx.hstack(
            rx.icon("pencil", size=14),
            rx.text("Editing message", size="1", weight="medium"),
            rx.spacer(),
            # Inside the composer's form: a plain button, or a click would also send the text.
            rx.button(
                "Cancel",
                type="button",
                size="1",
                variant="ghost",
                on_click=ComposerState.cancel_edit,
                id="cancel-edit",
            ),
            id="edit-banner",
            align="center",
            spacing="2",
            width="100%",
            custom_attrs={"data-text": ComposerState.editing_text, "data-nonce": ComposerState.editing_nonce},
        ),
    )


def _reply_banner() -> rx.Component:
    return rx.cond(
        ComposerState.replying_seq > 0,
        rx.hstack(
            rx.icon("reply", size=14),
            rx.box(
                rx.text("Replying to ", ComposerState.replying_sender, size="1", weight="medium"),
                rx.text(ComposerState.replying_text, size="1", class_name="quote-text"),
                min_width="0",
                flex="1",
            ),
            rx.icon_button(
                rx.icon("x", size=14),
                type="button",  # inside the form: a plain button, not a send
                size="1",
                variant="ghost",
                color_scheme="gray",
                on_click=ComposerState.cancel_reply,
                id="cancel-reply",
                aria_label="Cancel the reply",
            ),
            id="reply-banner",
            # What the page script's bubble quotes while the reply is on its way.
            custom_attrs={
                "data-seq": ComposerState.replying_seq,
                "data-sender": ComposerState.replying_sender,
                "data-text": ComposerState.replying_text,
            },
            align="center",
            spacing="2",
            width="100%",
        ),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this message?"),
            rx.alert_dialog.description("It is deleted for everyone in this conversation.", size="2"),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(
                        "Cancel", variant="soft", color_scheme="gray", on_click=ComposerState.cancel_delete
                    )
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Delete for everyone",
                        color_scheme="red",
                        on_click=ComposerState.confirm_delete,
                        id="confirm-delete",
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="400px",
        ),
        open=ComposerState.deleting_seq > 0,
    )


def _composer() -> rx.Component:
    return rx.form(
        _edit_banner(),
        _reply_banner(),
        rx.hstack(
            rx.text_area(
                name="text",
                id="composer",
                placeholder="Write a message",
                rows="1",
                size="3",
                on_change=ComposerState.notify_typing.throttle(2000),
                aria_label="Message",
                class_name="composer-input",
            ),
            # The emoji picker (assets/emoji.js draws the panel and opens it; no server events).
            rx.icon_button(
                rx.icon("smile-plus", size=18),
                type="button",
                id="emoji-button",
                size="3",
                variant="soft",
                aria_label="Insert an emoji",
                title="Insert an emoji",
                custom_attrs={
                    "aria-haspopup": "dialog",
                    "aria-expanded": "false",
                    "aria-controls": "emoji-panel",
                },
            ),
            # Next to its button, so Tab goes from the button into the open panel.
            rx.el.div(id="emoji-panel", role="dialog", aria_label="Emoji", hidden=True),
            rx.icon_button(
                rx.icon("image-plus", size=18),
                type="button",
                id="attach",
                size="3",
                variant="soft",
                aria_label="Attach an image",
                title="Attach an image (or paste, or drop one here)",
            ),
            # Any other file (assets/files.js: a preview with its name and size, then the upload).
            rx.icon_button(
                rx.icon("paperclip", size=18),
                type="button",
                id="attach-file",
                size="3",
                variant="soft",
                aria_label="Attach a file",
                title="Attach a file (or drop one here)",
            ),
            # Hold to record, let go to send; a click (or Enter, Space) starts, another sends.
            rx.icon_button(
                rx.icon("mic", size=18),
                type="button",
                id="record",
                size="3",
                variant="soft",
                aria_label="Record a voice message",
                title="Hold to record a voice message, or click to start and again to send",
                custom_attrs={"aria-pressed": "false"},
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
        # @ completion (assets/mentions.js) offers these names in a list it draws here.
        rx.el.div(
            id="mention-list",
            role="listbox",
            hidden=True,
            custom_attrs={"data-names": ChatState.mention_names},
        ),
        # A new message goes through the API from the page script (assets/sends.js); the
        # form's own submit reaches the server only while a message is being edited.
        on_submit=ComposerState.save_edit,
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
        rx.el.button(id="edit-last", on_click=ComposerState.edit_last, hidden=True, type="button"),
        # What the attach button opens (outside the composer's form: its file is not form data).
        rx.el.input(
            type="file",
            id="image-input",
            accept=IMAGE_TYPES,
            hidden=True,
            custom_attrs={"data-max-bytes": str(get_settings().max_image_bytes)},
        ),
        rx.el.input(
            type="file",
            id="file-input",
            hidden=True,
            custom_attrs={"data-max-bytes": str(get_settings().max_file_bytes)},
        ),
        # A send the API refused: chat.js or sends.js leaves the reason in window.chatNotSent first.
        rx.el.button(
            id="not-sent",
            on_click=ComposerState.not_sent(rx.Var("String(window.chatNotSent ?? '')").to(str)),
            hidden=True,
            type="button",
        ),
        rx.el.button(id="load-newer", on_click=ChatState.load_newer, hidden=True, type="button"),
        # A new message while the socket is up: sends.js leaves it in window.chatSendNext first.
        rx.el.button(
            id="send-socket",
            on_click=ComposerState.send_from_page(rx.Var("(window.chatSendNext ?? {})").to(dict)),
            hidden=True,
            type="button",
        ),
        # A swipe right on a message (assets/touch.js): a reply to window.chatReplySeq.
        rx.el.button(
            id="reply-swiped",
            on_click=ComposerState.start_reply(rx.Var("Number(window.chatReplySeq ?? 0)").to(int)),
            hidden=True,
            type="button",
        ),
    )


def _gone_note() -> rx.Component:
    """Instead of the composer: nobody would read it."""
    return rx.box(
        rx.text(
            "This account was deleted: messages can no longer be sent here.",
            size="2",
            color_scheme="gray",
            align="center",
        ),
        id="gone-note",
        class_name="gone-note",
        role="status",
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
                rx.cond(ChatState.open_gone, _gone_note(), _composer()),
                _delete_dialog(),
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
