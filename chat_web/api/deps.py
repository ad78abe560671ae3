"""Request dependencies: the running services and the caller, from the Bearer token."""

from typing import Annotated

from fastapi import Cookie, Depends, Header, Request

from chat_web import container
from chat_web.api.sockets import client_address as address_of
from chat_web.domain import Unauthorized, User
from chat_web.services.auth import AuthService
from chat_web.services.chats import ChatService


# Dependencies are coroutines even when they need not be: FastAPI runs a plain function in its
# thread pool, a thread hop per dependency per request (profiled: a tenth of the API's time).
async def auth_service() -> AuthService:
    return container.current().auth


async def chat_service() -> ChatService:
    return container.current().chats


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <token>`; sign in to get one.")
    return token.strip()


async def current_user(
    auth: Annotated[AuthService, Depends(auth_service)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    return await auth.user_for_token(bearer_token(authorization))


SESSION_COOKIE = "chat_session"  # the page's session (chat_web.state.session), a JWT like the Bearer token


async def current_viewer(
    auth: Annotated[AuthService, Depends(auth_service)],
    authorization: Annotated[str | None, Header()] = None,
    chat_session: Annotated[str | None, Cookie(include_in_schema=False)] = None,
) -> User:
    """For GETs a browser makes by itself (<img src>): the Bearer token, else the page's session
    cookie. Only safe reads take the cookie (it is SameSite=Strict besides); every change still
    needs the Bearer header, which another site's page cannot send."""
    if authorization is None and chat_session:
        return await auth.user_for_token(chat_session)
    return await auth.user_for_token(bearer_token(authorization))


async def client_address(request: Request) -> str | None:
    """The caller's address, for the per-address limits.

    Behind TRUSTED_PROXY_HOPS reverse proxies it is the one the outermost of them saw (from
    X-Forwarded-For, the same rule Reflex applies to the pages); otherwise the address the
    server saw, since a client can write any X-Forwarded-For it likes.
    """
    return address_of(request.scope, container.current().settings.trusted_proxy_hops)


Auth = Annotated[AuthService, Depends(auth_service)]
ClientAddress = Annotated[str | None, Depends(client_address)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentViewer = Annotated[User, Depends(current_viewer)]
Chats = Annotated[ChatService, Depends(chat_service)]
