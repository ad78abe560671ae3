"""Input rules shared by the API and the UI (they call the services, which call these)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from chat_web.domain import BadInput

NAME_MAX = 50
EMAIL_MAX = 320  # RFC 5321's longest address
OTP_LENGTH = 6
_OTP_RE = re.compile(rf"\d{{{OTP_LENGTH}}}")


def normalize_email(raw: object) -> str:
    """A syntactically valid address in lower case, or BadInput."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput("Enter your email address.")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadInput(f"That email address is not valid: {exc}") from None
    return checked.normalized.lower()


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in text)


def clean_name(raw: object) -> str:
    """A display name: trimmed, 1-50 characters, no control characters."""
    if not isinstance(raw, str):
        raise BadInput("The name must be text.")
    name = raw.strip()
    if not name:
        raise BadInput("The name cannot be empty.")
    if len(name) > NAME_MAX:
        raise BadInput(f"The name can have at most {NAME_MAX} characters.")
    if _has_control(name):
        raise BadInput("The name cannot contain control characters.")
    return name


def default_name(email: str) -> str:
    """A first sign-in is named after the email's local part."""
    local = email.split("@", 1)[0]
    local = "".join(ch for ch in local if not _has_control(ch)).strip()
    return local[:NAME_MAX] or "user"


def clean_otp(raw: object) -> str:
    code = raw.strip() if isinstance(raw, str) else ""
    if not _OTP_RE.fullmatch(code):
        raise BadInput(f"The code is the {OTP_LENGTH} digits from the email.")
    return code


TEXT_MAX = 4000
TITLE_MAX = 80
CLIENT_ID_MAX = 64
ID_MAX = 64  # user and chat ids: SQL hex uuids (32) and Mongo ObjectIds (24) fit
QUERY_MAX = 100  # a user search's prefix
GROUP_MIN = 3
GROUP_MAX = 50
PAGE_DEFAULT = 50
PAGE_MAX = 100
# Sequence numbers live in PostgreSQL int4 columns; anything larger can never exist.
SEQ_MAX = 2**31 - 1
# Paging through search results by offset stops here; narrow the search instead.
OFFSET_MAX = 10_000


def clean_text(raw: object) -> str:
    """A message text: 1-4,000 characters after trimming; any unicode."""
    if not isinstance(raw, str):
        raise BadInput("The message must be text.")
    text = raw.strip()
    if not text:
        raise BadInput("The message is empty.")
    if len(text) > TEXT_MAX:
        raise BadInput(f"A message can have at most {TEXT_MAX} characters (this one has {len(text)}).")
    return text


def clean_title(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput("The group needs a title.")
    title = raw.strip()
    if len(title) > TITLE_MAX:
        raise BadInput(f"A group title can have at most {TITLE_MAX} characters.")
    if _has_control(title):
        raise BadInput("The title cannot contain control characters.")
    return title


def clean_client_id(raw: object) -> str | None:
    """The sender's id for a send, so a retry is recognised; optional."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > CLIENT_ID_MAX or not raw.isprintable() or raw.strip() != raw:
        raise BadInput(f"clientId must be printable text of at most {CLIENT_ID_MAX} characters.")
    return raw


def clean_limit(raw: object) -> int:
    if raw is None:
        return PAGE_DEFAULT
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= PAGE_MAX:
        raise BadInput(f"limit must be a whole number from 1 to {PAGE_MAX}.")
    return raw


def clean_seq(raw: object, name: str, most: int = SEQ_MAX) -> int | None:
    """A whole number from 0 to `most` (a seq by default), or None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= most:
        raise BadInput(f"{name} must be a whole number from 0 to {most}.")
    return raw
