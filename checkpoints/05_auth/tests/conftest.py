"""Fixtures for the lesson 05 suite: sign people up, and check that a request was turned away.

A learner's app hashes with Argon2's defaults (0.1 to 0.3 s a hash), so a test module registers
and logs in Ada and Bob once, into a template database, and each test that only needs them
(`people`) starts from a copy of it. Only tests about registering, logging in or hashing
register or log in people themselves.
"""

import secrets
import sqlite3
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import jwt
import pytest

from workbook.loader import forget_app, with_time_limit
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
    logged_in: tuple[float, float] = (0.0, 0.0)  # time.time() when the login was sent, and when it answered

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def enroll(client, name: str) -> Account:
    """Register name@example.com through the app, then log in."""
    email, password = f"{name}@example.com", f"pw-{secrets.token_hex(8)}"
    r = register(client, email, password, full_name=name.capitalize())
    assert r.status_code == 201, f"POST {USERS} should register {email} with 201 Created, got {show(r)}." + (
        NO_USERS_ROUTE if r.status_code in (404, 405) else ""
    )
    sent = time.time()
    token = issue_token(client, email, password)
    return Account(email, password, r.json(), token, read_claims(token), (sent, time.time()))


@pytest.fixture
def log_in():
    """log_in(client, account) -> Account: the same person with a new token, from a login through client."""

    def again(client, account: Account) -> Account:
        sent = time.time()
        token = issue_token(client, account.email, account.password)
        return replace(account, token=token, claims=read_claims(token), logged_in=(sent, time.time()))

    return again


class People(NamedTuple):
    ada: Account
    bob: Account


class Unregistered:
    """Stands in for Ada and Bob when signing them up failed: a test that uses them fails with the reason."""

    def __init__(self, error: BaseException):
        self.error = error

    @property
    def ada(self) -> Account:
        raise self.error

    bob = ada

    def __iter__(self):
        raise self.error


class Seed:
    """One test module's template database, with Ada and Bob registered and logged in."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.secret_key = secrets.token_hex(32)
        self.template: Path | None = None
        self.people: People | None = None
        self.failure: str | None = None  # why registering or logging in failed, told again to every test
        self.attempts = 0


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Seed:
    return Seed(tmp_path_factory.mktemp("seed"))


@pytest.fixture
def people(request, seed: Seed, load_app, grading_env) -> People | Unregistered:
    """Ada and Bob, registered and logged in, already in this test's database (a copy of the module's).

    Ask for it BEFORE `client`: the test's app must load after the copy, and with the SECRET_KEY
    that signed their tokens.
    """
    assert "app.main" not in sys.modules, "The `people` fixture must come before `client` in the test's parameters."
    url = grading_env["DATABASE_URL"]
    grading_env["SECRET_KEY"] = seed.secret_key
    if not url.startswith("sqlite:///"):  # a database server: sign them up in this test's own database
        return sign_up_people(request, load_app)
    if seed.people is None:
        if seed.failure is not None:
            return Unregistered(AssertionError(seed.failure))
        seed.attempts += 1
        template = seed.folder / f"template-{seed.attempts}.db"  # a fresh file: a failed attempt may have left users
        found = sign_up_people(request, load_app, DATABASE_URL=f"sqlite:///{template}")
        forget_app()  # close the template's connections
        if isinstance(found, Unregistered):
            if isinstance(found.error, AssertionError):
                seed.failure = str(found.error)
            return found  # anything else (the app crashed) is tried again, so each test shows its own traceback
        seed.people, seed.template = found, template
    copy_database(seed.template, Path(url.removeprefix("sqlite:///")))
    return seed.people


def sign_up_people(request, load_app, **overrides: str) -> People | Unregistered:
    """Register and log in Ada and Bob through a freshly loaded app; a failure is kept for the test to raise."""
    # Imported here, not at the top: the plugin imports it while the app is preflighted.
    from fastapi.testclient import TestClient

    try:
        with TestClient(with_time_limit(load_app(**overrides), request.config.getoption("request_timeout"))) as client:
            return People(enroll(client, "ada"), enroll(client, "bob"))
    except Exception as error:  # noqa: BLE001 - raised again in each test that uses Ada and Bob
        return Unregistered(error)


def copy_database(source: Path, destination: Path) -> None:
    """Copy a SQLite database with its write-ahead log folded in (the backup API reads both)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    source_db, destination_db = sqlite3.connect(source), sqlite3.connect(destination)
    try:
        source_db.backup(destination_db)
    finally:
        source_db.close()
        destination_db.close()


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
