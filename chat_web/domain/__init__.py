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
from chat_web.domain.models import (
    Chat,
    ChatView,
    Image,
    MailMessage,
    Member,
    Message,
    NewMessage,
    OtpRecord,
    User,
    direct_key,
    preview_of,
)

__all__ = [
    "BadInput",
    "Chat",
    "ChatView",
    "Image",
    "Member",
    "Message",
    "NewMessage",
    "direct_key",
    "preview_of",
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
