"""Fixtures for the lesson 07 suite: the settings every test runs with, the routes it calls, a real server.

Every test runs with ENVIRONMENT=development, LOGIN_RATE_LIMIT, CORS_ORIGINS (its items written
with spaces around them) and an existing, empty EMAIL_OUTBOX, except the production tests, which
say what they change. The tests that need a real server run `python -m uvicorn app.main:app` in
the sandbox (workbook.sandbox_deployed.DeployedServer), each in a copy of the submission of its own.
"""

import re
import secrets
import time
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from workbook import sandbox_files
from workbook.sandbox_apps import AppFailed, AppHost, DeployedServer
from workbook.testing import Routes, in_lesson_order, security_header_problems

UNKNOWN_PAGE = "/workbook-no-such-page"  # no app has it: its answer is a 404
FAILING_ROUTE = "/workbook-raises-an-error"  # the suite adds it to the app (app_with_a_failing_route): it raises
ALLOWED_ORIGINS = ("https://app.example.com", "http://localhost:5173")
CORS_ORIGINS = " https://app.example.com ,  http://localhost:5173 "  # the items must be trimmed
LOGIN_RATE_LIMIT = "1000/minute"  # no test but the rate limit's reaches it
ORDER = [
    "test_settings.py",
    "test_cors.py",
    "test_headers.py",
    "test_rate_limit.py",
    "test_request_ids.py",
    "test_errors.py",
    "test_readiness.py",
    "test_welcome_message.py",
    "test_under_uvicorn.py",
]


def pytest_collection_modifyitems(items):
    """Run this suite in the order of the lesson, the real-server tests last."""
    in_lesson_order(items, Path(__file__).parent, ORDER)


@pytest.fixture
def grading_env(grading_env: dict[str, str]) -> dict[str, str]:
    """The plugin's throwaway settings, with this suite's values for the settings lesson 07 adds."""
    grading_env.update(ENVIRONMENT="development", LOGIN_RATE_LIMIT=LOGIN_RATE_LIMIT, CORS_ORIGINS=CORS_ORIGINS)
    return grading_env


@pytest.fixture
def failing_route() -> str:
    """The path of the route the suite adds to the app, which raises (app_with_a_failing_route)."""
    return FAILING_ROUTE


@pytest.fixture
def allowed_origins() -> tuple[str, ...]:
    """The origins CORS_ORIGINS lists (once trimmed)."""
    return ALLOWED_ORIGINS


# --- security headers --------------------------------------------------------------------------------

ONE_MIDDLEWARE = (
    "Set them in one middleware that wraps the whole app (added last, so it runs first): a dependency or a route "
    "never sees the 404s, 422s, preflights and 500s that are answered before or around it."
)


@pytest.fixture
def every_kind_of_answer(routes: Routes):
    """every_kind_of_answer(client) -> (what was asked, the answer) for a success, the usual errors, two preflights."""

    def ask(client) -> list[tuple[str, httpx.Response]]:
        preflight = {"Access-Control-Request-Method": "GET"}
        return [
            (f"GET {routes.health}", client.get(routes.health)),
            (f"GET {UNKNOWN_PAGE}", client.get(UNKNOWN_PAGE)),
            (f"GET {routes.tasks} without a token", client.get(routes.tasks)),
            (f"POST {routes.users} with an empty body", client.post(routes.users, json={})),
            (f"DELETE {routes.health}", client.delete(routes.health)),
            (
                f"a preflight from {ALLOWED_ORIGINS[0]}",
                client.options(routes.tasks, headers={"Origin": ALLOWED_ORIGINS[0], **preflight}),
            ),
            (
                "a preflight from https://evil.example.net",
                client.options(routes.tasks, headers={"Origin": "https://evil.example.net", **preflight}),
            ),
        ]

    return ask


@pytest.fixture
def assert_security_headers():
    """assert_security_headers(answers, where): every (what, response) carries the four security headers."""

    def check(answers: list[tuple[str, httpx.Response]], where: str) -> None:
        wrong = [
            f"{what} -> {r.status_code}: {', '.join(problems)}"
            for what, r in answers
            if (problems := security_header_problems(r.headers))
        ]
        assert not wrong, (
            f"Every response {where} should carry X-Content-Type-Options: nosniff, X-Frame-Options: DENY, "
            f"Referrer-Policy and Strict-Transport-Security, but {len(wrong)} of {len(answers)} did not:\n- "
            + "\n- ".join(wrong)
            + f"\n{ONE_MIDDLEWARE}"
        )

    return check


# --- an unexpected error -----------------------------------------------------------------------------


@pytest.fixture
def app_with_a_failing_route(load_app):
    """(app, secret): the app (an AppLoad), with one more route, GET FAILING_ROUTE, that raises a RuntimeError
    naming the secret. The route is added inside the app's own process (a probe), before it is served."""
    secret = f"internal-detail-{secrets.token_hex(8)}"
    app = load_app()
    added = app.probe("add_failing_route", path=FAILING_ROUTE, message=f"Something broke inside the app ({secret})")
    assert added.get("ok"), (
        f"The suite adds a failing route with app.add_api_route(), but `app` is a {added.get('type', '?')}"
        f"{' (' + added['error'] + ')' if added.get('error') else ''}. Make app/main.py create it with app = FastAPI(...)."
    )
    return app, secret


