"""Fixtures for the lesson 08 suite: the shipped files, a throwaway PostgreSQL, the image carried out without an engine.

From lesson 08 the submission holds app/, a Dockerfile, a compose file, alembic.ini and a lock. The suite
never needs Docker: it reads the Dockerfile and compose file, carries out the Dockerfile's Python steps
into a fresh environment (workbook.container, in the sandbox) and runs the image's command from it, and
runs Alembic and the 05 and 07 suites against a PostgreSQL server it starts for the session (as an
unprivileged user, on 127.0.0.1) and always stops. Where PostgreSQL is not installed, the run stops at
once with one line that says so, and fails.

The slow parts (carrying out the image, the 05 and 07 suites) start in the background when the first
test begins, so that they overlap the quick checks.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workbook import sandbox
from workbook.appfiles import copy_app_folder
from workbook.built_image import Built, StepFailed
from workbook.container import carry_out
from workbook.dockerfile import Dockerfile, parse
from workbook.fixtures import suite_lesson
from workbook.image_server import last_lines
from workbook.lessons import find_lesson
from workbook.loader import COPY_NAME
from workbook.postgres_server import Server
from workbook.postgres_session import unique_name
from workbook.postgres_throwaway import PostgresMissing, Throwaway
from workbook.sandbox import Limits
from workbook.testing import in_lesson_order

COMPOSE_NAMES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
LOCKS = ("uv.lock", "requirements.txt", "requirements.lock", "requirements/*.txt", "*.lock", "requirements*.txt")
ORDER = [
    "test_files.py",
    "test_dockerfile.py",
    "test_compose.py",
    "test_migrations.py",
    "test_container.py",
    "test_earlier_suites.py",
]
ALEMBIC_SECONDS = 120


def pytest_collection_modifyitems(items):
    """Run this suite in the order of the lesson, the slow parts last."""
    in_lesson_order(items, Path(__file__).parent, ORDER)


# --- the shipped files ---------------------------------------------------------------------------------------


@dataclass
class Shipped:
    """What the submission ships beside app/: the files lesson 08 asks for, and which are missing."""

    folder: Path
    dockerfile: Path | None
    compose: Path | None
    alembic_ini: Path | None
    locks: list[Path]
    missing: list[str] = field(default_factory=list)

    def require(self, *what: str) -> None:
        """Fail, naming them, when any of these files is missing ("Dockerfile", "compose", "alembic.ini", "lock")."""
        gone = [name for name in self.missing if any(name.startswith(each) for each in what)]
        it = "it" if len(gone) == 1 else "them"
        assert not gone, f"The submission has no {' and no '.join(gone)}: lesson 08 adds {it} beside app/."


def find_shipped(folder: Path) -> Shipped:
    dockerfile = folder / "Dockerfile" if (folder / "Dockerfile").is_file() else None
    compose = next((folder / name for name in COMPOSE_NAMES if (folder / name).is_file()), None)
    alembic = folder / "alembic.ini" if (folder / "alembic.ini").is_file() else None
    locks = sorted({path for pattern in LOCKS for path in folder.glob(pattern) if path.is_file()})
    missing = []
    if dockerfile is None:
        missing.append("Dockerfile")
    if compose is None:
        missing.append("compose file (compose.yaml)")
    if alembic is None:
        missing.append("alembic.ini")
    if not locks:
        missing.append("lock (uv.lock, or a requirements file pinned with ==)")
    return Shipped(folder, dockerfile, compose, alembic, locks, missing)


@pytest.fixture
def shipped(app_dir: Path) -> Shipped:
    return find_shipped(app_dir)


@pytest.fixture
def dockerfile(shipped: Shipped) -> Dockerfile:
    shipped.require("Dockerfile")
    parsed = parse(shipped.dockerfile.read_text(errors="replace"))
    assert parsed.stages, "The Dockerfile has no FROM line: it should start FROM python:3.11-slim (AS builder)."
    return parsed


# --- PostgreSQL ---------------------------------------------------------------------------------------------


class Grading:
    """Everything the suite shares in one session: the server, and the background work per graded folder."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.throwaway = Throwaway()
        self.server: Server | None = None
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="workbook-08")
        self.images: dict[Path, Future] = {}
        self.suites: dict[tuple[Path, str], BackgroundSuite] = {}

    def start_server(self) -> Server:
        with self.lock:
            if self.server is None:
                try:
                    self.server = self.throwaway.start()
                except PostgresMissing as missing:
                    pytest.exit(str(missing), returncode=1)
            return self.server

    def close(self) -> None:
        for suite in self.suites.values():  # a run stopped early (-x, a failure) does not wait for them
            suite.stop()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.throwaway.stop()


