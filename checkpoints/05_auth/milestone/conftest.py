"""Fixtures for the lesson 05 suite: sign people up, and check that a request was turned away.

A learner's app hashes with Argon2's defaults (0.1 to 0.3 s a hash), so the suite registers and
logs in Ada and Bob once, into a template database, keeping the app's answers; each test that
needs them (`people`) starts from a copy of that database. A test hashes more only where that
is its point. Tests whose requests should change nothing share one loaded app (`reader`).
"""

import contextlib
import secrets
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import httpx
import jwt
import pytest

from workbook import postgres
from workbook.loader import (
    COPY_NAME,
    forget_app,
    grading_settings,
    import_app,
    with_time_limit,
)
from workbook.testing import Routes, bearer, in_lesson_order, login, show

TOKEN_MINUTES = 7  # Ada and Bob log in under ACCESS_TOKEN_EXPIRE_MINUTES=7: no app's default by chance
NO_USERS_ROUTE = (
    " There is no such route yet: add a users router with POST /users and include it in app/main.py "
    "with prefix /api/v1."
)


ORDER = ["test_users.py", "test_tokens.py", "test_tasks.py", "test_passwords.py", "test_event_loop.py"]


def pytest_collection_modifyitems(items):
    """Run this suite in the order of the lesson, the slow real-server test last."""
    in_lesson_order(items, Path(__file__).parent, ORDER)


@dataclass
class Account:
    email: str
    password: str
    first_try: httpx.Response | Exception  # what POST /api/v1/users answered to the edge case tried first
    registration: httpx.Response  # the answer that registered them (first_try, unless that was refused)
    login: httpx.Response  # what POST /api/v1/auth/token answered
    token: str = ""
    claims: dict = field(default_factory=dict)  # the token's payload, read without checking it
    logged_in: tuple[float, float] = (0.0, 0.0)  # time.time() when the login was sent, and when it answered

    @property
    def user(self) -> dict:
        return self.registration.json()

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


# Each registration first tries an edge case the contract allows (test_users.py judges the answer);
# if the app refuses it or crashes, an ordinary one follows: one bug there must not fail the suite.
EDGE_CASES = {
    "ada": {"password": secrets.token_hex(64), "full_name": "Ada"},  # 128 characters
    "bob": {"password": f"pw{secrets.token_hex(3)}"},  # 8 characters, and no full_name at all
}


def enroll(client, routes: Routes, name: str) -> Account:
    """Register name@example.com through the app, then log in."""
    email = f"{name}@example.com"
    body = {"email": email, **EDGE_CASES[name]}
    try:
        first_try = registration = client.post(routes.users, json=body)
    except Exception as error:  # noqa: BLE001 - the app crashed on it: the test that judges it raises this again
        first_try = registration = error
    if isinstance(first_try, Exception) or first_try.status_code >= 300:
        body = {"email": email, "password": f"pw-{secrets.token_hex(8)}", "full_name": name.capitalize()}
        registration = client.post(routes.users, json=body)
    # 200 is wrong too, but test_users.py says so: here it is enough that the user exists.
    assert registration.status_code in (200, 201), (
        f"POST {routes.users} should register {email} with 201 Created, got {show(registration)}."
        + (NO_USERS_ROUTE if registration.status_code in (404, 405) else "")
    )
    sent = time.time()
    r = login(client, routes, email, body["password"])
    answered = time.time()
    token = token_from(r, routes, email)
    return Account(email, body["password"], first_try, registration, r, token, read_claims(token), (sent, answered))


