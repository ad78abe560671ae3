"""Request and response models of the REST API (the OpenAPI document is built from these)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from chat_web.domain import User


class ApiModel(BaseModel):
    """JSON in camelCase like the original API; snake_case is accepted on input too."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class ErrorOut(BaseModel):
    detail: str | list[dict]


class LoginIn(BaseModel):
    email: str = Field(examples=["ada@example.com"], max_length=320)


class LoginOut(ApiModel):
    message: str
    email: str
    resend_after: int = Field(description="Seconds before another code can be asked for.")


class VerifyIn(BaseModel):
    email: str = Field(max_length=320)
    otp: str = Field(examples=["123456"], max_length=16)


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
    name: str = Field(max_length=200, description="Trimmed; 1-50 characters, no control characters.")
