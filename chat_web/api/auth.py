"""Sign-in routes: the same service the web pages use."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from chat_web import container
from chat_web.api import PREFIX
from chat_web.api.deps import Auth, ClientAddress, CurrentUser, bearer_token
from chat_web.api.schemas import (
    DeleteAccountIn,
    DeletionCodeOut,
    ErrorOut,
    LoginIn,
    LoginOut,
    SessionOut,
    UserPublic,
    UserUpdate,
    VerifyIn,
)
from chat_web.domain import ServiceUnavailable
from chat_web.services.accounts import AccountService

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


async def account_service() -> AccountService:
    accounts = container.current().accounts
    if accounts is None:
        raise ServiceUnavailable("Deleting an account is not available in this process.")
    return accounts


Accounts = Annotated[AccountService, Depends(account_service)]


@router.post("/me/delete-code", status_code=202, response_model=DeletionCodeOut, responses=_errors)
async def ask_to_delete_account(user: CurrentUser, accounts: Accounts, auth: Auth) -> DeletionCodeOut:
    """Mail me a code that confirms deleting my account. It is a code of its own: a sign-in
    code pending for my address is not replaced, and this one signs nobody in."""
    await accounts.request_deletion_code(user)
    return DeletionCodeOut(
        message="A code to confirm deleting your account is on its way to your address.",
        resend_after=int(auth.policy.resend_after.total_seconds()),
    )


@router.post("/me/delete", status_code=204, response_class=Response, responses=_errors)
async def delete_account(body: DeleteAccountIn, user: CurrentUser, accounts: Accounts) -> Response:
    """Delete my account with the mailed code: every session ends, my messages become tombstones
    shown as "Deleted account", my images go, I leave my groups, and my email and name are
    deleted. 400 for a wrong, expired or used code (5 wrong tries void it)."""
    await accounts.delete_account(user, body.code)
    return Response(status_code=204)
