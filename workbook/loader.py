"""Grading's settings, and an app imported in this process: fresh modules, fresh tables, a time limit per request.

Grading never imports a learner's app here: each load runs in the sandbox (workbook.sandbox_apps). What imports
in this process is the learner's own notebook kernel exploring its own app (workbook.notebook), and the
workbook's tests of the reference apps (reference_app).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import secrets
import sys
from pathlib import Path

COPY_NAME = "app-copy"  # every copy of a graded folder is named so: its frames are the learner's own


_imported_from: str | None = None


def grading_settings(scratch: Path) -> dict[str, str]:
    """Every setting the curriculum names, pointed at throwaway places under scratch.

    Grading sets them all, so a learner's own DATABASE_URL (shell or .env) is never opened.
    """
    from workbook.postgres import grading_database_url

    outbox = scratch / "outbox"
    made = [folder for folder in (scratch, outbox) if not folder.exists()]
    outbox.mkdir(parents=True, exist_ok=True)
    _give_to_the_app(made)
    return {
        # A fresh SQLite file; a fresh database of a throwaway PostgreSQL server under --postgres (lesson 08).
        "DATABASE_URL": grading_database_url() or f"sqlite:///{scratch / 'grading.db'}",
        "SECRET_KEY": secrets.token_hex(32),
        "ACCESS_TOKEN_EXPIRE_MINUTES": "30",
        "ENVIRONMENT": "development",
        "EMAIL_OUTBOX": str(outbox),
        "LOGIN_RATE_LIMIT": "1000/minute",
        "CORS_ORIGINS": "http://localhost:3000",
    }


def _give_to_the_app(folders: list[Path]) -> None:
    """Folders made inside a sandboxed app's folder belong to the app's uid, as that folder does (as root)."""
    if not folders or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    try:
        above = min(folders, key=lambda folder: len(folder.parts)).parent.stat()
    except OSError:
        return
    if above.st_uid != 0:
        for folder in folders:
            os.chown(folder, above.st_uid, above.st_gid, follow_symlinks=False)


def display_path(folder: Path) -> str:
    """How to name a folder to the person at the terminal: relative to where they stand if inside it."""
    folder = Path(folder).resolve()
    try:
        return f"{folder.relative_to(Path.cwd())}/"
    except ValueError:
        return f"{folder}/"


# --- in-process import -------------------------------------------------------------------------


def forget_app() -> None:
    """Drop every `app` module and SQLModel's global tables, so the next import starts clean."""
    for module in [m for name, m in sys.modules.items() if name == "app" or name.startswith("app.")]:
        _dispose_engines(module)
    for name in [name for name in sys.modules if name == "app" or name.startswith("app.")]:
        del sys.modules[name]
    if "sqlmodel" in sys.modules:  # table classes register in process-wide metadata
        from sqlmodel import SQLModel
        from sqlmodel.main import default_registry

        SQLModel.metadata.clear()
        default_registry.dispose()
    global _imported_from
    if _imported_from in sys.path:
        sys.path.remove(_imported_from)
    _imported_from = None


def _dispose_engines(module) -> None:
    if "sqlalchemy" not in sys.modules:
        return
    from sqlalchemy.engine import Engine

    for value in list(vars(module).values()):
        if isinstance(value, Engine):
            value.dispose()


def import_app(folder: Path):
    """Import folder/app/main.py afresh and return its `app` (edits made since the last import show)."""
    module = import_fresh(folder, "app.main")
    if not hasattr(module, "app"):
        raise AttributeError("app/main.py defines no `app`. Create it at module level: app = FastAPI().")
    return module.app


def import_fresh(folder: Path, name: str):
    """Import the module `name` of folder's app/ afresh, forgetting every module of app/ imported before."""
    global _imported_from
    forget_app()
    _imported_from = str(Path(folder).resolve())
    sys.path.insert(0, _imported_from)
    importlib.invalidate_caches()
    # Write no bytecode: an edit within the same second that keeps the file's size would not show.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        return importlib.import_module(name)
    finally:
        sys.dont_write_bytecode = writes_bytecode


class RequestTimedOut(AssertionError):
    """A request the app did not answer in time (an assertion, so it reads as a test failure)."""


def with_time_limit(app, seconds: float):
    """Wrap an ASGI app so a request it does not answer within `seconds` fails instead of hanging.

    Every request is recorded on the way (workbook.evidence_live: what the diagnoses of a failure read, as .exchanges).
    """
    from workbook.evidence_live import Recording

    recorded = Recording(app)

    async def limited(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        call = asyncio.ensure_future(recorded(scope, receive, send))
        done, _ = await asyncio.wait({call}, timeout=seconds)
        if not done:
            recorded.unanswered(scope)  # where it waits, for the diagnoses
            call.cancel()  # a sync handler stuck in a worker thread is abandoned, not awaited
            raise RequestTimedOut(
                f"{scope['method']} {scope['path']} did not answer within {seconds:g} s. "
                "Look for an endless loop or a blocking wait in the route that handles it."
            )
        return call.result()

    limited.app = app
    limited.exchanges = recorded.exchanges
    return limited


@contextlib.contextmanager
def reference_app(folder: Path, scratch: Path, env: dict[str, str]):
    """A checkpoint's app imported here from a copy in scratch, with `env` set and its lifespan run once
    (so its tables exist); the working directory and the environment are restored after.

    For the workbook's own tests of the reference apps (fuzzing); a learner's app is never loaded so.
    """
    from fastapi.testclient import TestClient

    from workbook.appfiles import copy_app_folder

    copy = copy_app_folder(folder, scratch / COPY_NAME)
    saved_cwd, saved_env = Path.cwd(), {name: os.environ.get(name) for name in env}
    os.chdir(copy)
    os.environ.update(env)
    try:
        app = import_app(copy)
        with TestClient(app):
            pass
        yield app
    finally:
        forget_app()
        os.chdir(saved_cwd)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
