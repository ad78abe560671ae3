"""Sign-in routes: the same service the web pages use."""

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from chat_web.api import PREFIX
from chat_web.api.deps import Auth, ClientAddress, CurrentUser, bearer_token
from chat_web.api.schemas import ErrorOut, LoginIn, LoginOut, SessionOut, UserPublic, UserUpdate, VerifyIn

router = APIRouter(prefix=PREFIX, tags=["auth"])

_errors = {code: {"model": ErrorOut} for code in (400, 401, 422, 429, 503)}


@router.post("/login", response_model=LoginOut, responses=_errors)
async def login(body: LoginIn, auth: Auth, client: ClientAddress) -> LoginOut:
    """Mail a 6-digit sign-in code. The answer is the same whether or not the account exists.
    The code works only together with the `challenge` of this answer."""
    sent = await auth.request_code(body.email, client=client)
    return LoginOut(
        message="If that address can receive mail, a sign-in code is on its way.",
        email=sent.email,
        challenge=sent.challenge,
        resend_after=int(auth.policy.resend_after.total_seconds()),
    )


@router.post("/verify", response_model=SessionOut, responses=_errors)
async def verify(body: VerifyIn, auth: Auth, client: ClientAddress) -> SessionOut:
    """Trade the mailed code, with the `challenge` of its /login answer, for a session token; a
    first sign-in creates the account."""
    session = await auth.verify(body.email, body.otp, body.challenge, client=client)
    return SessionOut(token=session.token, user=UserPublic.of(session.user))


@router.get("/me", response_model=UserPublic, responses=_errors)
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)


@router.post("/update/user", response_model=UserPublic, responses=_errors)
async def update_user(body: UserUpdate, user: CurrentUser, auth: Auth) -> UserPublic:
    """Change the display name."""
    return UserPublic.of(await auth.rename(user, body.name))


@router.post("/logout", status_code=204, response_class=Response, responses=_errors)
async def logout(
    auth: Auth,
    everywhere: Annotated[
        bool, Query(alias="all", description="Also end every other session of this user, on every device.")
    ] = False,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """End the session: the client drops its token, and pages open with the same token sign
    out. With `all=true` every token issued to the user so far stops working, everywhere."""
    token = bearer_token(authorization)
    user = await auth.user_for_token(token)
    if everywhere:
        await auth.sign_out_everywhere(user)
    else:
        await auth.sign_out(user.id, token)
    return Response(status_code=204)
