"""Logging for the app and the mail worker: one line per event, JSON when LOG_FORMAT=json.

What is logged is chosen where it is logged: recipients, ids and reasons, never a sign-in
code, a token or a message's text. Here each record becomes exactly one line (a traceback
included), so log collectors never split an event.

Libraries log what they like (Reflex logs a whole event, its router data and headers
included, for a handler name it does not know). So every record of the process, whatever
its logger or handler, is cleaned when it is made (`redact`): no JWT, no cookie or
authorization header, no event payload, no raw line break or control character, and at
most MESSAGE_MAX characters. That holds in development (Reflex's own console handler) and
in production alike.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from datetime import UTC, datetime

MESSAGE_MAX = 8192  # characters of one record's message
TRACEBACK_MAX = 16384  # ... and of its traceback
NEWLINE = " ⏎ "
_REDACTED = "[redacted]"

# A JWT (ours start with {"alg" or {"typ": eyJ), wherever it appears.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# A header or field that carries a secret, in a dict repr ('cookie': '...') or a header line.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    (?P<name>['"]?(?:cookie|set-cookie|authorization|proxy-authorization|x-api-key|chat_session|token|jwt)['"]?)
    (?P<sep>\s*[:=]\s*)
    (?P<value>'[^']*'|"[^"]*"|[^\s,}]+)
    """
)
# What Reflex writes of an event: keep its handler's name, never its payload or router data.
_EVENT_NAME = r"Event\(name=(?P<{}>'[^']*'|\"[^\"]*\")"
_EVENT_REPR = re.compile(_EVENT_NAME.format("name") + r".*(?=\s\[txid=)|" + _EVENT_NAME.format("end") + ".*")
_EVENT_DATA = re.compile(r"(?P<lead>(?:Event data|event data)\s*:?).*", re.S)
_ARG_VALUE = re.compile(r"(?P<lead>with value ).*(?P<tail> and type hint)", re.S)
_RECEIVED = re.compile(r"(?P<lead>but received ).*(?P<tail> of type)", re.S)
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def redact(text: str, limit: int = MESSAGE_MAX) -> str:
    """`text` fit for a log line: secrets and payloads out, one line, at most `limit` characters."""
    if len(text) > 4 * limit:
        text = text[: 4 * limit]  # whatever is past this is cut anyway; keep the regexes linear
    text = _EVENT_REPR.sub(lambda m: f"Event(name={m.group('name') or m.group('end')}, …)", text)
    text = _EVENT_DATA.sub(lambda m: f"{m.group('lead')} …", text)
    text = _ARG_VALUE.sub(lambda m: f"{m.group('lead')}…{m.group('tail')}", text)
    text = _RECEIVED.sub(lambda m: f"{m.group('lead')}…{m.group('tail')}", text)
    text = _JWT.sub(_REDACTED, text)
    text = _SECRET_FIELD.sub(lambda m: f"{m.group('name')}{m.group('sep')}{_REDACTED}", text)
    text = _LINE_BREAKS.sub(NEWLINE, text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more characters)"
    return text


def clean_record(record: logging.LogRecord) -> None:
    """Make a record safe to write, in place: its message formatted and redacted, its
    traceback formatted once, redacted, kept as `exc_text` (every handler prints that)."""
    if getattr(record, "_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: its template alone
        message = str(record.msg)
    record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        trace = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = redact(trace.rstrip(), TRACEBACK_MAX)
        record.exc_info = None  # handlers that format exc_info themselves would print it raw
    elif record.exc_text:
        record.exc_text = redact(record.exc_text, TRACEBACK_MAX)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, TRACEBACK_MAX)
    record._redacted = True


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args, **kwargs) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    clean_record(record)
    return record


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        clean_record(record)
        return _LINE_BREAKS.sub(NEWLINE, super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        clean_record(record)
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, level: int = logging.INFO) -> None:
    """The root logger's one handler (replacing any), in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else OneLineFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Every record of the process is cleaned when it is made, whichever handler prints it.
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
    # Reflex's own records (its `reflex` logger) go through this one-line handler too,
    # instead of its console handler, which prints tracebacks over several lines.
    reflex_logger = logging.getLogger("reflex")
    for old in list(reflex_logger.handlers):
        reflex_logger.removeHandler(old)
    reflex_logger.propagate = True
    # pika narrates every connection step at INFO; our adapters log what matters.
    logging.getLogger("pika").setLevel(logging.WARNING)
    # httpx logs each request at INFO: a line per push, with the push service's endpoint (a
    # per-browser secret). The push worker logs each push's outcome itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
