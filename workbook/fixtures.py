"""The fixtures milestone suites get the app through: never a module-level `import app`.

Registered by the plugin (workbook.plugin), so every suite has them.
"""

from __future__ import annotations

import compileall
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from workbook import loader
from workbook.appfiles import SUITE_FOLDER, copy_app_folder
from workbook.lessons import Course, Lesson
from workbook.plugin import AFTER_A_HANG, HUNG, graded_folder
from workbook.testing import Routes


@pytest.fixture
def app_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded. Read only: the app runs from a copy of it."""
    return graded_folder(request.config, request.path)


def suite_lesson(test_path: Path) -> Lesson | None:
    """The lesson whose milestone suite holds this test (checkpoints/NN_slug/milestone/...), if any."""
    for parent in Path(test_path).resolve().parents:
        if parent.name == SUITE_FOLDER:
            return Course(parent.parent.parent.parent).of_checkpoint(parent.parent)
    return None


@pytest.fixture
def routes(request: pytest.FixtureRequest) -> Routes:
    """The contract's URLs: under --api-prefix when given, else where the suite's own lesson has them."""
    chosen = request.config.getoption("api_prefix")
    if not chosen:
        lesson = suite_lesson(request.path)
        chosen = lesson.api_prefix if lesson else ""
    return Routes(chosen.rstrip("/"))


@pytest.fixture(scope="session")
def snapshot_of(tmp_path_factory: pytest.TempPathFactory):
    """snapshot_of(folder) -> one copy of the graded folder for the whole run, its Python compiled.

    Every test copies it: all tests grade the same files, and none compiles them again.
    """
    made: dict[Path, Path] = {}

    def snapshot(folder: Path) -> Path:
        if folder not in made:
            made[folder] = copy_app_folder(folder, tmp_path_factory.mktemp("snapshot") / loader.COPY_NAME)
            compileall.compile_dir(made[folder], quiet=2)  # a file that does not compile fails at import, as it would
        return made[folder]

    return snapshot


@pytest.fixture
def workdir(app_dir: Path, snapshot_of, tmp_path: Path) -> Path:
    """A fresh copy of the graded folder: the app's working directory for this test."""
    return Path(
        shutil.copytree(snapshot_of(app_dir), tmp_path / loader.COPY_NAME)
    )  # copy2 keeps the times the bytecode checks


@pytest.fixture
def grading_env(workdir: Path, tmp_path: Path) -> dict[str, str]:
    """Every setting the curriculum names, pointed at throwaway places: the learner's own stay untouched."""
    return loader.grading_settings(tmp_path)


@pytest.fixture
def load_app(workdir: Path, grading_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """load_app(**overrides) imports app.main afresh from the working copy; call it again to restart."""

    def load(**overrides: str | None):
        monkeypatch.chdir(workdir)
        for name, value in {**grading_env, **overrides}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        return loader.import_app(workdir)

    yield load
    loader.forget_app()


@pytest.fixture
def request_time_limit(request: pytest.FixtureRequest) -> float:
    """Seconds a request may take: --request-timeout, or far less once the app has left one unanswered."""
    limit = request.config.getoption("request_timeout")
    if graded_folder(request.config, request.path) in request.config.stash[HUNG]:
        limit = min(limit, AFTER_A_HANG)
    return limit


@pytest.fixture
def make_client(request: pytest.FixtureRequest, load_app, request_time_limit: float, routes: Routes):
    """make_client(app=None) -> an entered TestClient (lifespan ran), closed after the test."""
    from fastapi.testclient import TestClient

    limit = request_time_limit
    as_user = request.config.getoption("as_user")
    with ExitStack() as clients:

        def make(app=None, *, raise_server_exceptions: bool = True) -> TestClient:
            app = load_app() if app is None else app
            client = TestClient(loader.with_time_limit(app, limit), raise_server_exceptions=raise_server_exceptions)
            clients.enter_context(client)
            if as_user:
                from workbook.testing import sign_in_grader

                sign_in_grader(client, routes)
            return client

        yield make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def live_server(load_app):
    """live_server(**overrides) -> base URL of the app under a real uvicorn on 127.0.0.1.

    uvicorn serves from a thread of this process: the app is loaded like any test's, and its
    event loop is uvicorn's own, so a route that blocks it shows.
    """
    from workbook.server import ServerDidNotStart, ThreadedServer

    with ExitStack() as servers:

        def start(**overrides: str | None) -> str:
            server = ThreadedServer(load_app(**overrides))
            try:
                servers.enter_context(server)
            except ServerDidNotStart as error:
                pytest.fail(f"Could not serve the app with uvicorn: {error}", pytrace=False)
            return server.url

        yield start
