"""Request dependencies: the running services and the caller, from the Bearer token."""

from typing import Annotated

from fastapi import Depends, Request

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


# The caller's token is read from the request here, not declared as a Header parameter with
# the service as a sub-dependency: FastAPI's per-parameter machinery and the extra dependency
# cost ~25 us a request (measured on a route like the history's). The OpenAPI document gets
# the Bearer scheme from chat_web/api/openapi.py instead.
async def current_user(request: Request) -> User:
    token = bearer_token(request.headers.get("authorization"))
    return await container.current().auth.user_for_token(token)


SESSION_COOKIE = "chat_session"  # the page's session (chat_web.state.session), a JWT like the Bearer token


async def current_viewer(request: Request) -> User:
    """For GETs a browser makes by itself (<img src>): the Bearer token, else the page's session
    cookie. Only safe reads take the cookie (it is SameSite=Strict besides); every change still
    needs the Bearer header, which another site's page cannot send."""
    auth = container.current().auth
    authorization = request.headers.get("authorization")
    session = request.cookies.get(SESSION_COOKIE)
    if authorization is None and session:
        return await auth.user_for_token(session)
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