# --- production --------------------------------------------------------------------------------------


def strong_secret_key() -> str:
    return secrets.token_urlsafe(60)  # 80 characters


def without_secret_key_in_dotenv(workdir: Path) -> None:
    """Drop SECRET_KEY from the copy's .env (if any): the production tests decide whether there is one."""
    dotenv = workdir / ".env"
    if sandbox_files.is_file(dotenv):
        lines = sandbox_files.read_text(dotenv).splitlines(keepends=True)
        setting = re.compile(r"^\s*(export\s+)?secret_key\s*=", re.IGNORECASE)
        sandbox_files.write_text(dotenv, "".join(line for line in lines if not setting.match(line)))


class Production(NamedTuple):
    """Settings for ENVIRONMENT=production (None: the setting is not set at all)."""

    missing_key: dict[str, str | None]
    strong_key: dict[str, str | None]  # a random SECRET_KEY of 80 characters

    @staticmethod
    def with_key(key: str | None) -> dict[str, str | None]:
        return {"ENVIRONMENT": "production", "SECRET_KEY": key}


@pytest.fixture
def production(workdir: Path) -> Production:
    """Settings for the production tests; the copy's .env, if any, loses its SECRET_KEY."""
    without_secret_key_in_dotenv(workdir)
    return Production(Production.with_key(None), Production.with_key(strong_secret_key()))


@pytest.fixture
def try_to_start(load_app, make_client, routes: Routes):
    """try_to_start(**settings) -> (None, GET /health's answer) when the app starts, else (what it raised, None)."""

    def attempt(**overrides: str | None):
        try:
            client = make_client(load_app(**overrides))
        except AppFailed as error:  # refused at import or at startup, in any way
            return f"{error.type_name}: {error.message or error}", None
        return None, client.get(routes.health)

    return attempt


# --- the welcome message -----------------------------------------------------------------------------


@pytest.fixture
def outbox(grading_env: dict[str, str]) -> Path:
    """EMAIL_OUTBOX: an existing folder, empty before the test."""
    folder = Path(grading_env["EMAIL_OUTBOX"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def messages_in(folder: Path) -> dict[str, str]:
    """name -> text of each regular file directly in the folder (read without following links, 1 MB at most)."""
    found = {}
    for path in sandbox_files.files_in(folder):
        try:
            found[path.name] = sandbox_files.read_text(path, 2**20)
        except OSError:
            continue
    return found


@pytest.fixture
def wait_for_messages():
    """wait_for_messages(folder, addresses) -> the files right in folder, when each address is in one (5 s at most)."""

    def wait(folder: Path, addresses: list[str], seconds: float = 5.0) -> dict[str, str]:
        deadline = time.monotonic() + seconds
        while True:
            found = messages_in(folder)
            if all(any(address in text.lower() for text in found.values()) for address in addresses):
                return found
            if time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    return wait


# --- a real server -----------------------------------------------------------------------------------


class Servers(NamedTuple):
    """The servers the suite runs under uvicorn, all started at once (see `servers`)."""

    development: DeployedServer
    production_without_key: DeployedServer  # ENVIRONMENT=production, no SECRET_KEY anywhere
    production_with_key: DeployedServer  # ENVIRONMENT=production, a random SECRET_KEY of 80 characters


def start_servers(host: AppHost) -> Servers:
    """Start every server the suite needs, `python -m uvicorn app.main:app` in the sandbox, each in a copy of the
    graded folder of its own (its .env without a SECRET_KEY) and with settings of its own."""
    wanted = {
        "development": {},
        "production_without_key": {"ENVIRONMENT": "production", "SECRET_KEY": None},
        "production_with_key": {"ENVIRONMENT": "production", "SECRET_KEY": strong_secret_key()},
    }
    started = {}
    for name, overrides in wanted.items():
        place = host.place()
        without_secret_key_in_dotenv(place.workdir)
        settings = {**host.settings(place), "CORS_ORIGINS": CORS_ORIGINS, "LOGIN_RATE_LIMIT": LOGIN_RATE_LIMIT}
        started[name] = host.deploy(place, {**settings, **overrides})
    return Servers(**started)


@pytest.fixture(scope="session")
def server_sets():
    made: dict[Path, Servers] = {}
    yield made
    for servers in made.values():
        for server in servers:
            server.stop()


@pytest.fixture(autouse=True)
def servers(server_sets: dict[Path, Servers], app_dir: Path, app_host: AppHost) -> Servers:
    """The app under real uvicorn servers, started (in the background) when this suite's first test begins.

    A server takes a second to start; started early, they are up by the time the last tests use them.
    """
    if app_dir not in server_sets:
        server_sets[app_dir] = start_servers(app_host)
    return server_sets[app_dir]
