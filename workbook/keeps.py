"""A lesson's suite and the earlier suites its app keeps (metadata `keeps`), run in one pytest process.

Each kept suite needs its own options (`--api-prefix /api/v1 --as-user`); one process runs them all,
so the app is preflighted once and pytest, FastAPI and the signed-in user start once:

    pytest SUITE KEPT_SUITE... --suite-options "02_requests_and_validation=--api-prefix /api/v1 --as-user"

Fixtures ask `option(request, name)` instead of `config.getoption(name)`: a test of a suite named in
--suite-options gets that suite's value, any other the command line's.

One process also means one AppHost (zygote) per graded folder for every suite, the spares loaded ahead for any
test, and one sign-up of Ada and Bob (workbook.auth_fixtures `people`): with --as-user, a client acts as Ada,
in a copy of the database she is registered in (signed_in, act_as), instead of registering and logging in
itself (two Argon2 hashes a test).
"""

from __future__ import annotations

import argparse
import os
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from workbook.appfiles import SUITE_FOLDER

SUITE_OPTIONS = "--suite-options"


def suite_of(path: Path | str) -> str | None:
    """The checkpoint slug of a test's suite (checkpoints/<slug>/milestone/...), from its path or node id."""
    parts = Path(str(path).split("::", 1)[0]).parts
    if SUITE_FOLDER not in parts[1:]:
        return None
    return parts[parts.index(SUITE_FOLDER, 1) - 1]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--api-prefix", dest="api_prefix", default="")
    parser.add_argument("--as-user", dest="as_user", action="store_true")
    return parser


@cache
def _parse(arguments: tuple[str, ...]) -> dict[str, dict]:
    """{"02_requests_and_validation": {"api_prefix": "/api/v1", "as_user": True}} from the option's values."""
    found = {}
    for each in arguments:
        slug, _, options = each.partition("=")
        found[slug.strip()] = vars(_parser().parse_args(shlex.split(options)))
    return found


def kept_suites(config) -> set[str]:
    """The slugs of the suites this run keeps (named in --suite-options): every other suite is the lesson's own."""
    return set(_parse(tuple(config.getoption("suite_options", None) or ())))


def held_back(item) -> bool:
    """Whether a test of a kept suite waits for the lesson's own checks, one of which failed: an app that does not
    pass its lesson yet (a blank one, a hostile one) is told about this lesson first, not kept busy for minutes."""
    from workbook.plugin_state import RESULTS

    kept = kept_suites(item.config)
    if not kept or suite_of(item.nodeid) not in kept or RESULTS not in item.config.stash:
        return False
    results = item.config.stash[RESULTS].values()
    return any(each["outcome"] == "failed" and suite_of(each["nodeid"]) not in kept for each in results)


def option(request, name: str):
    """The option `name` (dest spelling: "as_user", "api_prefix") for the suite of the requesting test."""
    config = request.config
    chosen = _parse(tuple(config.getoption("suite_options", None) or ())).get(suite_of(request.path) or "")
    return chosen[name] if chosen is not None and name in chosen else config.getoption(name)


@dataclass
class SignedIn:
    """Ada and Bob (auth_fixtures.people, or Unregistered) and the settings their database copy was made for."""

    people: object  # None: no one was signed up for this test
    database_url: str | None  # the database her copy is in (None: none yet)
    secret_key: str | None
    template: Path | None = None  # for a copy made later (seed_before_start), and the child's uid to own it
    owner: int | None = None
    urls: set = field(default_factory=set)  # the databases seed_before_start copied her into
    loads: dict = field(default_factory=dict)  # id(load) -> the .env database seed_before_start copied her into


def signed_in(request, copy: bool = True) -> SignedIn:
    """Ada and Bob for this test (auth_fixtures.people: this test's SECRET_KEY theirs, and with copy their
    database copied into the test's); call it before the test's app loads."""
    if not copy:
        from workbook.auth_fixtures import COPY_LATER

        request.node.stash[COPY_LATER] = True
    people = request.getfixturevalue("people")
    env = request.getfixturevalue("grading_env")
    seed, host = request.getfixturevalue("seed"), request.getfixturevalue("app_host")
    return SignedIn(people, env.get("DATABASE_URL") if copy else None, env.get("SECRET_KEY"), seed.template, host.owner)


