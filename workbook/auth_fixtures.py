"""Plugin fixtures for the suites of lesson 05 on: people signed up once, and a shared app for reads.

A learner's app hashes with Argon2's defaults (0.1 to 0.3 s a hash), so Ada and Bob are registered and logged
in once per graded folder, through the app, into a template database, keeping the app's answers; each test that
needs them (`people`) starts from a copy of that database, under the SECRET_KEY that signed their tokens. A test
hashes more only where that is its point. Tests whose requests should change nothing share one load (`reader`).
Ada and Bob themselves, and how they sign up, are workbook.accounts'; the Argon2 calibration is
workbook.hash_timing's, the 401 checks workbook.unauthorized's.

Every fixture here works whatever order a test names them in: `client` loads the app at its first request,
after every fixture of the test (people's database included) has been set up. Registered by workbook.plugin.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbook import sandbox_files, sandbox_sqlite
from workbook.accounts import TOKEN_MINUTES, People, Unregistered, sign_up_people
from workbook.sandbox_apps import AppHost, AppLoad, Place
from workbook.sandbox_client import AppClient
from workbook.spares import SEEDS, TAKEN
from workbook.testing import Routes

COPY_LATER = pytest.StashKey[bool]()  # on a test item: `people` leaves its database alone (workbook.keeps)


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
def seeds(request):
    made: dict[Path, Seed] = {}
    request.config.stash[SEEDS] = made  # spares for the kept suites' --as-user tests start on Ada's database
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


@pytest.fixture
def people(
    request, seed: Seed, app_host: AppHost, place: Place, grading_env: dict, request_time_limit: float, routes: Routes
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
            sandbox_sqlite.copy_sqlite(written, template)
        except OSError as error:
            seed.failure = f"Ada and Bob were registered, but the app's database at DATABASE_URL is unreadable: {error}"
            return Unregistered(AssertionError(seed.failure))
        seed.people, seed.template = found, template
    spare = request.node.stash.get(TAKEN, None)
    if spare is not None and spare.seeded and spare.place is place:
        return seed.people  # a seeded spare's app has the copy open already
    if not request.node.stash.get(COPY_LATER, False):  # workbook.keeps.seed_before_start copies it, if at all
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
    shared.client.exchanges.clear()  # a failure's diagnosis reads this test's requests, not the tests' before
    return shared.client