@pytest.fixture(scope="session")
def grading(tmp_path_factory):
    shared = Grading(tmp_path_factory.mktemp("grading08"))
    yield shared
    shared.close()


@pytest.fixture
def database_server(grading: Grading) -> Server:
    """The session's throwaway PostgreSQL server (started by the first test that asks)."""
    return grading.start_server()


@pytest.fixture
def fresh_database(database_server: Server):
    """fresh_database() -> the URL (postgresql+psycopg://...) of a new, empty database."""
    return lambda: database_server.create_database(unique_name("empty"))


# --- running the learner's tools in the sandbox -----------------------------------------------------------------


def sandboxed(argv: list[str], folder: Path, env: dict[str, str], seconds: float = ALEMBIC_SECONDS):
    """Run argv in a copy's folder in the sandbox, with the network (PostgreSQL is on 127.0.0.1)."""
    base = {"SECRET_KEY": secrets.token_urlsafe(64), "ENVIRONMENT": "development"}
    return sandbox.run(
        argv, workdir=folder, env={**base, **env}, limits=Limits(seconds=seconds), writable=(folder,), network=True
    )


@pytest.fixture
def alembic(workdir: Path):
    """alembic(*args, database_url=URL) -> the Outcome of `python -m alembic ARGS` in this test's copy."""

    def run(*args: str, database_url: str):
        return sandboxed([sys.executable, "-m", "alembic", *args], workdir, {"DATABASE_URL": database_url})

    return run


def migrated_database(grading: Grading, folder: Path) -> str:
    """A new database that `alembic upgrade head` migrated (raises AssertionError saying why not)."""
    server = grading.start_server()
    url = server.create_database(unique_name("migrated"))
    copy = copy_app_folder(folder, Path(grading.scratch) / unique_name("migrate") / COPY_NAME)
    done = sandboxed([sys.executable, "-m", "alembic", "upgrade", "head"], copy, {"DATABASE_URL": url})
    shutil.rmtree(copy.parent, ignore_errors=True)
    assert done.ok, f"`alembic upgrade head` failed on an empty PostgreSQL database:\n{last_lines(done)}"
    return url


@pytest.fixture
def migrated(grading: Grading, app_dir: Path, shipped: Shipped) -> str:
    """The URL of a new database that `alembic upgrade head` migrated."""
    shipped.require("alembic.ini")
    return migrated_database(grading, app_dir)


# --- the image, carried out without an engine --------------------------------------------------------------------


@dataclass
class Image:
    built: Built | None
    problem: str | None
    folder: Path


def build_image(grading: Grading, folder: Path) -> Image:
    scratch = Path(grading.scratch) / unique_name("image")
    context = copy_app_folder(folder, scratch / "context")
    try:
        text = (context / "Dockerfile").read_text(errors="replace")
        built = carry_out(parse(text), context, scratch / "image")
    except StepFailed as failed:
        return Image(None, str(failed), scratch)
    except (OSError, RuntimeError) as error:
        return Image(None, f"{type(error).__name__}: {error}", scratch)
    return Image(built, None, scratch)


@pytest.fixture
def image(grading: Grading, app_dir: Path, shipped: Shipped) -> Image:
    """The Dockerfile's steps carried out into a fresh environment (started in the background by `background`)."""
    shipped.require("Dockerfile")
    return start_image(grading, app_dir).result()


def start_image(grading: Grading, folder: Path) -> Future:
    with grading.lock:
        if folder not in grading.images:
            grading.images[folder] = grading.pool.submit(build_image, grading, folder)
        return grading.images[folder]


