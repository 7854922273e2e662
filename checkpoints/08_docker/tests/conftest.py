"""Fixtures for the task tracker's tests: a database of their own, a client that uses it, users signed in."""

import os

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, create_engine
from sqlmodel.pool import StaticPool

# Argon2 is slow on purpose, and tests hash a lot. The app reads these settings when it is
# imported, so they are set before the imports below.
os.environ.setdefault("ARGON2_TIME_COST", "1")
os.environ.setdefault("ARGON2_MEMORY_COST", "8192")
os.environ.setdefault("ARGON2_PARALLELISM", "1")
# Your own tests log in far more often than a guesser may: lift the login limit for them.
os.environ.setdefault("LOGIN_RATE_LIMIT", "1000/minute")

from app.database import get_session
from app.main import app


@pytest.fixture(name="engine")
def engine_fixture():
    """An empty in-memory database, for one test."""
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(name="test_app")
def test_app_fixture(engine):
    """The app, taking its sessions from the test database: a new session for each request."""

    def get_session_override():
        with Session(engine) as session:
            yield session

    app.dependency_overrides[get_session] = get_session_override
    yield app
    app.dependency_overrides.clear()


@pytest.fixture(name="client")
def client_fixture(test_app):
    """A client of the test app; `with` runs its lifespan, as a server would."""
    with TestClient(test_app) as client:
        yield client


@pytest.fixture(scope="session")
def anyio_backend():
    """The event loop that @pytest.mark.anyio tests run on: one name, the same for the whole run."""
    return "asyncio"


PASSWORD = "a long enough password"


@pytest.fixture
def sign_up(client):
    """sign_up(email) registers a user, logs them in, and returns the headers that carry their token."""

    def register_and_log_in(email: str) -> dict[str, str]:
        r = client.post("/api/v1/users", json={"email": email, "password": PASSWORD})
        assert r.status_code == 201, r.text
        r = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return register_and_log_in


@pytest.fixture
def ada_headers(sign_up):
    return sign_up("ada@example.com")


@pytest.fixture
def bob_headers(sign_up):
    return sign_up("bob@example.com")
