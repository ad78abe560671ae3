"""Input rules shared by the API and the UI (they call the services, which call these)."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from chat_web.domain import BadInput

NAME_MAX = 50
EMAIL_MAX = 320  # RFC 5321's longest address
OTP_LENGTH = 6
_OTP_RE = re.compile(rf"[0-9]{{{OTP_LENGTH}}}")  # ASCII digits only, as in the mail


def storable(text: str) -> bool:
    """Text every store keeps: no NUL (PostgreSQL refuses it) and no lone surrogates (not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalize_email(raw: object) -> str:
    """A syntactically valid address in lower case, or BadInput."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput("Enter your email address.")
    if not storable(raw):
        raise BadInput("That email address is not valid.")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadInput(f"That email address is not valid: {exc}") from None
    return checked.normalized.lower()


def has_control(text: str) -> bool:
    # Cs: a lone surrogate, which no UTF-8 store can keep.
    return any(unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"} for ch in text)


# Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): in a name
# they reorder what follows it on the page ("alice\u202egnp.exe" shows as "aliceexe.png").
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing (Hangul fillers, the braille blank); format characters
# (Cf: zero-width space and joiners, word joiner, BOM, soft hyphen, bidi marks) draw nothing too.
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _invisible(ch: str) -> bool:
    return ch.isspace() or ch in _BLANK_GLYPHS or unicodedata.category(ch) == "Cf"


def _check_visible(text: str, what: str) -> None:
    """A name or a title someone can see and tell apart: no bidi controls, not all invisible."""
    if any(ch in BIDI_CONTROLS for ch in text):
        raise BadInput(f"{what} cannot contain text-direction controls.")
    if all(_invisible(ch) for ch in text):
        raise BadInput(f"{what} needs at least one visible character.")


def clean_name(raw: object) -> str:
    """A display name: trimmed, 1-50 characters, no control characters and no bidi controls, at
    least one visible character. Two people may have the same name."""
    if not isinstance(raw, str):
        raise BadInput("The name must be text.")
    name = raw.strip()
    if not name:
        raise BadInput("The name cannot be empty.")
    if len(name) > NAME_MAX:
        raise BadInput(f"The name can have at most {NAME_MAX} characters.")
    if has_control(name):
        raise BadInput("The name cannot contain control characters.")
    _check_visible(name, "The name")
    return name


def default_name(email: str) -> str:
    """A first sign-in is named after the email's local part."""
    local = email.split("@", 1)[0]
    local = "".join(ch for ch in local if not has_control(ch) and ch not in BIDI_CONTROLS).strip()
    if all(_invisible(ch) for ch in local):
        return "user"
    return local[:NAME_MAX]


def clean_otp(raw: object) -> str:
    code = raw.strip() if isinstance(raw, str) else ""
    if not _OTP_RE.fullmatch(code):
        raise BadInput(f"The code is the {OTP_LENGTH} digits from the email.")
    return code


TEXT_MAX = 4000
TITLE_MAX = 80
CLIENT_ID_MAX = 64
ID_MAX = 64  # user and chat ids: SQL hex uuids (32) and Mongo ObjectIds (24) fit
ID_PATTERN = rf"^[A-Za-z0-9_-]{{1,{ID_MAX}}}$"
_ID_RE = re.compile(ID_PATTERN)
QUERY_MAX = 100  # a user search's prefix
SEARCH_QUERY_MAX = 200  # a message search's words
GROUP_MIN = 3
GROUP_MAX = 50
PAGE_DEFAULT = 50
PAGE_MAX = 100
# Sequence numbers live in PostgreSQL int4 columns; anything larger can never exist.
SEQ_MAX = 2**31 - 1
# Paging through search results by offset stops here; narrow the search instead.
OFFSET_MAX = 10_000


def clean_text(raw: object) -> str:
    """A message text: 1-4,000 characters after trimming; any unicode a store can keep."""
    if not isinstance(raw, str):
        raise BadInput("The message must be text.")
    if not storable(raw):
        raise BadInput("The message cannot contain NUL characters or broken Unicode.")
    text = raw.strip()
    if not text:
        raise BadInput("The message is empty.")
    if len(text) > TEXT_MAX:
        raise BadInput(f"A message can have at most {TEXT_MAX} characters (this one has {len(text)}).")
    return text


def clean_caption(raw: object) -> str:
    """An image's caption: optional, else like a message text (at most 4,000 characters)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ""
    return clean_text(raw)


def clean_title(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput("The group needs a title.")
    title = raw.strip()
    if len(title) > TITLE_MAX:
        raise BadInput(f"A group title can have at most {TITLE_MAX} characters.")
    if has_control(title):
        raise BadInput("The title cannot contain control characters.")
    _check_visible(title, "The title")
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


def clean_id(raw: object, name: str) -> str:
    """A user or chat id as our stores make them: letters, digits, - and _ (so never a NUL)."""
    if not isinstance(raw, str) or not _ID_RE.match(raw):
        raise BadInput(f"{name} is not a valid id.")
    return raw


def clean_query(raw: object) -> str:
    """A user search's prefix: trimmed, at most QUERY_MAX characters, storable."""
    if raw is None:
        return ""
    if not isinstance(raw, str) or not storable(raw):
        raise BadInput("q must be text.")
    query = raw.strip()
    if len(query) > QUERY_MAX:
        raise BadInput(f"q can have at most {QUERY_MAX} characters.")
    return query


def clean_search_query(raw: object) -> str:
    """A message search: 1-200 characters after trimming, storable text."""
    if not isinstance(raw, str) or not storable(raw):
        raise BadInput("q must be text.")
    query = raw.strip()
    if not query:
        raise BadInput("Type something to search for.")
    if len(query) > SEARCH_QUERY_MAX:
        raise BadInput(f"q can have at most {SEARCH_QUERY_MAX} characters (this one has {len(query)}).")
    return query
