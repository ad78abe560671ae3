"""Web Push: the VAPID public key, and a browser's subscription turned on or off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import Field

from chat_web import container
from chat_web.api import PREFIX
from chat_web.api.deps import CurrentUser
from chat_web.api.schemas import ApiModel, ErrorOut
from chat_web.domain import NotFound
from chat_web.domain.push import ENDPOINT_MAX, KEY_MAX
from chat_web.services.push_subscriptions import PushSubscriptions

router = APIRouter(prefix=PREFIX, tags=["push"])
_errors = {code: {"model": ErrorOut} for code in (400, 401, 404, 422, 503)}


async def push_service() -> PushSubscriptions:  # a coroutine: no thread-pool hop (deps.py)
    push = container.current().push
    if push is None:
        raise NotFound("Push notifications are turned off on this server (PUSH_ENABLED).")
    return push


Push = Annotated[PushSubscriptions, Depends(push_service)]


class PushKeyOut(ApiModel):
    public_key: str = Field(
        description="The VAPID public key: `applicationServerKey` of `pushManager.subscribe`."
    )


class PushKeys(ApiModel):
    p256dh: str = Field(max_length=KEY_MAX)
    auth: str = Field(max_length=KEY_MAX)


class SubscriptionIn(ApiModel):
    """`PushSubscription.toJSON()` of the browser (expirationTime is ignored)."""

    endpoint: str = Field(max_length=ENDPOINT_MAX)
    keys: PushKeys


class UnsubscribeIn(ApiModel):
    endpoint: str = Field(max_length=ENDPOINT_MAX)


@router.get("/push/key", response_model=PushKeyOut, responses=_errors)
async def public_key(_me: CurrentUser, push: Push) -> PushKeyOut:
    """The server's VAPID public key, to subscribe a browser with."""
    return PushKeyOut(public_key=push.public_key)


@router.post("/push/subscription", status_code=204, response_class=Response, responses=_errors)
async def subscribe(body: SubscriptionIn, me: CurrentUser, push: Push) -> Response:
    """Turn push notifications on for this browser: its pushes go to me from now on (a
    browser registered again, by me or someone else, keeps only the latest)."""
    await push.subscribe(me, body.endpoint, body.keys.p256dh, body.keys.auth)
    return Response(status_code=204)


@router.delete("/push/subscription", status_code=204, response_class=Response, responses=_errors)
async def unsubscribe(body: UnsubscribeIn, me: CurrentUser, push: Push) -> Response:
    """Turn push notifications off for this browser (nothing happens if it was not mine)."""
    await push.unsubscribe(me, body.endpoint)
    return Response(status_code=204)
