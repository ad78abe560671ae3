"""Real time for API clients: the event stream, one-call catch-up, and typing."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from chat_web import container
from chat_web.api import PREFIX
from chat_web.api.chats import PathId
from chat_web.api.deps import Auth, Chats, CurrentUser, bearer_token
from chat_web.api.live_schemas import SyncOut
from chat_web.api.schemas import ErrorOut
from chat_web.api.sse import EventStreamResponse, departure
from chat_web.services.cursor import CURSOR_MAX
from chat_web.services.stream import EventStreams
from chat_web.services.sync import TOKEN_MAX, SyncService
from chat_web.services.validation import PAGE_DEFAULT, PAGE_MAX

router = APIRouter(prefix=PREFIX, tags=["live"])
_errors = {code: {"model": ErrorOut} for code in (400, 401, 403, 422, 429, 503)}
EVENT_ID_MAX = 40


async def streams() -> EventStreams:  # a coroutine: no thread-pool hop (chat_web/api/deps.py)
    return container.current().streams


async def sync_service() -> SyncService:
    return container.current().sync


@router.get(
    "/events",
    response_class=EventStreamResponse,
    responses={
        **_errors,
        200: {
            "description": (
                "Server-Sent Events, one JSON per `data:` line, `event:` naming its type: "
                "`message.new`, `chat.read`, `chat.changed`, `typing`, `presence`, `session.ended`, "
                "`resync`. Events of stored writes carry an `id:`; reconnect with `Last-Event-ID` "
                "to get what you missed. A `: ping` comment comes every 15 s."
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def events(
    request: Request,
    auth: Auth,
    streams: Annotated[EventStreams, Depends(streams)],
    authorization: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(max_length=EVENT_ID_MAX)] = None,
    since: Annotated[
        str | None, Query(max_length=EVENT_ID_MAX, description="An event id, as Last-Event-ID.")
    ] = None,
) -> EventStreamResponse:
    """My events as they happen, as long as I stay connected (and signed in)."""
    token = bearer_token(authorization)
    me = await auth.user_for_token(token)
    departed = functools.partial(departure, request.receive)
    frames = streams.frames(me, token, last_event_id or since, departed=departed)
    # The first frame comes once the stream is subscribed: a failure up to there is still an
    # error status (503 naming the service); after it, the stream itself ends with resync.
    first = await anext(frames)
    return EventStreamResponse(_starting_with(first, frames))


async def _starting_with(first: str, rest: AsyncIterator[str]) -> AsyncGenerator[str, None]:
    async with contextlib.aclosing(rest):
        yield first
        async for frame in rest:
            yield frame


@router.get("/sync", response_model=SyncOut, responses=_errors)
async def sync(
    me: CurrentUser,
    service: Annotated[SyncService, Depends(sync_service)],
    since: Annotated[str | None, Query(max_length=TOKEN_MAX, description="`next` of the last sync.")] = None,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX, description="`nextCursor`: more chats of this sync.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX, description="Chats per page.")] = PAGE_DEFAULT,
    per_chat: Annotated[
        int, Query(alias="perChat", ge=1, le=PAGE_MAX, description="Messages per chat, at most.")
    ] = PAGE_DEFAULT,
) -> SyncOut:
    """What changed in my chats since the last sync (everything, the first time)."""
    return SyncOut.of(await service.sync(me, since, cursor, limit, per_chat))


@router.post("/chat/{chat_id}/typing", status_code=204, response_class=Response, responses=_errors)
async def typing(chat_id: PathId, me: CurrentUser, chats: Chats) -> Response:
    """Tell the other members I am typing: they show it for 5 s (send again while typing,
    every 2 s at most)."""
    await chats.typing(me, chat_id)
    return Response(status_code=204)
