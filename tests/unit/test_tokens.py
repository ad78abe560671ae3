"""Session tokens: only our own current HS256 tokens are accepted."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from chat_web.domain import Unauthorized
from chat_web.services.tokens import TokenService

SECRET = "unit-test-secret-that-is-long-enough-123"


@pytest.fixture
def tokens(clock):
    return TokenService(SECRET, timedelta(days=15), clock)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_round_trip(tokens):
    assert tokens.subject(tokens.issue("user-1")) == "user-1"


def test_claims_are_hs256_with_a_fifteen_day_expiry(tokens, clock):
    token = tokens.issue("user-1")
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "user-1"
    assert claims["exp"] - claims["iat"] == 15 * 24 * 3600


def test_expired_token(tokens, clock):
    token = tokens.issue("user-1")
    clock.advance(days=15)
    with pytest.raises(Unauthorized, match="expired"):
        tokens.subject(token)


def test_token_just_before_expiry(tokens, clock):
    token = tokens.issue("user-1")
    clock.advance(days=14, hours=23)
    assert tokens.subject(token) == "user-1"


def test_other_secret(tokens, clock):
    forged = TokenService("another-secret-another-secret-12345", timedelta(days=1), clock).issue("user-1")
    with pytest.raises(Unauthorized):
        tokens.subject(forged)


def test_tampered_payload(tokens):
    header, _, signature = tokens.issue("user-1").split(".")
    payload = _b64({"sub": "admin", "exp": 4_000_000_000})
    with pytest.raises(Unauthorized):
        tokens.subject(f"{header}.{payload}.{signature}")


def test_alg_none(tokens):
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'sub': 'user-1', 'exp': 4_000_000_000})}."
    with pytest.raises(Unauthorized):
        tokens.subject(unsigned)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the forger's problem
def test_other_algorithm_with_the_right_key(tokens):
    hs512 = jwt.encode({"sub": "user-1", "exp": 4_000_000_000}, SECRET, algorithm="HS512")
    with pytest.raises(Unauthorized):
        tokens.subject(hs512)


@pytest.mark.parametrize(
    "claims", [{"exp": 4_000_000_000}, {"sub": "user-1"}, {"sub": 7, "exp": 4_000_000_000}]
)
def test_missing_or_wrong_claims(tokens, claims):
    with pytest.raises(Unauthorized):
        tokens.subject(jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer xyz"])
def test_garbage(tokens, garbage):
    with pytest.raises(Unauthorized):
        tokens.subject(garbage)
