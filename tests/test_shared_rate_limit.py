"""Lesson 08's reference keeps the login limit in a shared store: with two workers, an in-memory limit
allows about twice the attempts; with RATE_LIMIT_STORAGE_URI pointing at Redis, exactly the limit.

Real servers: the reference checkpoint under `uvicorn --workers 2` on 127.0.0.1, a throwaway PostgreSQL
(migrated with the checkpoint's Alembic), a throwaway redis-server (Debian's package; .ci/run installs it).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest

from workbook.appfiles import copy_app_folder
from workbook.image_server import workers
from workbook.lessons import find_lesson
from workbook.postgres_session import migrate
from workbook.postgres_throwaway import Throwaway
from workbook.redis_server import ThrowawayRedis
from workbook.server import free_port

LIMIT = 5
ATTEMPTS = 30


@pytest.fixture(scope="module")
def database():
    with Throwaway() as server:
        url = server.create_database("limits")
        done = migrate(find_lesson("08").checkpoint, url)
        assert done.returncode == 0, done.stderr[-2000:]
        yield url


def allowed_attempts(folder, database_url: str, storage: str) -> tuple[int, int]:
    """(logins answered without 429 out of ATTEMPTS, the workers serving) under uvicorn --workers 2."""
    port = free_port()
    env = {
        **{name: os.environ[name] for name in ("PATH", "LANG") if name in os.environ},
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "LOGIN_RATE_LIMIT": f"{LIMIT}/minute",
        "RATE_LIMIT_STORAGE_URI": storage,
        "EMAIL_OUTBOX": str(folder / "outbox"),
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--workers", "2"], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        serving = 0
        while time.monotonic() < deadline and serving < 2:
            serving = workers(server.pid, port)
            time.sleep(0.2)
        assert serving >= 2, "uvicorn --workers 2 did not start two workers within 30 s"
        allowed = 0
        for attempt in range(ATTEMPTS):
            with httpx.Client(timeout=10) as client:  # a new connection each time: any worker may take it
                r = client.post(
                    f"http://127.0.0.1:{port}/api/v1/auth/token",
                    data={"username": "mallory@example.com", "password": f"guess {attempt}"},
                )
            assert r.status_code in (400, 401, 429), r.text
            allowed += r.status_code != 429
        return allowed, serving
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_the_login_limit_holds_across_two_workers_only_with_a_shared_store(database, tmp_path, record_property):
    folder = copy_app_folder(find_lesson("08").checkpoint, tmp_path / "app")
    in_memory, count = allowed_attempts(folder, database, "memory://")
    with ThrowawayRedis() as redis_url:
        shared, _ = allowed_attempts(folder, database, redis_url)
    record_property("allowed_in_memory", in_memory)
    record_property("allowed_with_redis", shared)
    print(
        f"{ATTEMPTS} wrong logins, limit {LIMIT}/minute, {count} workers: {in_memory} allowed with memory://, "
        f"{shared} with redis://"
    )
    assert shared == LIMIT, f"with Redis shared by both workers, {shared} of {ATTEMPTS} were allowed, not {LIMIT}"
    assert in_memory > LIMIT, f"with memory:// in each of 2 workers, only {in_memory} were allowed"
