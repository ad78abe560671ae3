"""Session tokens: only our own current HS256 tokens are accepted."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from chat_web.domain import Unauthorized
from chat_web.services.tokens import TokenClaims, TokenService

SECRET = "unit-test-secret-that-is-long-enough-123"


@pytest.fixture
def tokens(clock):
    return TokenService(SECRET, timedelta(days=15), clock)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip(tokens):
    assert tokens.read(tokens.issue("user-1", 3)) == TokenClaims("user-1", 3)


def test_claims_are_hs256_with_a_fifteen_day_expiry_issuer_audience_and_version(tokens, clock):
    token = tokens.issue("user-1", 2)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert [claims[k] for k in ("sub", "ver", "iss", "aud")] == ["user-1", 2, "chat_web", "chat_web"]
    assert claims["exp"] - claims["iat"] == 15 * 24 * 3600


def test_another_issuer_or_audience_with_the_same_secret(tokens, clock):
    for other in (
        TokenService(SECRET, timedelta(days=1), clock, issuer="staging"),
        TokenService(SECRET, timedelta(days=1), clock, audience="another-app"),
    ):
        with pytest.raises(Unauthorized):
            tokens.read(other.issue("user-1"))


def test_expired_token(tokens, clock):
    token = tokens.issue("user-1")
    clock.advance(days=15)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.read(token)


def test_a_token_read_before_it_expired_is_refused_after(tokens, clock):
    # A checked token is kept with its expiry (no second signature check): the expiry still holds.
    token = tokens.issue("user-1")
    assert tokens.read(token).user_id == "user-1"
    clock.advance(days=15)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.read(token)


def test_a_tampered_copy_of_a_token_read_before_is_still_refused(tokens):
    token = tokens.issue("user-1")
    tokens.read(token)
    header, _, signature = token.split(".")
    with pytest.raises(Unauthorized):
        tokens.read(f"{header}.{_b64({'sub': 'admin', 'exp': 4_000_000_000, 'ver': 0})}.{signature}")


def test_token_just_before_expiry(tokens, clock):
    token = tokens.issue("user-1")
    clock.advance(days=14, hours=23)
    assert tokens.read(token).user_id == "user-1"


def test_other_secret(tokens, clock):
    forged = TokenService("another-secret-another-secret-12345", timedelta(days=1), clock).issue("user-1")
    with pytest.raises(Unauthorized):
        tokens.read(forged)


def test_tampered_payload(tokens):
    header, _, signature = tokens.issue("user-1").split(".")
    payload = _b64({"sub": "admin", "exp": 4_000_000_000})
    with pytest.raises(Unauthorized):
        tokens.read(f"{header}.{payload}.{signature}")


def test_alg_none(tokens):
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': 'user-1', 'exp': 4_000_000_000})}."
    with pytest.raises(Unauthorized):
        tokens.read(unsigned)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the forger's problem
def test_other_algorithm_with_the_right_key(tokens):
    hs512 = jwt.encode({"sub": "user-1", "exp": 4_000_000_000}, SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        tokens.read(hs512)


GOOD_CLAIMS = {"sub": "user-1", "exp": 4_000_000_000, "iss": "chat_web", "aud": "chat_web", "ver": 0}


@pytest.mark.parametrize(
    "claims",
    [
        *({k: v for k, v in GOOD_CLAIMS.items() if k != missing} for missing in GOOD_CLAIMS),
        {**GOOD_CLAIMS, "sub": 7},
        {**GOOD_CLAIMS, "ver": "0"},
        {**GOOD_CLAIMS, "ver": True},
    ],
)
def test_missing_or_wrong_claims(tokens, claims):
    assert tokens.read(jwt.encode(GOOD_CLAIMS, SECRET, algorithm="HS256")).user_id == "user-1"
    with pytest.raises(Unauthorized):
        tokens.read(jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer xyz"])
def test_garbage(tokens, garbage):
    with pytest.raises(Unauthorized):
        tokens.read(garbage)
