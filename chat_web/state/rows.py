"""What the chat page shows, as small rows: pure functions, no Reflex, easy to test.

Rows carry only what the browser renders, already formatted in the reader's time
zone, so each live update sends a few hundred bytes per row and nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chat_web.domain import Message, thumbnail_url
from chat_web.domain.files import OCTET_STREAM, size_label
from chat_web.domain.models import THUMB_EDGE, duration_label, quote_label
from chat_web.domain.rich_text import find_links, find_mentions

UNREAD_CAP = 99


@dataclasses.dataclass(slots=True)  # no __dict__ per row: every tab keeps dozens
class ChatRow:
    id: str
    title: str
    initial: str
    peer: str  # the other user of a direct chat ("" for a group): drives the online dot
    preview: str
    when: str
    badge: str  # "" when read, else the unread count, "99+" past the cap
    muted: bool = False  # I muted it: a grey badge, no notifications, not in the title's count
    mentioned: bool = False  # an unread message mentions me: an @ beside the badge


@dataclasses.dataclass(slots=True)
class Chip:
    """One emoji under a message: how many gave it, whether I did, and who (on hover)."""

    emoji: str
    count: int
    mine: bool
    who: str


@dataclasses.dataclass(slots=True)
class TextPiece:
    """A piece of a message's text: plain, a link, or an @mention the page marks."""

    text: str
    href: str = ""  # a link: where it goes (only ever http:// or https://)
    kind: str = ""  # "mention" (a member), "me" (a mention of the reader), or ""


@dataclasses.dataclass(slots=True)
class MsgRow:
    key: str  # the clientId when there is one: the same row from pending to stored
    seq: int  # 0 while pending
    text: str
    time: str
    mine: bool
    day: str  # "Today", "Yesterday", "Monday", "3 November"
    sender: str  # in a group, the sender's name for others' messages, else ""
    state: str  # "pending", "failed" or "" once stored
    id: str = ""  # the stored message's id ("" while pending)
    edited: bool = False
    deleted: bool = False  # a tombstone: "Message deleted" in its place
    mentions_me: bool = False
    reactions: list[Chip] = dataclasses.field(default_factory=list)
    reply_seq: int = 0  # a reply: the seq of the message it answers, shown as a quote
    reply_sender: str = ""
    reply_text: str = (
        ""  # its first line, "📷 Image", "📎 name", "🎤 Voice message (0:12)" or "Message deleted"
    )
    new_day: bool = True  # the first message of its day on screen: a separator above
    new_run: bool = True  # the first of a run of one sender's messages: their name above
    image: str = ""  # an image message: the full size (an app path or an absolute URL)
    thumb: str = ""  # its thumbnail
    thumb_w: int = 0  # the thumbnail's size from the stored width and height: the page
    thumb_h: int = 0  # reserves the space before it loads, so nothing jumps
    # The text cut into links, mentions and plain pieces; empty (the page shows `text`) when
    # it has neither, which most messages do: a row goes over the websocket on every update.
    pieces: list[TextPiece] = dataclasses.field(default_factory=list)
    file_url: str = ""  # a file message: its download link (an app path)
    file_name: str = ""
    file_meta: str = ""  # its size and type as a person reads them: "48 KB · PDF"
    voice_url: str = ""  # a voice message: the recording (an app path)
    voice_length: str = ""  # "0:12"


# The open conversation's window as ChatState holds it: `older`, then the newest messages in
# short blocks, each its own var (Reflex re-sends a changed list whole; see ChatState._show_window).
# A new message re-sends its block (on average half of one), and once every TAIL_BLOCK *
# len(TAILS) messages the whole window folds into `older` (or, read at the bottom, is trimmed):
# short blocks, and many, keep both small (measured: benchmarks/delivery.py).
TAIL_BLOCK = 3  # rows per block
TAILS = tuple(f"tail{i}" for i in range(8))  # past these blocks, all folds into `older`
WINDOW_PARTS = ("older", *TAILS)  # top to bottom


@dataclasses.dataclass
class Person:
    id: str
    name: str
    initial: str


ZONE_NAME_MAX = 64  # the longest IANA name is about 30 characters


def zone(name: str) -> ZoneInfo:
    """The reader's zone from the `chat_tz` cookie, which the client controls: anything that
    is not a zone (a folder such as `America` raises IsADirectoryError, an OSError) is UTC."""
    if not isinstance(name, str) or not name or len(name) > ZONE_NAME_MAX:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def initial_of(name: str) -> str:
    return (name.strip()[:1] or "?").upper()


