"""Chat and message routes: thin wrappers over ChatService, the same path the web UI takes."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from chat_web.api.chat_schemas import (
    ChatIdOut,
    ChatListOut,
    ChatOut,
    GroupIn,
    HistoryOut,
    MembersIn,
    MessageOut,
    NewChatIn,
    ReadIn,
    ReadOut,
    SendIn,
    UserBrief,
    UsersOut,
)
from chat_web.api.deps import Chats, CurrentUser
from chat_web.api.schemas import ErrorOut
from chat_web.services.chats import ChatService

router = APIRouter(tags=["chats"])
_errors = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 415, 422)}


async def _chat_out(chats: ChatService, me, chat) -> ChatOut:
    return ChatOut.of_summary(await chats.summary(me, chat))


@router.post("/chat/new", response_model=ChatIdOut, responses=_errors)
async def new_chat(body: NewChatIn, me: CurrentUser, chats: Chats) -> ChatIdOut:
    """Start, or reopen, the direct chat with another user: one chat per pair."""
    chat = await chats.open_direct(me, body.other_user_id)
    return ChatIdOut(chat_id=chat.id)


@router.get("/chat/all", response_model=ChatListOut, responses=_errors)
async def all_chats(
    me: CurrentUser,
    chats: Chats,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    before: Annotated[
        datetime | None, Query(description="Next page: the updatedAt of the last chat of the previous page.")
    ] = None,
) -> ChatListOut:
    """My chats, newest activity first, with the other members and my unread count."""
    page = await chats.list_chats(me, limit, before.isoformat() if before else None)
    return ChatListOut(chats=[ChatOut.of_summary(s) for s in page.items])


@router.post("/chat/group", response_model=ChatOut, status_code=201, responses=_errors)
async def new_group(body: GroupIn, me: CurrentUser, chats: Chats) -> ChatOut:
    """Create a group: a title of 1-80 characters and 3-50 members, you included."""
    chat = await chats.create_group(me, body.title, body.member_ids)
    return await _chat_out(chats, me, chat)


@router.post("/chat/{chat_id}/members", response_model=ChatOut, responses=_errors)
async def add_members(chat_id: str, body: MembersIn, me: CurrentUser, chats: Chats) -> ChatOut:
    """Add members to a group (its creator only)."""
    return await _chat_out(chats, me, await chats.add_members(me, chat_id, body.user_ids))


@router.delete("/chat/{chat_id}/members/{user_id}", response_model=ChatOut, responses=_errors)
async def remove_member(chat_id: str, user_id: str, me: CurrentUser, chats: Chats) -> ChatOut:
    """Remove a member (the creator), or leave (anyone else, with your own id)."""
    return await _chat_out(chats, me, await chats.remove_member(me, chat_id, user_id))


@router.post("/chat/{chat_id}/read", response_model=ReadOut, responses=_errors)
async def mark_read(chat_id: str, body: ReadIn, me: CurrentUser, chats: Chats) -> ReadOut:
    """Move my read cursor forward to `seq` (never back, never past the last message)."""
    member = await chats.mark_read(me, chat_id, body.seq)
    return ReadOut(chat_id=chat_id, last_read_seq=member.last_read_seq)


_SEND_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SendIn.model_json_schema(by_alias=True)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "chatId": {"type": "string"},
                        "image": {"type": "string", "format": "binary"},
                        "text": {"type": "string", "description": "Optional caption."},
                    },
                    "required": ["chatId", "image"],
                }
            },
        },
    }
}


@router.post(
    "/message",
    response_model=MessageOut,
    status_code=201,
    responses={
        **_errors,
        200: {"model": MessageOut, "description": "A retry: the stored message."},
        501: {"model": ErrorOut, "description": "Image messages are not available yet."},
    },
    openapi_extra=_SEND_BODY,
)
async def send_message(request: Request, response: Response, me: CurrentUser, chats: Chats) -> MessageOut:
    """Send a text message (JSON). A repeated clientId returns the stored message with 200."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        raise HTTPException(501, "Image messages are not available yet; send text as JSON.")
    if content_type != "application/json":
        raise HTTPException(415, "Send the message as application/json.")
    try:
        body = SendIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    message, created = await chats.send_text(me, body.chat_id, body.text, body.client_id)
    if not created:
        response.status_code = 200
    return MessageOut.of(message, seen=False)


@router.get("/message/{chat_id}", response_model=HistoryOut, responses=_errors)
async def history(
    chat_id: str,
    me: CurrentUser,
    chats: Chats,
    before_seq: Annotated[int | None, Query(ge=0, description="Page below this seq (older).")] = None,
    after_seq: Annotated[int | None, Query(ge=0, description="Catch up: messages above this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> HistoryOut:
    """A page of history. Without cursors it is the latest page, which also marks the chat read."""
    return HistoryOut.of(await chats.history(me, chat_id, before_seq, after_seq, limit))


@router.get("/user/all", response_model=UsersOut, responses=_errors)
async def all_users(
    me: CurrentUser,
    chats: Chats,
    q: Annotated[str, Query(max_length=100, description="Name or email prefix.")] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> UsersOut:
    """Find people to talk to (never yourself)."""
    users = await chats.search_users(me, q, limit, offset)
    return UsersOut(
        users=[UserBrief.of(u) for u in users], next_offset=offset + limit if len(users) == limit else None
    )


@router.get("/user/{user_id}", response_model=UserBrief, responses=_errors)
async def one_user(user_id: str, _: CurrentUser, chats: Chats) -> UserBrief:
    return UserBrief.of(await chats.get_user(user_id))
