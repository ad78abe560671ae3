"""The sign-in rules over in-memory adapters and a clock the tests move."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.domain import BadInput, InvalidOtp, RateLimited, ServiceUnavailable, Unauthorized
from chat_web.services.auth import AuthService, OtpPolicy
from chat_web.services.tokens import TokenService
from tests.support.code_browser import CodeBrowser

SECRET = "unit-test-secret-that-is-long-enough-123"


@pytest.fixture
def parts(clock):
    users = InMemoryStore(clock).users
    otps = InMemoryOtpStore(clock)
    mail = RecordingMailQueue()
    auth = CodeBrowser(
        AuthService(
            users=users,
            otps=otps,
            limiter=InMemoryRateLimiter(clock),
            mail=mail,
            tokens=TokenService(SECRET, timedelta(days=15), clock),
            clock=clock,
            hash_key=b"k" * 32,
            policy=OtpPolicy(),
        )
    )
    return auth, users, otps, mail


def code_in(mail) -> str:
    return re.search(r"\b(\d{6})\b", mail.sent[-1].body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def test_code_is_mailed_and_signs_in_a_new_user(parts):
    auth, users, _, mail = parts
    email = await auth.request_code("  Ada.Lovelace@Example.COM ")
    assert email == "ada.lovelace@example.com"
    assert mail.sent[-1].to == "ada.lovelace@example.com"
    assert "expires in 5 minutes" in mail.sent[-1].body
    assert mail.sent[-1].html and code_in(mail) in mail.sent[-1].html

    session = await auth.verify("ADA.LOVELACE@example.com", code_in(mail))
    assert session.user.email == "ada.lovelace@example.com"
    assert session.user.name == "ada.lovelace"
    assert (await auth.user_for_token(session.token)).id == session.user.id
    assert await users.get_by_email("ada.lovelace@example.com") == session.user


async def test_code_is_stored_only_as_a_hash(parts):
    auth, _, otps, mail = parts
    await auth.request_code("a@example.com")
    record = await otps.take_attempt(auth.code_key("a@example.com"))
    assert code_in(mail) not in record.code_hash
    assert len(record.code_hash) == 64


async def test_second_sign_in_finds_the_same_user(parts):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    first = await auth.verify("a@example.com", code_in(mail))
    await auth.rename(first.user, "Renamed")
    auth._clock.advance(seconds=60)  # past the resend cooldown
    await auth.request_code("A@example.com")
    second = await auth.verify("a@example.com", code_in(mail))
    assert second.user.id == first.user.id
    assert second.user.name == "Renamed"


async def test_resend_cooldown_is_sixty_seconds(parts, clock):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    clock.advance(seconds=59)
    with pytest.raises(RateLimited) as caught:
        await auth.request_code("A@EXAMPLE.com")
    assert caught.value.retry_after == 1
    assert len(mail.sent) == 1
    clock.advance(seconds=1)
    await auth.request_code("a@example.com")
    assert len(mail.sent) == 2


async def test_cooldown_is_per_email(parts):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    await auth.request_code("b@example.com")
    assert [m.to for m in mail.sent] == ["a@example.com", "b@example.com"]


async def test_a_new_code_replaces_the_old_one(parts, clock):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    old = code_in(mail)
    clock.advance(seconds=60)
    await auth.request_code("a@example.com")
    new = code_in(mail)
    if old != new:
        with pytest.raises(InvalidOtp):
            await auth.verify("a@example.com", old)
    assert (await auth.verify("a@example.com", new)).user.email == "a@example.com"


async def test_code_expires_after_five_minutes(parts, clock):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    clock.advance(minutes=5)
    with pytest.raises(InvalidOtp, match="expired"):
        await auth.verify("a@example.com", code_in(mail))


async def test_code_works_just_before_expiry(parts, clock):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    clock.advance(minutes=4, seconds=59)
    assert (await auth.verify("a@example.com", code_in(mail))).token


async def test_five_wrong_tries_void_the_code(parts):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    good = code_in(mail)
    messages = []
    for _ in range(5):
        with pytest.raises(InvalidOtp) as caught:
            await auth.verify("a@example.com", wrong(good))
        messages.append(caught.value.message)
    assert "4 tries left" in messages[0]
    assert "1 try left" in messages[3]
    assert "no tries left" in messages[4]
    with pytest.raises(InvalidOtp):
        await auth.verify("a@example.com", good)


async def test_four_wrong_tries_still_allow_the_right_code(parts):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    good = code_in(mail)
    for _ in range(4):
        with pytest.raises(InvalidOtp):
            await auth.verify("a@example.com", wrong(good))
    assert (await auth.verify("a@example.com", good)).user


async def test_a_code_is_single_use(parts):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    good = code_in(mail)
    await auth.verify("a@example.com", good)
    with pytest.raises(InvalidOtp):
        await auth.verify("a@example.com", good)


async def test_a_code_only_works_for_its_own_email(parts, monkeypatch):
    auth, _, _, mail = parts
    codes = iter([111111, 222222])
    monkeypatch.setattr("chat_web.services.auth.secrets.randbelow", lambda _: next(codes))
    await auth.request_code("a@example.com")
    await auth.request_code("b@example.com")
    assert code_in(mail) == "222222"
    with pytest.raises(InvalidOtp):
        await auth.verify("a@example.com", "222222")
    assert (await auth.verify("b@example.com", "222222")).user.email == "b@example.com"


@pytest.mark.parametrize("email", ["", "   ", "no-at-sign", "a@", "@b.com", "a b@c.com", 42, None])
async def test_bad_emails_are_refused_before_anything_is_sent(parts, email):
    auth, _, _, mail = parts
    with pytest.raises(BadInput):
        await auth.request_code(email)
    assert mail.sent == []


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 456", None])
async def test_malformed_codes_do_not_count_as_tries(parts, code):
    auth, _, otps, mail = parts
    await auth.request_code("a@example.com")
    with pytest.raises(BadInput):
        await auth.verify("a@example.com", code)
    assert (await otps.take_attempt(auth.code_key("a@example.com"))).attempts == 1


async def test_no_code_an_expired_code_and_a_wrong_code_get_one_message(parts, clock):
    auth, _, _, mail = parts
    with pytest.raises(InvalidOtp) as no_code:
        await auth.verify("nobody@example.com", "123456")
    await auth.request_code("a@example.com")
    with pytest.raises(InvalidOtp) as wrong_one:
        await auth.verify("a@example.com", wrong(code_in(mail)))
    clock.advance(minutes=5)
    with pytest.raises(InvalidOtp) as expired:
        await auth.verify("a@example.com", code_in(mail))
    messages = [e.value.message for e in (no_code, wrong_one, expired)]
    assert messages == [
        "That code is wrong or has expired; no tries left. Ask for a new code if you need one.",
        "That code is wrong or has expired; 4 tries left. Ask for a new code if you need one.",
        "That code is wrong or has expired; no tries left. Ask for a new code if you need one.",
    ]


async def test_mail_outage_withdraws_the_code_and_the_cooldown(parts, monkeypatch):
    auth, _, otps, mail = parts
    monkeypatch.setattr("chat_web.services.auth.secrets.token_urlsafe", lambda _: "the-challenge")
    mail.fail_with = ServiceUnavailable("broker down")
    with pytest.raises(ServiceUnavailable):
        await auth.request_code("a@example.com")
    assert await otps.take_attempt(auth._code_key("a@example.com", "the-challenge")) is None
    mail.fail_with = None
    await auth.request_code("a@example.com")  # no 429: the cooldown was given back
    assert len(mail.sent) == 1


async def test_token_for_a_deleted_user_is_refused(parts):
    auth, users, _, mail = parts
    await auth.request_code("a@example.com")
    session = await auth.verify("a@example.com", code_in(mail))
    await users.delete(session.user.id)
    with pytest.raises(Unauthorized):
        await auth.user_for_token(session.token)


@pytest.mark.parametrize(
    ("raw", "saved"),
    [("  Ada  ", "Ada"), ("x" * 50, "x" * 50), ("Zoë 🚀", "Zoë 🚀")],
)
async def test_rename(parts, raw, saved):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    session = await auth.verify("a@example.com", code_in(mail))
    assert (await auth.rename(session.user, raw)).name == saved


@pytest.mark.parametrize("raw", ["", "   ", "x" * 51, "a\nb", "a\x00b", "tab\there", 5])
async def test_rename_refuses_bad_names(parts, raw):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    session = await auth.verify("a@example.com", code_in(mail))
    with pytest.raises(BadInput):
        await auth.rename(session.user, raw)


async def test_sign_out_everywhere_refuses_every_earlier_token(parts, clock):
    auth, _, _, mail = parts
    await auth.request_code("a@example.com")
    laptop = await auth.verify("a@example.com", code_in(mail))
    clock.advance(seconds=60)
    await auth.request_code("a@example.com")
    phone = await auth.verify("a@example.com", code_in(mail))
    await auth.sign_out_everywhere(await auth.user_for_token(phone.token))
    for token in (laptop.token, phone.token):
        with pytest.raises(Unauthorized, match="signed out on every device"):
            await auth.user_for_token(token)
    clock.advance(seconds=60)
    await auth.request_code("a@example.com")
    again = await auth.verify("a@example.com", code_in(mail))  # a new sign-in works at once
    assert (await auth.user_for_token(again.token)).id == laptop.user.id