def seed_before_start(who: SignedIn | None, load) -> None:
    """Before a test's app starts: a SQLite database it names that does not exist yet starts as Ada and Bob's
    (a test that checks where the app writes, or that importing it creates nothing). A load with DATABASE_URL
    unset names the one in its folder's .env (the grader wrote it there: lesson 04's .env test), so that test
    acts as Ada too instead of registering someone for real (two Argon2 hashes)."""
    settings = getattr(load, "settings", None) or {}
    if who is None or who.template is None or who.people is None or settings.get("SECRET_KEY") != who.secret_key:
        return
    url = settings.get("DATABASE_URL") or ""
    from_dotenv = not url and "DATABASE_URL" in settings  # unset by the test, not just left out
    if from_dotenv:
        url = _dotenv_database_url(load)
    if url == who.database_url or url in who.urls or not url.startswith("sqlite:///"):
        return
    from workbook import sandbox_files

    database = Path(os.path.abspath(url.removeprefix("sqlite:///")))
    if from_dotenv and not database.is_relative_to(os.path.abspath(load.workdir)):
        return  # the app could have rewritten its .env: never write outside the test's copy
    if database.parent.is_dir() and not sandbox_files.exists(database):
        sandbox_files.copy_file(who.template, database, owner=who.owner)
        who.urls.add(url)
        if from_dotenv:
            who.loads[id(load)] = url


def _dotenv_database_url(load) -> str:
    """DATABASE_URL=... in the load's folder's .env (read as the grader: no link followed), or ""."""
    from workbook import sandbox_files

    try:
        text = sandbox_files.read_bytes(Path(load.workdir) / ".env", 64 * 1024).decode("utf-8", "replace")
    except OSError:
        return ""
    for line in text.splitlines():
        name, equals, value = line.strip().removeprefix("export ").partition("=")
        if equals and name.strip() == "DATABASE_URL":
            return value.strip().strip("\"'")
    return ""


def act_as(client, who: SignedIn, load, routes) -> None:
    """--as-user: `client` sends Ada's token when its app was loaded on her database (or a copy of it, one its
    .env names: seed_before_start) and SECRET_KEY; a test that loads the app with settings of its own (another
    SECRET_KEY, a database that was there before) gets a user registered for real."""
    settings = getattr(load, "settings", None) or {}
    url = settings.get("DATABASE_URL") or who.loads.get(id(load))  # or the .env's, seeded (seed_before_start)
    same = bool(url) and (url == who.database_url or url in who.urls) and settings.get("SECRET_KEY") == who.secret_key
    token = None
    if same and who.people is not None:
        try:
            token = who.people.ada.token
        except Exception:  # noqa: BLE001 - she could not sign up: the sign-up below says why
            token = None
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
        return
    from workbook.testing import sign_in_grader

    sign_in_grader(client, routes)


def _shared(options: list[str]) -> bool:
    """Whether a kept suite's options are only those one process can give each suite (--suite-options)."""
    _, others = _parser().parse_known_args(options)  # parse_args would print a usage error on stderr
    return not others


def suite_arguments(lesson) -> list[str]:
    """The suites to name on the command line (the lesson's own first), and each kept one's --suite-options."""
    arguments = [str(lesson.suite)]
    for slug, options in lesson.keeps.items():
        earlier = lesson.course.find(slug)
        if earlier.suite.is_dir() and _shared(options):
            arguments += [str(earlier.suite), f"{SUITE_OPTIONS}={slug}={shlex.join(options)}"]
    return arguments


def separate_keeps(lesson) -> list[tuple[str, list[str]]]:
    """The kept suites whose options one process cannot share (lesson 08's --postgres): run each on its own."""
    return [
        (slug, options)
        for slug, options in lesson.keeps.items()
        if lesson.course.find(slug).suite.is_dir() and not _shared(options)
    ]


def merged(first, second):
    """One SuiteResult of two runs on the same app (the second a kept suite's): every test, the worse verdict."""
    from workbook import verdicts
    from workbook.suite_result import _result

    worse = verdicts.worst([first.verdict, second.verdict])
    load_error = "\n".join(each for each in (first.load_error, second.load_error) if each) or None
    result = _result(worse, first.tests + second.tests, load_error, first.isolation, first.output + second.output,
                     first.seconds + second.seconds)  # fmt: skip
    result.lesson = first.lesson
    return result