# --- the earlier suites on PostgreSQL --------------------------------------------------------------------------


def kept_on_postgres(test_path: Path) -> dict[str, list[str]]:
    """The earlier suites this lesson keeps on PostgreSQL (its notebook's `keeps`, options holding --postgres)."""
    lesson = suite_lesson(test_path)
    kept = lesson.keeps if lesson else {}
    return {slug: options for slug, options in kept.items() if "--postgres" in options}


class BackgroundSuite:
    """An earlier suite running on PostgreSQL in a pytest process of its own; .result() waits, .stop() kills it."""

    def __init__(self, lesson, folder: Path, extra: list[str], scratch: Path):
        import os
        import subprocess

        from workbook.grading import suite_command
        from workbook.lessons import REPO

        scratch.mkdir(parents=True, exist_ok=True)
        self.report = scratch / "report.json"
        own = ["--workbook-report", str(self.report), "--basetemp", str(scratch / "tmp")]
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        env.pop("WORKBOOK_APP_DIR", None)
        self.process = subprocess.Popen(
            suite_command(lesson, folder, [*extra, *own]),
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self.output: str | None = None

    def result(self, seconds: float = 240):
        import json
        import subprocess

        from workbook.suite_result import SuiteResult, _read_report

        if self.output is None:
            try:
                self.output, _ = self.process.communicate(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.stop()
                return SuiteResult(exit_code=2, load_error=f"The suite did not finish within {seconds:g} s.")
        result = SuiteResult(exit_code=self.process.returncode, output=self.output)
        if self.report.exists():
            _read_report(json.loads(self.report.read_text()), result)
        elif result.exit_code != 0:
            result.load_error = self.output.strip()[-2000:] or "pytest stopped without a report."
        return result

    def stop(self) -> None:
        import os
        import signal

        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.communicate()


def start_suite(grading: Grading, folder: Path, slug: str, options: list[str]) -> BackgroundSuite:
    with grading.lock:
        key = (folder, slug)
        if key not in grading.suites:
            server = grading.server
            extra = [*options, "--postgres-url", server.admin_url, "--postgres-app-password", server.app_password]
            scratch = Path(grading.scratch) / unique_name(f"suite{slug[:2]}")
            grading.suites[key] = BackgroundSuite(find_lesson(slug), folder, extra, scratch)
        return grading.suites[key]


@pytest.fixture(autouse=True)
def background(request, grading: Grading, app_dir: Path):
    """Start the slow work for this folder as soon as its first test begins: the image, the earlier suites."""
    shipped = find_shipped(app_dir)
    if shipped.dockerfile is not None:
        start_image(grading, app_dir)
    if not shipped.missing:
        grading.start_server()
        for slug, options in kept_on_postgres(request.path).items():
            start_suite(grading, app_dir, slug, options)


@pytest.fixture
def earlier_suite(request, grading: Grading, app_dir: Path, shipped: Shipped):
    """earlier_suite(slug) -> the SuiteResult of that earlier suite, run on PostgreSQL against this folder."""

    def result(slug: str):
        kept = kept_on_postgres(request.path)
        assert slug in kept, f"Lesson 08's notebook metadata should keep {slug} on PostgreSQL (--postgres)."
        shipped.require("alembic.ini")
        return start_suite(grading, app_dir, slug, kept[slug]).result()

    return result


# --- the compose file --------------------------------------------------------------------------------------


def read_compose(shipped: Shipped) -> dict | None:
    """The compose file as data (None when there is none); a file that is not YAML fails the test."""
    if shipped.compose is None:
        return None
    import yaml

    try:
        data = yaml.safe_load(shipped.compose.read_text(errors="replace"))
    except yaml.YAMLError as error:
        raise AssertionError(f"{shipped.compose.name} is not valid YAML: {error}") from None
    assert isinstance(data, dict), f"{shipped.compose.name} should be a mapping with `services:`."
    return data


@pytest.fixture
def compose_or_none(shipped: Shipped) -> dict | None:
    return read_compose(shipped)


@pytest.fixture
def compose(shipped: Shipped) -> dict:
    shipped.require("compose")
    return read_compose(shipped)
