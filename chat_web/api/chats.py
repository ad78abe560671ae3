"""Chat and message routes: thin wrappers over ChatService, the same path the web UI takes."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from chat_web.api import PREFIX
from chat_web.api.chat_schemas import (
    IMAGE_FORM_ENCODING,
    IMAGE_FORM_SCHEMA,
    ChatIdOut,
    ChatListOut,
    ChatOut,
    EditIn,
    GroupIn,
    HistoryOut,
    MembersIn,
    MessageOut,
    MuteIn,
    MuteOut,
    NewChatIn,
    ReactIn,
    ReadIn,
    ReadOut,
    RenameIn,
    SearchOut,
    SeenOut,
    SendIn,
    UnreadOut,
    UserBrief,
    UsersOut,
)
from chat_web.api.deps import Chats, CurrentUser
from chat_web.api.encoded import encoded
from chat_web.api.schemas import ErrorOut
from chat_web.api.uploads import counted_form
from chat_web.domain import BadInput, ServiceUnavailable
from chat_web.services.chats import ChatService
from chat_web.services.cursor import CURSOR_MAX, SEARCH_CURSOR_MAX
from chat_web.services.media import ImageUpload
from chat_web.services.validation import (
    ID_MAX,
    ID_PATTERN,
    OFFSET_MAX,
    PAGE_DEFAULT,
    PAGE_MAX,
    QUERY_MAX,
    SEARCH_QUERY_MAX,
    SEQ_MAX,
)

router = APIRouter(prefix=PREFIX, tags=["chats"])
_errors = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 415, 422, 429, 503)}
# A message that was deleted meanwhile: it cannot be edited, nor answered.
_deleted = {409: {"model": ErrorOut, "description": "The message was deleted."}}

PathId = Annotated[str, Path(pattern=ID_PATTERN, max_length=ID_MAX)]
Limit = Annotated[int, Query(ge=1, le=PAGE_MAX, description="Page size.")]


async def _chat_out(chats: ChatService, me, chat) -> ChatOut:
    return ChatOut.of_summary(await chats.summary(me, chat))


# The API's busiest routes come first (a send, the next page of a chat, my chats): FastAPI
# tries the routes of a router in the order they are declared, on every request.


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _send_text(request: Request, me, chats: ChatService):
    try:
        body = SendIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e.get("loc", ()))} for e in exc.errors(include_url=False)]
        ) from None
    return await chats.send_text(me, body.chat_id, body.text, body.client_id, body.reply_to)


FORM_FIELDS = set(IMAGE_FORM_SCHEMA["properties"])
UPLOAD_FIELDS = ("image", "file", "voice")


async def _send_upload(request: Request, me, chats: ChatService):
    # The body is capped while it arrives (chat_web.api.limits), and each file part against its
    # own field's limit (chat_web.api.uploads); the form spools a file to disk past 1 MB, and
    # the service reads it back only when its turn comes: an image waiting for a decoding
    # worker holds no copy of its file in memory, a file is copied to the store in chunks.
    media = chats.media
    if media is None:
        raise ServiceUnavailable("Images are not set up on this server (nor files and voice messages).")
    try:
        form = await counted_form(request, media.upload_limits)
    except MultiPartException as exc:
        raise BadInput(f"The form could not be read: {exc.message}") from None
    try:
        present = [name for name in UPLOAD_FIELDS if name in form]
        unknown = sorted(set(form.keys()) - FORM_FIELDS)
        if unknown:
            raise BadInput(
                f"Unknown form field: {unknown[0]!r}; send chatId, one of image, file or voice, "
                "text and clientId."
            )
        if len(present) != 1:
            raise BadInput(
                "Attach the image, file or voice recording as the form field `image`, `file` or `voice`."
            )
        field = present[0]
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise BadInput(f"Attach the {field} as the form field `{field}` (a file).")
        if any(len(form.getlist(name)) > 1 for name in FORM_FIELDS):
            raise BadInput("Send each form field once.")
        fields = {name: form.get(name) for name in ("chatId", "text", "clientId")}
        if any(value is not None and not isinstance(value, str) for value in fields.values()):
            raise BadInput("chatId, text and clientId are text fields, not files.")
        chat_id, text, client_id = fields["chatId"], fields["text"], fields["clientId"]
        data = ImageUpload(upload.size, upload.read)
        if field == "image":
            return await chats.send_image(me, chat_id, data, text, client_id)
        if field == "file":
            return await chats.send_file(
                me, chat_id, data, upload.filename, upload.content_type, text, client_id
            )
        if text:
            raise BadInput("A voice message has no caption.")
        return await chats.send_voice(me, chat_id, data, client_id)
    finally:
        await form.close()


_SEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SendIn.model_json_schema(by_alias=True)},
            "multipart/form-data": {"schema": IMAGE_FORM_SCHEMA, "encoding": IMAGE_FORM_ENCODING},
        },
    }
}


@router.post(
    "/message",
    response_model=MessageOut,
    status_code=201,
    responses={
        **_errors,
        **_deleted,
        200: {"model": MessageOut, "description": "A retry: the stored message."},
    },
    openapi_extra=_SEND_BODY,
)
async def send_message(request: Request, me: CurrentUser, chats: Chats) -> Response:
    """Send a message: text as JSON, or an upload as multipart/form-data (`chatId`, one of `image`,
    `file` or `voice`, an optional `text` caption, `clientId`). An image must really be a JPEG,
    PNG, GIF or WebP of at most 5 MB and 40 megapixels; it is stored without its metadata, fitted
    to 1600x1600, with a 320 px thumbnail. A file is any file of at most 25 MB, kept under its
    cleaned name and served as a download. A voice message is Opus or Vorbis audio in WebM of at
    most 5 minutes, its length measured by the server. Each upload is counted as it arrives:
    past its limit, 413 saying the limit. A repeated clientId returns the stored message with 200."""
    kind = _content_type(request)
    if kind == "application/json":
        message, created = await _send_text(request, me, chats)
    elif kind == "multipart/form-data":
        message, created = await _send_upload(request, me, chats)
    else:
        raise HTTPException(
            415,
            "Send a text message as application/json, an image, a file or a voice message as "
            "multipart/form-data.",
        )
    return encoded(MessageOut.wire(message, seen=False), 201 if created else 200)


@router.get("/message/{chat_id}", response_model=HistoryOut, responses=_errors)
async def history(
    chat_id: PathId,
    me: CurrentUser,
    chats: Chats,
    before_seq: Annotated[
        int | None, Query(ge=0, le=SEQ_MAX, description="Page below this seq (older).")
    ] = None,
    after_seq: Annotated[
        int | None, Query(ge=0, le=SEQ_MAX, description="Catch up: messages above this seq.")
    ] = None,
    limit: Limit = PAGE_DEFAULT,
    changed_after: Annotated[
        int | None,
        Query(
            ge=0,
            le=SEQ_MAX,
            description="Catch up on edits and deletions after this change count (lastChange).",
        ),
    ] = None,
) -> Response:
    """A page of history. Without cursors it is the latest page, which also marks the chat read."""
    return encoded(
        HistoryOut.wire(await chats.history(me, chat_id, before_seq, after_seq, limit, changed_after))
    )


@router.get("/chat/all", response_model=ChatListOut, responses=_errors)
async def all_chats(
    me: CurrentUser,
    chats: Chats,
    limit: Limit = PAGE_DEFAULT,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX, description="Next page: the nextCursor of the previous one.")
    ] = None,
) -> Response:
    """My chats, newest activity first, with the other members and my unread count."""
    return encoded(ChatListOut.wire(await chats.list_chats(me, limit, cursor)))


@router.post("/chat/new", response_model=ChatIdOut, responses=_errors)
async def new_chat(body: NewChatIn, me: CurrentUser, chats: Chats) -> ChatIdOut:
    """Start, or reopen, the direct chat with another user: one chat per pair."""
    chat = await chats.open_direct(me, body.other_user_id)
    return ChatIdOut(chat_id=chat.id)


@router.get("/chat/unread", response_model=UnreadOut, responses=_errors)
async def unread_total(me: CurrentUser, chats: Chats) -> UnreadOut:
    """How many messages wait unread over all my chats, muted ones left out."""
    return UnreadOut(total=await chats.unread_total(me))


@router.put("/chat/{chat_id}/mute", response_model=MuteOut, responses=_errors)
async def set_muted(chat_id: PathId, body: MuteIn, me: CurrentUser, chats: Chats) -> MuteOut:
    """Mute or unmute a chat for me: no notifications from it, and it leaves my unread total."""
    member = await chats.set_muted(me, chat_id, body.muted)
    return MuteOut(chat_id=chat_id, muted=member.muted)


@router.post("/chat/group", response_model=ChatOut, status_code=201, responses=_errors)
async def new_group(body: GroupIn, me: CurrentUser, chats: Chats) -> ChatOut:
    """Create a group: a title of 1-80 characters and 3-50 members, you included."""
    chat = await chats.create_group(me, body.title, body.member_ids)
    return await _chat_out(chats, me, chat)


@router.patch("/chat/{chat_id}", response_model=ChatOut, responses=_errors)
async def rename_group(chat_id: PathId, body: RenameIn, me: CurrentUser, chats: Chats) -> ChatOut:
    """Rename a group: any member may (not only its creator), and every member's chat list and
    open conversation show the new title live. A title has 1-80 characters after trimming; a
    direct chat has no title of its own and cannot be renamed (422)."""
    return await _chat_out(chats, me, await chats.rename_group(me, chat_id, body.title))


@router.post("/chat/{chat_id}/members", response_model=ChatOut, responses=_errors)
async def add_members(chat_id: PathId, body: MembersIn, me: CurrentUser, chats: Chats) -> ChatOut:
    """Add members to a group (its creator only)."""
    return await _chat_out(chats, me, await chats.add_members(me, chat_id, body.user_ids))


@router.delete("/chat/{chat_id}/members/me", response_model=ChatOut, responses=_errors)
async def leave_group(chat_id: PathId, me: CurrentUser, chats: Chats) -> ChatOut:
    """Leave a group (anyone, its creator too: then it passes to the longest-standing member).
    The answer is the group as it is now, which I am no longer in."""
    return await _chat_out(chats, me, await chats.leave_group(me, chat_id))


@router.delete("/chat/{chat_id}/members/{user_id}", response_model=ChatOut, responses=_errors)
async def remove_member(chat_id: PathId, user_id: PathId, me: CurrentUser, chats: Chats) -> ChatOut:
    """Remove a member (the creator), or leave (anyone, with your own id)."""
    return await _chat_out(chats, me, await chats.remove_member(me, chat_id, user_id))


@router.post("/chat/{chat_id}/read", response_model=ReadOut, responses=_errors)
async def mark_read(chat_id: PathId, body: ReadIn, me: CurrentUser, chats: Chats) -> ReadOut:
    """Move my read cursor forward to `seq` (never back, never past the last message)."""
    member = await chats.mark_read(me, chat_id, body.seq)
    return ReadOut(chat_id=chat_id, last_read_seq=member.last_read_seq)


@router.get("/chat/{chat_id}/seen", response_model=SeenOut, responses=_errors)
async def seen_by(
    chat_id: PathId,
    me: CurrentUser,
    chats: Chats,
    seq: Annotated[int, Query(ge=1, le=SEQ_MAX, description="A message's seq: who has read up to it.")],
) -> SeenOut:
    """Who of the other members has read the chat up to `seq`, and who has not yet, from their
    read cursors (nothing is stored per message): a group's "Seen by". 404 past the last seq."""
    return SeenOut.of(await chats.seen_by(me, chat_id, seq))


