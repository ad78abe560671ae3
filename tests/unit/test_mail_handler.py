"""The mailer's handler, called directly: it knows nothing about the broker."""

from __future__ import annotations

import json

import pytest

from chat_web.adapters.mail.contract import PermanentMailError, consume, parse
from chat_web.adapters.mail.outbox import KEEP, OutboxSender, latest
from chat_web.domain import MailMessage


class ListSender:
    def __init__(self):
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)


def test_consume_delivers_a_valid_payload():
    sender = ListSender()
    consume(json.dumps({"to": "a@example.com", "subject": "Hi", "body": "Code 123456"}).encode(), sender)
    assert sender.sent == [MailMessage(to="a@example.com", subject="Hi", body="Code 123456")]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        json.dumps({"subject": "Hi", "body": "x"}),
        json.dumps({"to": "a@example.com", "subject": "", "body": "x"}),
        json.dumps({"to": "a@example.com", "subject": "Hi", "body": 5}),
        json.dumps({"to": "a@example.com, b@example.com", "subject": "Hi", "body": "x"}),
        json.dumps({"to": "a@example.com\r\nBcc: c@example.com", "subject": "Hi", "body": "x"}),
        json.dumps({"to": "a@example.com", "subject": "Hi", "body": "x", "html": 3}),
    ],
)
def test_malformed_payloads_are_permanent_errors(payload):
    sender = ListSender()
    with pytest.raises(PermanentMailError):
        consume(payload, sender)
    assert sender.sent == []


def test_parse_keeps_the_html_part():
    message = parse({"to": "a@example.com", "subject": "S", "body": "B", "html": "<b>B</b>"})
    assert message.html == "<b>B</b>"


def test_outbox_keeps_the_newest_first_and_trims(tmp_path, caplog):
    path = tmp_path / "outbox.jsonl"
    sender = OutboxSender(path)
    for i in range(2 * KEEP + 5):
        sender.send(MailMessage(to=f"u{i}@example.com", subject="Your sign-in code", body=f"code {i:06d}"))
    mails = latest(path, 3)
    assert [m["to"] for m in mails] == [f"u{2 * KEEP + 4 - i}@example.com" for i in range(3)]
    assert len(path.read_text().splitlines()) <= 2 * KEEP
    assert "code 000" not in caplog.text  # the log never carries the body


def test_outbox_without_a_file_is_empty(tmp_path):
    assert latest(tmp_path / "missing.jsonl") == []
