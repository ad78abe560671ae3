"""Pure models and errors: no framework or driver imports."""

from chat_web.domain.errors import (
    BadInput,
    ChatError,
    Conflict,
    Forbidden,
    InvalidOtp,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from chat_web.domain.models import MailMessage, OtpRecord, User

__all__ = [
    "BadInput",
    "ChatError",
    "Conflict",
    "Forbidden",
    "InvalidOtp",
    "MailMessage",
    "NotFound",
    "OtpRecord",
    "RateLimited",
    "ServiceUnavailable",
    "Unauthorized",
    "User",
]