@pytest.fixture
def token_minutes() -> int:
    """The ACCESS_TOKEN_EXPIRE_MINUTES under which Ada and Bob logged in."""
    return TOKEN_MINUTES


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
    """The suite's template database for one graded app, with Ada and Bob registered and logged in."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.secret_key = secrets.token_hex(32)
        self.template: str | None = None  # the template database's URL
        self.people: People | None = None
        self.failure: str | None = None  # why registering or logging in failed, told again to every test
        self.attempts = 0
        self.reader: SharedApp | None = None


@dataclass
class SharedApp:
    """The app that `reader` tests share, with the settings and folder it was loaded in."""

    client: object  # an entered TestClient
    module: object  # its app.main, to tell whether another test has loaded an app since
    env: dict[str, str]
    workdir: Path
    time_limit: float  # seconds a request may take, shorter once the app has hung

    def close(self) -> None:
        with contextlib.suppress(Exception):  # another test's load may have torn its modules down already
            self.client.__exit__(None, None, None)


@pytest.fixture(scope="session")
def seeds():
    made: dict[Path, Seed] = {}
    yield made
    for seed in made.values():
        if seed.reader is not None:
            seed.reader.close()


@pytest.fixture
def seed(seeds: dict[Path, Seed], app_dir: Path, tmp_path_factory) -> Seed:
    if app_dir not in seeds:
        seeds[app_dir] = Seed(tmp_path_factory.mktemp("seed"))
    return seeds[app_dir]


@pytest.fixture
def people(seed: Seed, workdir: Path, grading_env, request_time_limit: float, routes: Routes) -> People | Unregistered:
    """Ada and Bob, registered and logged in, already in this test's database (a copy of the suite's).

    Ask for it BEFORE `client`: the test's app must load after the copy, and with the SECRET_KEY
    that signed their tokens.
    """
    url = grading_env["DATABASE_URL"]
    grading_env["SECRET_KEY"] = seed.secret_key
    login_minutes = {"ACCESS_TOKEN_EXPIRE_MINUTES": str(TOKEN_MINUTES)}
    if seed.people is None:
        if seed.failure is not None:
            return Unregistered(AssertionError(seed.failure))
        seed.attempts += 1
        # A fresh database: a failed attempt may have left users. A file, or one on the grading server (08).
        template = grading_settings(seed.folder / f"template-{seed.attempts}")["DATABASE_URL"]
        found = sign_up_people(
            workdir, routes, {**grading_env, **login_minutes, "DATABASE_URL": template}, request_time_limit
        )
        if isinstance(found, Unregistered):
            if isinstance(found.error, AssertionError):
                seed.failure = str(found.error)
            return found  # anything else (the app crashed) is tried again, so each test shows its own traceback
        seed.people, seed.template = found, template
    copy_database(seed.template, url)
    return seed.people


@pytest.fixture
def reader(request, people, seed: Seed, workdir: Path, tmp_path_factory, monkeypatch, request_time_limit: float):
    """A client for the tests whose requests should change nothing (reads, logins, refused
    registrations): they share one loaded app.

    Loading an app costs a test about 60 ms, and one is enough for them. It runs in its own folder,
    on its own copy of Ada and Bob's database, with their SECRET_KEY. A test that changes data, or
    whose requests a buggy app could turn into changes that mislead the tests after it (a second
    Ada), takes `client` instead.
    """
    if seed.people is None or isinstance(people, Unregistered):  # no template to share
        return request.getfixturevalue("client")
    shared = seed.reader
    if shared is None or sys.modules.get("app.main") is not shared.module or shared.time_limit != request_time_limit:
        # none yet, another test has loaded an app since, or the app hung and requests now get less time
        if shared is not None:
            shared.close()
        home = tmp_path_factory.mktemp("shared")
        env = {**grading_settings(home), "SECRET_KEY": seed.secret_key}
        copy_database(seed.template, env["DATABASE_URL"])
        folder = Path(shutil.copytree(workdir, home / COPY_NAME))  # this test's fresh copy of the graded folder
        seed.reader = shared = load_shared_app(folder, env, request_time_limit)
    monkeypatch.chdir(shared.workdir)  # as when it loaded: an app may read its settings at each request
    for name, value in shared.env.items():
        monkeypatch.setenv(name, value)
    return shared.client


@contextlib.contextmanager
def running_in(workdir: Path, env: dict[str, str]):
    """This process as an app expects it: its folder the working directory, its settings in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        for name, value in env.items():
            patch.setenv(name, value)
        yield


