"""Plugin fixtures for the suites of lesson 05 on: people signed up once, a shared app for reads, 401 checks.

A learner's app hashes with Argon2's defaults (0.1 to 0.3 s a hash), so Ada and Bob are registered and logged
in once per graded folder, through the app, into a template database, keeping the app's answers; each test that
needs them (`people`) starts from a copy of that database, under the SECRET_KEY that signed their tokens. A test
hashes more only where that is its point. Tests whose requests should change nothing share one load (`reader`).

Every fixture here works whatever order a test names them in: `client` loads the app at its first request,
after every fixture of the test (people's database included) has been set up. Registered by workbook.plugin.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

from workbook import sandbox_files
from workbook.sandbox_apps import AppHost, AppLoad, Place
from workbook.sandbox_client import AppClient
from workbook.testing import Routes, bearer, login, show

TOKEN_MINUTES = 7  # Ada and Bob log in under ACCESS_TOKEN_EXPIRE_MINUTES=7: no app's default by chance
NO_USERS_ROUTE = (
    " There is no such route yet: add a users router with POST /users and include it in app/main.py "
    "with prefix /api/v1."
)
# The Argon2 parameters the calibration accepts from a stored hash, at most (an app cannot buy a longer limit).
MOST_ARGON2 = {"m": 256 * 1024, "t": 10, "p": 8}


@dataclass
class Account:
    email: str
    password: str
    first_try: object  # what POST /users answered to the edge case tried first (a response, or what it raised)
    registration: object  # the answer that registered them (first_try, unless that was refused)
    login: object  # what POST /auth/token answered
    token: str = ""
    claims: dict = field(default_factory=dict)  # the token's payload, read without checking it
    logged_in: tuple[float, float] = (0.0, 0.0)  # time.time() when the login was sent, and when it answered

    @property
    def user(self) -> dict:
        return self.registration.json()

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def edge_cases() -> dict[str, dict]:
    """Each registration first tries an edge case the contract allows (test_users.py judges the answer);
    if the app refuses it or crashes, an ordinary one follows: one bug there must not fail the suite."""
    return {
        "ada": {"password": secrets.token_hex(64), "full_name": "Ada"},  # 128 characters
        "bob": {"password": f"pw{secrets.token_hex(3)}"},  # 8 characters, and no full_name at all
    }


def enroll(client, routes: Routes, name: str, tried: dict, run: str) -> Account:
    """Register name.<run>@example.com through the app, then log in (emails vary from run to run)."""
    email = f"{name}.{run}@example.com"
    body = {"email": email, **tried}
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
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as error:
        raise AssertionError(
            f"The access token is not a JWT ({error}): {token[:40]!r}... "
            "Make it with jwt.encode(payload, SECRET_KEY, algorithm='HS256')."
        ) from None
    return claims if isinstance(claims, dict) else {}


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


@dataclass
class SharedApp:
    """The load that `reader` tests share, and the time limit its client has."""

    load: AppLoad
    client: AppClient
    time_limit: float


class Seed:
    """Ada and Bob for one graded folder: the template database they are registered in, and what the app said."""

    def __init__(self, scratch: Path):
        self.scratch = scratch  # the grader's own folder: the template is copied here from the app's
        self.secret_key = secrets.token_hex(32)
        self.run = secrets.token_hex(3)
        self.template: Path | None = None  # the grader's copy of the template database (SQLite)
        self.template_url: str | None = None  # or the template on lesson 08's grading server (--postgres)
        self.people: People | None = None
        self.failure: str | None = None  # why registering or logging in failed, told again to every test
        self.attempts = 0
        self.reader: SharedApp | None = None
        self.hash_seconds: float | None = None


@pytest.fixture(scope="session")
def seeds():
    made: dict[Path, Seed] = {}
    yield made
    for seed in made.values():
        if seed.reader is not None:
            seed.reader.load.end()


@pytest.fixture
def seed(seeds: dict[Path, Seed], app_dir: Path) -> Seed:
    if app_dir not in seeds:
        seeds[app_dir] = Seed(Path(tempfile.mkdtemp(prefix="workbook-seed-")))
    return seeds[app_dir]


@pytest.fixture
def token_minutes() -> int:
    """The ACCESS_TOKEN_EXPIRE_MINUTES under which Ada and Bob logged in."""
    return TOKEN_MINUTES


def _sqlite_path(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def sign_up_people(
    host: AppHost, place: Place, settings: dict[str, str], seconds: float, routes: Routes, run: str
) -> People | Unregistered:
    """Register and log in Ada and Bob through a fresh load; a failure is kept for the test to raise."""
    load = None
    try:
        load = host.load(place, settings)
        client = load.client(time_limit=seconds)
        tried = edge_cases()
        return People(
            enroll(client, routes, "ada", tried["ada"], run), enroll(client, routes, "bob", tried["bob"], run)
        )
    except Exception as error:  # noqa: BLE001 - raised again in each test that uses Ada and Bob
        return Unregistered(error)
    finally:
        if load is not None:
            load.end()


@pytest.fixture
def people(
    seed: Seed, app_host: AppHost, place: Place, grading_env: dict, request_time_limit: float, routes: Routes
) -> People | Unregistered:
    """Ada and Bob, registered and logged in, already in this test's database (a copy of the suite's), and
    this test's SECRET_KEY the one that signed their tokens."""
    grading_env["SECRET_KEY"] = seed.secret_key
    login_minutes = {"ACCESS_TOKEN_EXPIRE_MINUTES": str(TOKEN_MINUTES)}
    database = _sqlite_path(grading_env["DATABASE_URL"])
    if database is None:
        if not _on_the_grading_server():  # some other server: sign them up in this test's own database
            return sign_up_people(
                app_host, place, {**grading_env, **login_minutes}, request_time_limit, routes, secrets.token_hex(3)
            )
        return _people_on_the_server(seed, app_host, grading_env, login_minutes, request_time_limit, routes)
    if seed.people is None:
        if seed.failure is not None:
            return Unregistered(AssertionError(seed.failure))
        seed.attempts += 1
        home = app_host.place()  # a place of its own: a failed attempt may have left users
        written = home.folder / "template.db"
        found = sign_up_people(
            app_host,
            home,
            {
                **app_host.settings(home),
                **login_minutes,
                "SECRET_KEY": seed.secret_key,
                "DATABASE_URL": f"sqlite:///{written}",
            },
            request_time_limit,
            routes,
            seed.run,
        )
        if isinstance(found, Unregistered):
            if isinstance(found.error, AssertionError):
                seed.failure = str(found.error)
            return found  # anything else (the app crashed) is tried again, so each test shows its own error
        template = seed.scratch / f"template-{seed.attempts}.db"
        try:
            sandbox_files.copy_sqlite(written, template)
        except OSError as error:
            seed.failure = f"Ada and Bob were registered, but the app's database at DATABASE_URL is unreadable: {error}"
            return Unregistered(AssertionError(seed.failure))
        seed.people, seed.template = found, template
    sandbox_files.copy_file(seed.template, database, owner=app_host.owner)
    return seed.people