@router.get("/messages/search", response_model=SearchOut, responses=_errors)
async def search_messages(
    me: CurrentUser,
    chats: Chats,
    q: Annotated[
        str,
        Query(
            description=f"Words to find (1-{SEARCH_QUERY_MAX} characters after trimming): every one "
            "must appear in the message as a whole word, in any case. Punctuation separates "
            "words and is never an operator."
        ),
    ],
    limit: Limit = PAGE_DEFAULT,
    cursor: Annotated[
        str | None,
        Query(max_length=SEARCH_CURSOR_MAX, description="Next page: the nextCursor of the previous one."),
    ] = None,
) -> SearchOut:
    """Search the messages of my chats, newest first, with the matched words' offsets."""
    return SearchOut.of(await chats.search_messages(me, q, limit, cursor))


@router.patch("/message/{chat_id}/{message_id}", response_model=MessageOut, responses={**_errors, **_deleted})
async def edit_message(
    chat_id: PathId, message_id: PathId, body: EditIn, me: CurrentUser, chats: Chats
) -> MessageOut:
    """Change the text of my own message, within 15 minutes of sending it."""
    return MessageOut.of(await chats.edit_message(me, chat_id, message_id, body.text), seen=False)


@router.post("/message/{chat_id}/{message_id}/reactions", response_model=MessageOut, responses=_errors)
async def react(
    chat_id: PathId, message_id: PathId, body: ReactIn, me: CurrentUser, chats: Chats
) -> MessageOut:
    """Toggle my reaction on a message of my chat: the same emoji again takes it back."""
    return MessageOut.of(await chats.react(me, chat_id, message_id, body.emoji), seen=False)


