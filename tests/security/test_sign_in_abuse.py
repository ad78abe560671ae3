"""Sign-in that an attacker cannot turn against others (issue 18, items 3 and 4).

Limits count per network (/24, /64) and per mailbox (+tags, gmail dots folded); a code works
only with the challenge of the /login that asked for it, so tries from elsewhere never reach it.
The HTTP cases come through one trusted proxy (TRUSTED_PROXY_HOPS=1), whose X-Forwarded-For
gives each "network" its own /24 (loopback addresses would all share one).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from chat_web.adapters.auth.memory import InMemoryOtpStore, InMemoryRateLimiter
from chat_web.adapters.mail.memory import RecordingMailQueue
from chat_web.adapters.storage.memory import InMemoryStore
from chat_web.config import Settings
from chat_web.container import abuse_limits
from chat_web.domain import InvalidOtp, RateLimited
from chat_web.services.auth import AuthService
from chat_web.services.networks import mailbox_of, network_of
from chat_web.services.tokens import TokenService
from tests.integration.conftest import mailed_code, running_api


def via(address: str) -> dict:
    return {"X-Forwarded-For": address}


@pytest.fixture
async def proxied(tmp_path):
    """The API with the default limits, behind one trusted proxy; yields (client, settings)."""
    settings = Settings(_env_file=None, data_dir=tmp_path, trusted_proxy_hops=1, REFLEX_ENV_MODE="dev")
    async with running_api(settings) as client:
        yield client, settings


async def test_a_flood_from_32_networks_does_not_stop_an_innocent_sign_in(proxied):
    client, settings = proxied
    networks = [f"198.18.{n}.{1 + n % 200}" for n in range(32)]
    codes_sent = 0
    for n, address in enumerate(networks):
        # The +tags reach one mailbox: one code per network, then that mailbox's cooldown.
        for i in range(10):
            answer = await client.post(
                "/login", json={"email": f"bomb+{n}-{i}@victim.example"}, headers=via(address)
            )
            assert answer.status_code in (200, 429), answer.text
            codes_sent += answer.status_code == 200
        # Then every other address it can think of, until its network's own limit stops it.
        while (
            answer := await client.post(
                "/login", json={"email": f"x{uuid.uuid4().hex[:10]}@m{n}.example"}, headers=via(address)
            )
        ).status_code == 200:
            codes_sent += 1
        assert answer.status_code == 429 and "your network" in answer.json()["detail"]
    assert codes_sent == 32 * 10  # every network at its full rate; the site-wide ceiling is above it

    innocent = "innocent@example.org"
    login = await client.post("/login", json={"email": innocent}, headers=via("203.0.113.9"))
    assert login.status_code == 200, login.text
    proof = {
        "email": innocent,
        "otp": mailed_code(settings, innocent),
        "challenge": login.json()["challenge"],
    }
    session = await client.post("/verify", json=proof, headers=via("203.0.113.9"))
    assert session.status_code == 200 and session.json()["user"]["email"] == innocent


async def test_the_victims_code_survives_five_wrong_tries_from_elsewhere(proxied):
    client, settings = proxied
    victim, home, attacker = "victim@example.org", via("192.0.2.10"), via("198.51.100.66")
    login = await client.post("/login", json={"email": victim}, headers=home)
    assert login.status_code == 200
    challenge, code = login.json()["challenge"], mailed_code(settings, victim)
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"

    # The attacker asks for a code of their own for the victim (not refused: the cooldown is
    # the victim's network's), then tries codes with it, with guessed challenges and with none.
    theirs = await client.post("/login", json={"email": victim}, headers=attacker)
    assert theirs.status_code == 200
    near = challenge[:-1] + ("A" if challenge[-1] != "A" else "B")  # one character off (1 in 64 ended in A)
    tries = [theirs.json()["challenge"]] * 5 + ["guess", "x" * 64, near]
    answers = []
    for guess in tries:
        answer = await client.post(
            "/verify", json={"email": victim, "otp": wrong_code, "challenge": guess}, headers=attacker
        )
        assert answer.status_code == 400
        answers.append(answer.json()["detail"])
    # An outsider's answer is the same whether or not a code is pending for the address.
    nobody = await client.post(
        "/verify",
        json={"email": "nobody@example.org", "otp": wrong_code, "challenge": "guess"},
        headers=attacker,
    )
    assert set(answers[5:]) == {nobody.json()["detail"]}

    session = await client.post(
        "/verify", json={"email": victim, "otp": code, "challenge": challenge}, headers=home
    )
    assert session.status_code == 200 and session.json()["user"]["email"] == victim


async def test_a_code_still_has_its_own_cap_of_five_wrong_tries(proxied):
    client, settings = proxied
    email, home = "careless@example.org", via("192.0.2.11")
    challenge = (await client.post("/login", json={"email": email}, headers=home)).json()["challenge"]
    code = mailed_code(settings, email)
    wrong = {"email": email, "otp": f"{(int(code) + 1) % 10**6:06d}", "challenge": challenge}
    details = [(await client.post("/verify", json=wrong, headers=home)).json()["detail"] for _ in range(5)]
    assert "4 tries left" in details[0] and "no tries left" in details[-1]
    right = {"email": email, "otp": code, "challenge": challenge}
    assert (await client.post("/verify", json=right, headers=home)).status_code == 400


async def test_verify_needs_the_challenge(proxied):
    client, _ = proxied
    answer = await client.post("/verify", json={"email": "a@example.org", "otp": "123456"})
    assert answer.status_code == 422 and "challenge" in answer.json()["detail"]


# --- through the service, with a clock the test moves ---------------------------------------


@pytest.fixture
def auth(clock):
    limits = abuse_limits(Settings(_env_file=None))  # the defaults
    return AuthService(
        users=InMemoryStore(clock).users,
        otps=InMemoryOtpStore(clock),
        limiter=InMemoryRateLimiter(clock),
        mail=RecordingMailQueue(),
        tokens=TokenService("unit-test-secret-that-is-long-enough-123", timedelta(days=1), clock),
        clock=clock,
        hash_key=b"k" * 32,
        limits=limits,
    )


async def test_strangers_cannot_spend_the_daily_codes_of_an_account(auth, clock):
    for _ in range(10):  # a stranger's network uses up its own daily quota for the victim
        await auth.request_code("victim@example.org", client="198.51.100.66")
        clock.advance(seconds=61)
    with pytest.raises(RateLimited, match="today"):
        await auth.request_code("victim+again@example.org", client="198.51.100.67")
    await auth.request_code("victim@example.org", client="192.0.2.10")  # the victim's own network


async def test_tags_and_gmail_dots_count_as_one_mailbox(auth, clock):
    await auth.request_code("bob+1@example.org", client="198.51.100.66")
    with pytest.raises(RateLimited, match="moments ago"):
        await auth.request_code("Bob+2@example.org", client="198.51.100.66")
    await auth.request_code("b.o.b+x@googlemail.com", client="198.51.100.66")
    with pytest.raises(RateLimited, match="moments ago"):
        await auth.request_code("bob@gmail.com", client="198.51.100.66")
    await auth.request_code("bob@gmail.com", client="198.51.101.66")  # another network


async def test_a_wrong_challenge_does_not_count_against_the_code(auth, clock):
    mail = auth._mail
    sent = await auth.request_code("ada@example.org", client="192.0.2.10")
    code = mail.sent[-1].body.split("code is ")[1][:6]
    for _ in range(20):
        with pytest.raises(InvalidOtp, match="no tries left"):
            await auth.verify("ada@example.org", code, "not-the-challenge", client="198.51.100.66")
    assert (await auth.verify("ada@example.org", code, sent.challenge)).user.email == "ada@example.org"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("198.51.100.66", "198.51.100.0/24"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        (None, "-"),
    ],
)
def test_networks(address, network):
    assert network_of(address) == network


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [
        ("bob+spam@example.org", "bob@example.org"),
        ("b.o.b@example.org", "b.o.b@example.org"),  # dots matter elsewhere
        ("b.o.b+x@gmail.com", "bob@gmail.com"),
        ("B.ob@googlemail.com".lower(), "bob@gmail.com"),
        ("+only@example.org", "+only@example.org"),
    ],
)
def test_mailboxes(email, mailbox):
    assert mailbox_of(email) == mailbox