def badge(unread: int) -> str:
    if unread <= 0:
        return ""
    return f"{UNREAD_CAP}+" if unread > UNREAD_CAP else str(unread)


def clock_time(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M")


def day_label(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    day, today = at.astimezone(tz).date(), now.astimezone(tz).date()
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    if today - day < timedelta(days=7):
        return f"{day:%A}"
    if day.year == today.year:
        return f"{day.day} {day:%B}"
    return f"{day.day} {day:%B %Y}"


def list_time(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """The sidebar's time: 14:05 today, else Yesterday / Monday / 3 Nov / 3 Nov 2025."""
    label = day_label(at, now, tz)
    if label == "Today":
        return clock_time(at, tz)
    if label == "Yesterday" or " " not in label:
        return label
    local = at.astimezone(tz)
    same_year = local.year == now.astimezone(tz).year
    return f"{local.day} {local:%b}" if same_year else f"{local.day} {local:%b %Y}"


def last_seen_label(at: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    if at is None:
        return "offline"
    day = day_label(at, now, tz)
    prefix = day.lower() if day in ("Today", "Yesterday") else day
    return f"last seen {prefix} at {clock_time(at, tz)}"


def thumb_size(width: int, height: int, edge: int = THUMB_EDGE) -> tuple[int, int]:
    """The thumbnail's size: the image fitted into edge x edge, never enlarged."""
    if width <= 0 or height <= 0:
        return edge, edge
    scale = min(1.0, edge / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def sender_label(
    sender_id: str, me: str, names: dict[str, str], group: bool, unknown: str = "Someone"
) -> str:
    """The name above a message: in a group, for someone else's."""
    return names.get(sender_id, unknown) if group and sender_id != me else ""


def quoted_sender(sender_id: str, me: str, names: dict[str, str], unknown: str = "Someone") -> str:
    """Whose message a reply quotes."""
    return "You" if sender_id == me else names.get(sender_id, unknown)


def message_row(
    message: Message, me: str, names: dict[str, str], tz: ZoneInfo, now: datetime, group: bool
) -> MsgRow:
    image = message.image
    members = names if group else {}  # @mentions are marked in groups, where they notify
    pictured = {}
    if image is not None:
        thumb_w, thumb_h = thumb_size(image.width, image.height)
        pictured = dict(image=image.url, thumb=thumbnail_url(image), thumb_w=thumb_w, thumb_h=thumb_h)
    return MsgRow(
        key=message.client_id or message.id,
        seq=message.seq,
        text=message.text,
        time=clock_time(message.created_at, tz),
        mine=message.sender_id == me,
        day=day_label(message.created_at, now, tz),
        sender=sender_label(message.sender_id, me, names, group),
        state="",
        id=message.id,
        edited=message.edited_at is not None and not message.deleted,
        deleted=message.deleted,
        mentions_me=me in message.mention_ids,
        pieces=[] if message.deleted else text_pieces(message.text, me, members, message.sender_id),
        reactions=chips(message, me, names),
        **quote_fields(message, me, names),
        **pictured,
        **attachment_fields(message),
    )


def type_label(content_type: str, name: str) -> str:
    """What kind of file it is, in a word: the extension (PDF, ZIP), else the type's own word."""
    extension = name.rpartition(".")[2] if "." in name else ""
    if extension and len(extension) <= 5 and extension.isalnum():
        return extension.upper()
    if content_type and content_type != OCTET_STREAM:
        return content_type.split("/")[-1].split("+")[0].upper()[:12]
    return "File"


def attachment_fields(message: Message) -> dict:
    attachment = message.attachment
    if attachment is None or message.deleted:
        return {}
    if message.kind == "voice":
        return {"voice_url": attachment.url, "voice_length": duration_label(attachment.duration_ms)}
    meta = f"{size_label(attachment.size)} · {type_label(attachment.content_type, attachment.name)}"
    return {"file_url": attachment.url, "file_name": attachment.name, "file_meta": meta}


def quote_fields(message: Message, me: str, names: dict[str, str]) -> dict:
    quote = message.quote
    if not message.reply_to or message.deleted:
        return {"reply_seq": 0, "reply_sender": "", "reply_text": ""}
    if quote is None:
        return {"reply_seq": message.reply_to, "reply_sender": "", "reply_text": "…"}
    sender = quoted_sender(quote.sender_id, me, names)
    return {"reply_seq": quote.seq, "reply_sender": sender, "reply_text": quote_label(quote)}


def text_pieces(text: str, me: str, names: dict[str, str], sender_id: str) -> list[TextPiece]:
    """`text` cut into plain pieces, links and the @mentions of `names` (the chat's members,
    id -> name; the sender names nobody but others), or [] when it has no link or mention.

    Pieces are text the page puts in elements (an anchor, a span), never HTML."""
    links = find_links(text)
    members = [(user_id, name) for user_id, name in names.items() if user_id != sender_id]
    mentions = find_mentions(text, members, [(link.start, link.end) for link in links]) if members else []
    if not links and not mentions:
        return []
    marked = sorted(
        [(link.start, link.end, link.href, "") for link in links]
        + [(m.start, m.end, "", "me" if m.user_id == me else "mention") for m in mentions]
    )
    pieces, at = [], 0
    for start, end, href, kind in marked:
        if start > at:
            pieces.append(TextPiece(text[at:start]))
        pieces.append(TextPiece(text[start:end], href, kind))
        at = end
    if at < len(text):
        pieces.append(TextPiece(text[at:]))
    return pieces


def chips(message: Message, me: str, names: dict[str, str]) -> list[Chip]:
    return [
        Chip(emoji, len(who), me in who, ", ".join(names.get(u, "Someone") for u in who))
        for emoji, who in message.reactions
    ]


def pending_row(
    key: str,
    text: str,
    at: datetime,
    tz: ZoneInfo,
    now: datetime,
    reply: tuple[int, str, str] = (0, "", ""),
    pieces: list[TextPiece] | None = None,
) -> MsgRow:
    return MsgRow(
        pieces=pieces or [],
        reply_seq=reply[0],
        reply_sender=reply[1],
        reply_text=reply[2],
        key=key,
        seq=0,
        text=text,
        time=clock_time(at, tz),
        mine=True,
        day=day_label(at, now, tz),
        sender="",
        state="pending",
    )


def relabel(rows: Iterable[MsgRow], before: MsgRow | None = None) -> list[MsgRow]:
    """Mark where a new day and a new run of one sender's messages start, given the row
    shown just before: the page draws a day separator and a sender name only there."""
    out = []
    previous = before
    for row in rows:
        new_day = previous is None or previous.day != row.day
        new_run = new_day or previous.mine != row.mine or previous.sender != row.sender
        if (row.new_day, row.new_run) != (new_day, new_run):
            row = dataclasses.replace(row, new_day=new_day, new_run=new_run)
        out.append(row)
        previous = row
    return out


@dataclasses.dataclass
class Piece:
    text: str
    hit: bool  # a matched word: the page marks it (as text, never as HTML)


@dataclasses.dataclass
class FoundRow:
    """One message search result in the sidebar."""

    key: str  # the message id
    chat_id: str
    seq: int
    title: str  # the chat's name
    initial: str
    when: str
    pieces: list[Piece]  # the snippet, cut around the first match


_ONE_LINE = {ord("\n"): " ", ord("\r"): " ", ord("\t"): " "}
SNIPPET_BEFORE = 40  # characters of context kept before the first match
SNIPPET_LENGTH = 160


def snippet(text: str, ranges: list[tuple[int, int]], prefix: str = "") -> list[Piece]:
    """A one-line piece of `text` around its first match, cut into marked and plain pieces."""
    flat = text.translate(_ONE_LINE)  # one character for one: the offsets still hold
    start = max(0, ranges[0][0] - SNIPPET_BEFORE) if ranges else 0
    end = min(len(flat), start + SNIPPET_LENGTH)
    pieces = [Piece(prefix, False)] if prefix else []
    if start > 0:
        pieces.append(Piece("…", False))
    at = start
    for begin, finish in ranges:
        if finish <= start or begin >= end:
            continue
        begin, finish = max(begin, start), min(finish, end)
        if begin > at:
            pieces.append(Piece(flat[at:begin], False))
        pieces.append(Piece(flat[begin:finish], True))
        at = finish
    if at < end:
        pieces.append(Piece(flat[at:end], False))
    if end < len(flat):
        pieces.append(Piece("…", False))
    return pieces