def _on_the_grading_server() -> bool:
    """Whether this session grades on lesson 08's PostgreSQL server (--postgres), where databases copy as templates."""
    from workbook import postgres

    return postgres._session is not None and postgres._session.server is not None


def _copy_on_the_server(source_url: str, destination_url: str) -> None:
    """A database on the grading server made a copy of another; the template's last connections (a load just
    ended) may take a moment to close."""
    from workbook import postgres

    for attempt in range(10):
        try:
            postgres.copy_database(source_url, destination_url)
            return
        except Exception:  # noqa: BLE001 - "source database is being accessed by other users"
            if attempt == 9:
                raise
            time.sleep(0.2)


def _people_on_the_server(seed: Seed, host: AppHost, grading_env: dict, minutes: dict, seconds: float, routes):
    if seed.people is None:
        if seed.failure is not None:
            return Unregistered(AssertionError(seed.failure))
        home = host.place()
        settings = {**host.settings(home), **minutes, "SECRET_KEY": seed.secret_key}
        found = sign_up_people(host, home, settings, seconds, routes, seed.run)
        if isinstance(found, Unregistered):
            if isinstance(found.error, AssertionError):
                seed.failure = str(found.error)
            return found
        seed.people, seed.template_url = found, settings["DATABASE_URL"]
    _copy_on_the_server(seed.template_url, grading_env["DATABASE_URL"])
    return seed.people


