"""Input rules shared by the API and the UI (they call the services, which call these)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from chat_web.domain import BadInput

NAME_MAX = 50
_OTP_RE = re.compile(r"\d{6}")


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
        raise BadInput("The code is the 6 digits from the email.")
    return code
