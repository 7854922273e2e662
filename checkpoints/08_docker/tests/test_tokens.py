"""Tokens the app did not issue, or no longer honours, are turned away.

A JWT is header.payload.signature, each part base64url; HS256 signs the first two with SECRET_KEY.
The tests make tokens by hand from the claims of a token the app issued.
"""

import base64
import hashlib
import hmac
import json
import time

import pytest

from app.config import settings

ME = "/api/v1/users/me"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    """The payload of a token, read without checking it (anyone can)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def signed(claims: dict) -> str:
    """A token with these claims, signed with the app's own key: one the app should accept."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(settings.secret_key.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token(ada_headers) -> str:
    return ada_headers["Authorization"].removeprefix("Bearer ")


def test_a_token_signed_with_the_key_is_accepted(client, token):
    """The control for the tests below: a token made here, the way the app makes them, works."""
    assert client.get(ME, headers=bearer(signed(claims_of(token)))).status_code == 200


def test_an_expired_token_is_rejected(client, token):
    expired = signed({**claims_of(token), "exp": int(time.time()) - 60})
    assert client.get(ME, headers=bearer(expired)).status_code == 401


def test_a_token_whose_payload_was_edited_is_rejected(client, token):
    header, _, signature = token.split(".")
    longer = {**claims_of(token), "exp": claims_of(token)["exp"] + 3600}
    edited = f"{header}.{b64url(json.dumps(longer).encode())}.{signature}"
    assert client.get(ME, headers=bearer(edited)).status_code == 401