@pytest.fixture
def reader(request, people, seed: Seed, app_host: AppHost, request_time_limit: float, mark_hung):
    """A client for the tests whose requests should change nothing (reads, logins, refused registrations): they
    share one load of the app, in its own place, on its own copy of Ada and Bob's database, with their SECRET_KEY.

    A test that changes data, or whose requests a buggy app could turn into changes that mislead the tests after
    it (a second Ada), takes `client` instead.
    """
    if seed.people is None or isinstance(people, Unregistered) or (seed.template is None and seed.template_url is None):
        return request.getfixturevalue("client")
    shared = seed.reader
    if shared is None or shared.time_limit != request_time_limit or not shared.load.serving or shared.load.failure:
        if shared is not None:  # the app hung, and requests now get less time; or its load ended
            shared.load.end()
        home = app_host.place()
        settings = {**app_host.settings(home), "SECRET_KEY": seed.secret_key}
        if seed.template_url is not None:  # on the grading server
            _copy_on_the_server(seed.template_url, settings["DATABASE_URL"])
        else:
            database = home.folder / "shared.db"
            sandbox_files.copy_file(seed.template, database, owner=app_host.owner)
            settings["DATABASE_URL"] = f"sqlite:///{database}"
        load = app_host.load(home, settings)
        client = load.client(time_limit=request_time_limit, on_timeout=mark_hung)
        seed.reader = shared = SharedApp(load, client, request_time_limit)
    return shared.client


@pytest.fixture
def one_hash_seconds(seed: Seed, people) -> float:
    """How long this machine takes to compute one Argon2 hash with the parameters found in the hash the app stored
    for Ada (its cost, capped at MOST_ARGON2): the grader's own measure of one login's work, which the app
    cannot stretch by slowing its logins down."""
    if seed.hash_seconds is None:
        seed.hash_seconds = _time_one_hash(_stored_argon2_parameters(seed))
    return seed.hash_seconds


_PARAMETERS = re.compile(r"^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$")


def _stored_argon2_parameters(seed: Seed) -> dict[str, int]:
    from argon2 import PasswordHasher

    from workbook.testing import database_values

    defaults = PasswordHasher()
    found = {"m": defaults.memory_cost, "t": defaults.time_cost, "p": defaults.parallelism}
    if seed.template is not None:
        values = sandbox_files.sqlite_values(seed.template)
    elif seed.template_url is not None:
        values = database_values(seed.template_url)
    else:
        values = []
    for _table, _column, value in values:
        match = _PARAMETERS.match(value.decode(errors="replace") if isinstance(value, bytes) else str(value))
        if match:
            found = {"m": int(match[1]), "t": int(match[2]), "p": int(match[3])}
            break
    return {name: max(1, min(value, MOST_ARGON2[name])) for name, value in found.items()}


def _time_one_hash(parameters: dict[str, int]) -> float:
    from argon2.low_level import Type, hash_secret_raw

    best = float("inf")
    for _attempt in range(3):
        started = time.perf_counter()
        hash_secret_raw(
            secrets.token_bytes(16),
            secrets.token_bytes(16),
            time_cost=parameters["t"],
            memory_cost=max(parameters["m"], 8 * parameters["p"]),
            parallelism=parameters["p"],
            hash_len=32,
            type=Type.ID,
        )
        best = min(best, time.perf_counter() - started)
    return best


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
