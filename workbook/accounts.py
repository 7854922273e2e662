"""Ada and Bob as the grader knows them: registered and logged in through the app, with what it answered.

Plain helpers, no fixtures: workbook.auth_fixtures signs them up once per graded folder (sign_up_people) and
hands them to the tests that need them (`people`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from workbook.sandbox_apps import AppHost, Place
from workbook.testing import Routes, bearer, login, show

TOKEN_MINUTES = 7  # Ada and Bob log in under ACCESS_TOKEN_EXPIRE_MINUTES=7: no app's default by chance
NO_USERS_ROUTE = (
    " There is no such route yet: add a users router with POST /users and include it in app/main.py "
    "with prefix /api/v1."
)


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
