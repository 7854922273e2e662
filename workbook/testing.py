"""Small helpers the milestone suites share: the contract's URLs, describe a response, read a database, sign in."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Routes:
    """Every URL of the contract, under one prefix: "" for lessons 02-03, "/api/v1" from lesson 04.

    Suites get it from the `routes` fixture, which honours --api-prefix, so an earlier suite runs
    against a later app unchanged.
    """

    prefix: str = ""
    # At the root whatever the prefix: a monitor's probes (lessons 01 and 07).
    health: str = "/health"
    ready: str = "/health/ready"

    @property
    def tasks(self) -> str:
        return f"{self.prefix}/tasks"

    def task(self, task_id: object) -> str:
        return f"{self.tasks}/{task_id}"

    @property
    def users(self) -> str:
        return f"{self.prefix}/users"

    @property
    def me(self) -> str:
        return f"{self.users}/me"

    @property
    def token(self) -> str:
        return f"{self.prefix}/auth/token"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def write_file(path: Path, text: str) -> None:
    """Write a file into the app's folder (a .env) as the grader: never through a link the app put there."""
    from workbook import sandbox_files

    sandbox_files.write_text(path, text)


def show(response, limit: int = 300) -> str:
    """A response as a learner reads it in a failure message: '422 {"detail": ...}'.

    The body is cut at `limit` characters and stripped of control characters: it is the app's text, and goes
    to a terminal, a CSV and JUnit XML."""
    try:
        body = json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        body = response.text[: limit * 4] or "(empty body)"
    body = _CONTROL.sub("", body)
    if len(body) > limit:
        body = body[:limit] + " ..."
    return f"{response.status_code} {body}"


def _sqlite_file(database_url: str) -> Path:
    if not database_url.startswith("sqlite:///"):
        raise ValueError(f"{database_url} is not a SQLite file URL (sqlite:///PATH): the grader reads only those.")
    return Path(database_url.removeprefix("sqlite:///").split("?", 1)[0])


def database_values(database_url: str) -> list[tuple[str, str, object]]:
    """Every (table, column, value) stored in the database, found by reflection: no names assumed.

    A SQLite file is read from a private copy, taken without following links (the app's folder is the app's to
    fill); a database server's (lesson 08's PostgreSQL) is read through its own protocol.
    """
    if not database_url.startswith("sqlite"):
        return _server_values(database_url)
    from workbook.sandbox_sqlite import sqlite_values

    return sqlite_values(_sqlite_file(database_url))


def database_tables(database_url: str) -> list[str]:
    """The names of the tables that exist in the database (empty when none were created, or there is no file)."""
    if not database_url.startswith("sqlite"):
        from sqlalchemy import create_engine, inspect

        engine = create_engine(database_url)
        try:
            return inspect(engine).get_table_names()
        finally:
            engine.dispose()
    from workbook.sandbox_sqlite import sqlite_tables

    return sqlite_tables(_sqlite_file(database_url))


def _server_values(database_url: str) -> list[tuple[str, str, object]]:
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        found = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)).mappings():
                    found.extend((table.name, column, value) for column, value in row.items())
        return found
    finally:
        engine.dispose()


def register(client, routes: Routes, email: str, password: str, full_name: str | None = None):
    """POST {prefix}/users (the 05 contract)."""
    return client.post(routes.users, json={"email": email, "password": password, "full_name": full_name})


def login(client, routes: Routes, email: str, password: str):
    """POST {prefix}/auth/token with the OAuth2 password form (username = email)."""
    return client.post(routes.token, data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


GRADER_EMAIL = "grader@example.com"
GRADER_PASSWORD = "grader-password-123"


def sign_in_grader(client, routes: Routes) -> None:
    """Make `client` act as a registered user (for --as-user): register once, log in, keep the token."""
    registered = register(client, routes, GRADER_EMAIL, GRADER_PASSWORD)
    assert registered.status_code in (201, 409), (
        f"--as-user: registering a user with POST {routes.users} should answer 201 (or 409 when it exists), "
        f"got {show(registered)}. Lesson 05 adds users."
    )
    answer = login(client, routes, GRADER_EMAIL, GRADER_PASSWORD)
    assert answer.status_code == 200 and "access_token" in answer.json(), (
        f"--as-user: logging in with POST {routes.token} should answer 200 with an access_token, got {show(answer)}."
    )
    client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"


# Lesson 07: what every response carries. Referrer-Policy and Strict-Transport-Security may hold any policy.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": None,
    "Strict-Transport-Security": None,
}


def security_header_problems(headers) -> list[str]:
    """What is wrong with a response's security headers ('X-Frame-Options missing', 'X-Frame-Options is ...')."""
    # Any mapping of headers: httpx's, or a plain dict whose values may be lists (schemathesis's).
    found = {
        str(key).lower(): value[0] if isinstance(value, list) and value else value for key, value in headers.items()
    }
    problems = []
    for name, wanted in SECURITY_HEADERS.items():
        value = str(found.get(name.lower()) or "").strip()
        if not value:
            problems.append(f"{name} missing")
        elif wanted is not None and value.lower() != wanted.lower():
            problems.append(f"{name} is {value!r}, not {wanted!r}")
    return problems


def in_lesson_order(items: list, suite: Path, order: list[str]) -> None:
    """Reorder, in place, the tests of the suite in folder `suite`: its files as `order` lists them
    (the lesson's order, slow real-server tests last), any other file after; other suites' tests stay put."""
    places = [place for place, item in enumerate(items) if item.path.parent == suite]
    ours = sorted(
        (items[place] for place in places),
        key=lambda item: order.index(item.path.name) if item.path.name in order else len(order),
    )
    for place, item in zip(places, ours, strict=True):
        items[place] = item
