"""Fixtures for the lesson 05 suite: sign people up, and check that a request was turned away.

A learner's app hashes with Argon2's defaults (about 0.1 s a hash), so every test registers
and logs in as few people as it can.
"""

import secrets
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import pytest

from workbook.testing import bearer, login, register, show

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
NO_USERS_ROUTE = (
    " There is no such route yet: add a users router with POST /users and include it in app/main.py "
    "with prefix /api/v1."
)


ORDER = ["test_users.py", "test_tokens.py", "test_tasks.py", "test_passwords.py", "test_event_loop.py"]


def pytest_collection_modifyitems(items):
    """Run this suite in the order of the lesson, the slow real-server test last."""
    here = Path(__file__).parent
    places = [place for place, item in enumerate(items) if item.path.parent == here]
    ours = sorted((items[place] for place in places), key=lambda item: ORDER.index(item.path.name) if item.path.name in ORDER else len(ORDER))
    for place, item in zip(places, ours):
        items[place] = item


@dataclass
class Account:
    email: str
    password: str
    user: dict  # what POST /api/v1/users answered
    token: str = ""
    claims: dict = field(default_factory=dict)  # the token's payload, read without checking it

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


@pytest.fixture
def sign_up():
    """sign_up(client, name, log_in=True) -> Account: register name@example.com, then log in."""

    def sign_up(client, name: str, *, log_in: bool = True) -> Account:
        email, password = f"{name}@example.com", f"pw-{secrets.token_hex(8)}"
        r = register(client, email, password, full_name=name.capitalize())
        assert r.status_code == 201, f"POST {USERS} should register {email} with 201 Created, got {show(r)}." + (
            NO_USERS_ROUTE if r.status_code in (404, 405) else ""
        )
        account = Account(email, password, r.json())
        if log_in:
            account.token = issue_token(client, email, password)
            account.claims = read_claims(account.token)
        return account

    return sign_up


def issue_token(client, email: str, password: str) -> str:
    r = login(client, email, password)
    assert r.status_code == 200, (
        f"POST {TOKEN} with the form fields username={email} and the right password should answer 200, "
        f"got {show(r)}. Take the form with OAuth2PasswordRequestForm: the email arrives as `username`."
    )
    body = r.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    assert isinstance(token, str) and token, (
        f'POST {TOKEN} should answer {{"access_token": "...", "token_type": "bearer"}}, got {show(r)}.'
    )
    return token


def read_claims(token: str) -> dict:
    """The payload of a token the app issued, read without checking its signature."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AssertionError(
            f"The access token is not a JWT ({error}): {token[:40]!r}... "
            "Make it with jwt.encode(payload, SECRET_KEY, algorithm='HS256')."
        ) from None


@pytest.fixture
def no_users_route():
    """The sentence that tells a learner where POST /api/v1/users should come from."""
    return NO_USERS_ROUTE


@pytest.fixture
def assert_turned_away():
    """assert_turned_away(r, what, where): 401 with a `WWW-Authenticate: Bearer` challenge."""

    def check(r, what: str, where: str) -> None:
        assert r.status_code == 401, f"{what} should answer 401 Unauthorized, got {show(r)}. {where}"
        challenge = r.headers.get("www-authenticate", "")
        assert challenge.strip().lower().startswith("bearer"), (
            f"{what} answered 401 without the header `WWW-Authenticate: Bearer` (got {challenge or 'none'!r}). "
            "Raise HTTPException(status_code=401, detail=..., headers={'WWW-Authenticate': 'Bearer'})."
        )

    return check
