"""The pytest plugin that grades on PostgreSQL (lesson 08 on): `-p workbook.postgres --postgres`.

Every fresh database a suite asks for (workbook.loader.grading_settings) is then a new database on one
throwaway server (workbook.postgres_throwaway), a copy of a template that `alembic upgrade head` migrated
once when the graded folder has an `alembic.ini` (workbook.postgres_session).
`--postgres-url URL` uses a server that is already running (its superuser's URL) instead.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from workbook.postgres_session import Session
from workbook.postgres_throwaway import Throwaway  # noqa: F401 (lesson 08's cells import it from here)

_session: Session | None = None  # while --postgres is on: set by pytest_configure, closed by pytest_unconfigure


def grading_database_url() -> str | None:
    """A fresh database's URL when this test session grades on PostgreSQL (--postgres), else None."""
    return _session.fresh_url() if _session is not None else None


# --- the pytest plugin: -p workbook.postgres --postgres ------------------------------------------------------


def pytest_addoption(parser) -> None:
    group = parser.getgroup("workbook", "grading a learner's app")
    group.addoption(
        "--postgres", action="store_true", help="grade on a throwaway PostgreSQL server instead of SQLite files"
    )
    group.addoption("--postgres-url", default=None, help="with --postgres: a running server's superuser URL")
    group.addoption("--postgres-app-password", default=None, help="with --postgres-url: the grader_app role's password")


def pytest_configure(config) -> None:
    global _session
    if not config.getoption("postgres"):
        return
    chosen = config.getoption("app_dir", None)
    graded = Path(chosen).expanduser().resolve() if chosen else None
    _session = Session(graded, config.getoption("postgres_url"), config.getoption("postgres_app_password"))


def pytest_collection_modifyitems(session, config, items) -> None:
    """Without --app-dir the graded folder is the suite's own checkpoint: its alembic.ini, if any, migrates."""
    if _session is not None and _session.graded is None and items:
        from workbook.plugin_state import graded_folder

        _session.graded = graded_folder(config, items[0].path)


def pytest_unconfigure(config) -> None:
    global _session
    if _session is not None:
        _session.close()
        _session = None


def copy_database(source_url: str, destination_url: str) -> None:
    """Make the database destination_url names a copy of source_url's (both on this session's server)."""
    if _session is None or _session.server is None:
        raise RuntimeError("copy_database needs a session on a grading server (--postgres).")
    source, destination = (urlsplit(url).path.lstrip("/") for url in (source_url, destination_url))
    _session.server.drop_database(destination)
    _session.server.create_database(destination, template=source)