@router.delete("/message/{chat_id}/{message_id}", response_model=MessageOut, responses=_errors)
async def delete_message(chat_id: PathId, message_id: PathId, me: CurrentUser, chats: Chats) -> MessageOut:
    """Delete my own message for everyone: a tombstone (`deleted`, no text, no image) takes its place."""
    return MessageOut.of(await chats.delete_message(me, chat_id, message_id), seen=False)


@router.get("/user/all", response_model=UsersOut, responses=_errors)
async def all_users(
    me: CurrentUser,
    chats: Chats,
    q: Annotated[str, Query(max_length=QUERY_MAX, description="Name word starts or a whole email.")] = "",
    limit: Limit = PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> UsersOut:
    """Find people to talk to (never yourself)."""
    users = await chats.search_users(me, q, limit, offset)
    return UsersOut(
        users=[UserBrief.of(u) for u in users], next_offset=offset + limit if len(users) == limit else None
    )


@router.get("/users/blocked", response_model=UsersOut, responses=_errors)
async def blocked_users(me: CurrentUser, chats: Chats) -> UsersOut:
    """The people I blocked, latest first."""
    return UsersOut(users=[UserBrief.of(u) for u in await chats.blocked(me)], next_offset=None)


@router.post("/users/{user_id}/block", response_model=UserBrief, responses=_errors)
async def block_user(user_id: PathId, me: CurrentUser, chats: Chats) -> UserBrief:
    """Block someone: they can no longer message me in our direct chat (403), add me to a group
    (403), see my presence or find me in people search; I no longer see theirs. Shared groups
    stay as they are. Blocking twice changes nothing."""
    return UserBrief.of(await chats.block(me, user_id))


@router.delete("/users/{user_id}/block", response_model=UserBrief, responses=_errors)
async def unblock_user(user_id: PathId, me: CurrentUser, chats: Chats) -> UserBrief:
    """Lift a block (nothing happens if there was none)."""
    return UserBrief.of(await chats.unblock(me, user_id))


@router.get("/user/{user_id}", response_model=UserBrief, responses=_errors)
async def one_user(user_id: PathId, _: CurrentUser, chats: Chats) -> UserBrief:
    return UserBrief.of(await chats.get_user(user_id))