def load_shared_app(workdir: Path, env: dict[str, str], seconds: float) -> SharedApp:
    """Import the app from workdir with env, and enter a client (its startup runs) that outlives the test."""
    from fastapi.testclient import TestClient

    with running_in(workdir, env):
        client = TestClient(with_time_limit(import_app(workdir), seconds))
        client.__enter__()
    return SharedApp(client, sys.modules["app.main"], env, workdir, seconds)


def sign_up_people(workdir: Path, routes: Routes, env: dict[str, str], seconds: float) -> People | Unregistered:
    """Register and log in Ada and Bob through a freshly loaded app; a failure is kept for the test to raise."""
    # Imported here, not at the top: the plugin imports it while the app is preflighted.
    from fastapi.testclient import TestClient

    try:
        with running_in(workdir, env):
            app = with_time_limit(import_app(workdir), seconds)
            with TestClient(app) as client:
                return People(enroll(client, routes, "ada"), enroll(client, routes, "bob"))
    except Exception as error:  # noqa: BLE001 - raised again in each test that uses Ada and Bob
        return Unregistered(error)
    finally:
        forget_app()  # close its connections: tests copy the database it wrote


def copy_database(source_url: str, destination_url: str) -> None:
    """Copy a database: a SQLite file with its write-ahead log folded in (the backup API reads both),
    or a PostgreSQL database of the grading server (lesson 08's --postgres), as a template."""
    if not source_url.startswith("sqlite:///"):
        postgres.copy_database(source_url, destination_url)
        return
    source, destination = Path(source_url.removeprefix("sqlite:///")), Path(destination_url.removeprefix("sqlite:///"))
    destination.parent.mkdir(parents=True, exist_ok=True)
    source_db, destination_db = sqlite3.connect(source), sqlite3.connect(destination)
    try:
        source_db.backup(destination_db)
    finally:
        source_db.close()
        destination_db.close()


def token_from(r, routes: Routes, email: str) -> str:
    """The access token in a login's answer; the answer must be a 200 with one."""
    assert r.status_code == 200, (
        f"POST {routes.token} with the form fields username={email} and the right password should answer 200, "
        f"got {show(r)}. Take the form with OAuth2PasswordRequestForm: the email arrives as `username`."
    )
    body = r.json()
    token = body.get("access_token") if isinstance(body, dict) else None
    assert isinstance(token, str) and token, (
        f'POST {routes.token} should answer {{"access_token": "...", "token_type": "bearer"}}, got {show(r)}.'
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


def turned_away_or_why_not(r, what: str, where: str) -> str | None:
    """None when r is a 401 with a `WWW-Authenticate: Bearer` challenge, else what is wrong with it."""
    if r.status_code != 401:
        return f"{what} should answer 401 Unauthorized, got {show(r)}. {where}"
    challenge = r.headers.get("www-authenticate", "")
    if not challenge.strip().lower().startswith("bearer"):
        return (
            f"{what} answered 401 without the header `WWW-Authenticate: Bearer` (got {challenge or 'none'!r}). "
            "Raise HTTPException(status_code=401, detail=..., headers={'WWW-Authenticate': 'Bearer'})."
        )
    return None


@pytest.fixture
def why_not_turned_away():
    """why_not_turned_away(r, what, where) -> None for a 401 with `WWW-Authenticate: Bearer`, else the problem."""
    return turned_away_or_why_not


@pytest.fixture
def assert_turned_away():
    """assert_turned_away(r, what, where): 401 with a `WWW-Authenticate: Bearer` challenge."""

    def check(r, what: str, where: str) -> None:
        problem = turned_away_or_why_not(r, what, where)
        assert problem is None, problem

    return check
