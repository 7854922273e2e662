"""Fresh PostgreSQL databases for a whole test session (lesson 08 on), migrated once.

`Session(graded)` starts a throwaway server (or uses a running one) when the first database is asked
for, makes a template that `alembic upgrade head` migrated once when the graded folder has an
`alembic.ini`, and gives each caller a new copy of it. The pytest plugin (workbook.postgres) holds one.
"""

from __future__ import annotations

import itertools
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from workbook.postgres_server import Server
from workbook.postgres_throwaway import PostgresMissing, Throwaway

_names = itertools.count(1)


def unique_name(prefix: str = "grading") -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}_{secrets.token_hex(3)}"


def migrate(folder: Path, url: str, seconds: float = 120) -> subprocess.CompletedProcess:
    """`alembic upgrade head` in a copy of folder, with DATABASE_URL=url (the learner's env.py reads it)."""
    from workbook.appfiles import copy_app_folder

    with tempfile.TemporaryDirectory(prefix="workbook-migrate-") as scratch:
        copy = copy_app_folder(folder, Path(scratch) / "app-copy")
        env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds,
            check=False,
        )


class Session:
    """Fresh databases on one server for a whole test session: copies of one migrated template."""

    def __init__(self, graded: Path | None, admin_url: str | None = None, app_password: str | None = None):
        self.graded = graded
        self.owned: Throwaway | None = None
        self.server: Server | None = Server(admin_url, app_password) if admin_url and app_password else None
        self.template: str | None = None
        self.problem: str | None = None
        self.lock = threading.Lock()

    def fresh_url(self) -> str:
        with self.lock:
            if self.problem:
                raise RuntimeError(self.problem)
            if self.server is None:
                self.owned = Throwaway()
                try:
                    self.server = self.owned.start()
                except (PostgresMissing, RuntimeError) as error:
                    self.problem = str(error)
                    raise
            if self.template is None:
                self.template = unique_name("template")
                url = self.server.create_database(self.template)
                if self.graded is not None and (self.graded / "alembic.ini").is_file():
                    done = migrate(self.graded, url)
                    if done.returncode != 0:
                        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                        self.problem = f"`alembic upgrade head` failed on a fresh PostgreSQL database: {last}"
                        raise RuntimeError(self.problem)
            name = unique_name()
            return self.server.create_database(name, template=self.template)

    def close(self) -> None:
        if self.owned is not None:
            self.owned.stop()
