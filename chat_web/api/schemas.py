"""Request and response models of the REST API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chat_web.domain import User
from chat_web.services.auth import CHALLENGE_MAX
from chat_web.services.validation import EMAIL_MAX, NAME_MAX, OTP_LENGTH


class ApiModel(BaseModel):
    """JSON in camelCase like the original API; snake_case is accepted on input too."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, in a sentence to show the user.")


# Documented, and checked by the service (email-validator, then the 6 digits after trimming).
_EMAIL = {"format": "email"}


class LoginIn(BaseModel):
    email: str = Field(examples=["ada@example.com"], max_length=EMAIL_MAX, json_schema_extra=_EMAIL)


class LoginOut(ApiModel):
    message: str
    email: str
    challenge: str = Field(
        description="Send it back with the code to /verify: the code works only with it, and tries "
        "without it never count against the code."
    )
    resend_after: int = Field(description="Seconds before another code can be asked for.")


class VerifyIn(BaseModel):
    email: str = Field(max_length=EMAIL_MAX, json_schema_extra=_EMAIL)
    otp: str = Field(
        examples=["123456"],
        description=f"The {OTP_LENGTH} digits from the email.",
        json_schema_extra={"pattern": rf"^\s*\d{{{OTP_LENGTH}}}\s*$"},
    )
    challenge: str = Field(
        max_length=CHALLENGE_MAX, description="The `challenge` of the /login answer that mailed this code."
    )


class DeleteAccountIn(BaseModel):
    code: str = Field(
        examples=["123456"],
        description=f"The {OTP_LENGTH} digits of the mail `POST /me/delete-code` sent (not a sign-in code).",
        json_schema_extra={"pattern": rf"^\s*\d{{{OTP_LENGTH}}}\s*$"},
    )


class DeletionCodeOut(ApiModel):
    message: str
    resend_after: int = Field(description="Seconds before another code can be asked for.")


class UserPublic(ApiModel):
    id: str
    email: str
    name: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


class SessionOut(ApiModel):
    token: str
    user: UserPublic


class UserUpdate(BaseModel):
    # No maxLength: the name is trimmed first, and the service says what is wrong with it.
    name: str = Field(description=f"Trimmed; 1-{NAME_MAX} characters, no control characters.")
