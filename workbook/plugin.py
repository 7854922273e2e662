"""The grading plugin: point a milestone suite at any folder that holds app/ and grade it fairly.

Registered through the `pytest11` entry point, so `pytest checkpoints/NN_slug --app-dir PATH`
works from the repo root. Suites reach the app only through the fixtures below.
"""

from __future__ import annotations

import compileall
import json
import os
import re
import shutil
from contextlib import ExitStack
from pathlib import Path

import pytest

from workbook import loader

LOAD_ERRORS = pytest.StashKey[dict]()
RESULTS = pytest.StashKey[list]()
MILESTONE_IDS = pytest.StashKey[set]()
HUNG = pytest.StashKey[set]()  # folders whose app already left a request unanswered
AFTER_A_HANG = 2.0  # seconds: one hung request is enough evidence; later ones fail fast
EARLY = pytest.StashKey[dict]()  # preflights started before collection


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook", "grading a learner's app")
    group.addoption("--app-dir", default=os.environ.get("WORKBOOK_APP_DIR"),
                    help="folder holding app/ to grade (env WORKBOOK_APP_DIR); default: the suite's own checkpoint")
    group.addoption("--api-prefix", default="", help="prefix for suites whose routes move later, e.g. /api/v1")
    group.addoption("--as-user", action="store_true", help="every client signs in as a registered user (lesson 05 on)")
    group.addoption("--request-timeout", type=float, default=15.0, help="seconds a request may take before it fails")
    group.addoption("--workbook-report", default=None, help="write the results as JSON to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[LOAD_ERRORS] = {}
    config.stash[RESULTS] = []
    config.stash[HUNG] = set()
    config.stash[MILESTONE_IDS] = set()
    config.pluginmanager.register(ResultRecorder(config), "workbook-results")
    chosen = config.getoption("app_dir")
    collects_here = hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)
    early = chosen and collects_here  # an xdist controller collects nothing: its workers preflight
    config.stash[EARLY] = {Path(chosen).expanduser().resolve(): loader.Preflight(chosen)} if early else {}


def pytest_unconfigure(config: pytest.Config) -> None:
    for preflight in config.stash.get(EARLY, {}).values():  # never collected (--help, a usage error)
        preflight.verdict()


def _is_checkpoint(folder: Path) -> bool:
    return (folder / "milestone").is_dir() and (folder / "app").is_dir()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A checkpoint's tests/ is the learner's own suite (lesson 06 on): only its milestone/ is graded here."""
    folder = Path(collection_path)
    if folder.name == "tests" and _is_checkpoint(folder.parent):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """`pytest checkpoints/NN_slug` must not load the conftest.py of the learner's suite beside milestone/.

    pytest loads the conftest.py of each test* folder next to a folder named on the command line,
    before any collection hook runs; from a checkpoint, only milestone/ may count as such a folder.
    """
    namespace = early_config.known_args_namespace
    namespace.file_or_dir = [
        str(Path(arg) / "milestone") if _is_checkpoint(Path(arg)) else arg for arg in namespace.file_or_dir or []
    ]


# --- which folder a test grades ------------------------------------------------------------------


def graded_folder(config: pytest.Config, test_path: Path) -> Path:
    """--app-dir when given, else the checkpoint folder (the nearest one holding app/) of the test."""
    chosen = config.getoption("app_dir")
    if chosen:
        return Path(chosen).expanduser().resolve()
    for parent in Path(test_path).resolve().parents:
        if (parent / "app").is_dir():
            return parent
    raise pytest.UsageError(f"No app/ folder found above {test_path}. Pass --app-dir PATH.")


def _is_milestone(item: pytest.Item) -> bool:
    return "app_dir" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Preflight every graded folder once; a folder whose app cannot load has its tests removed."""
    config.stash[MILESTONE_IDS] = {item.nodeid for item in items if _is_milestone(item)}
    folders = {graded_folder(config, item.path) for item in items if _is_milestone(item)}
    early = config.stash[EARLY]
    for unused in set(early) - folders:
        early.pop(unused).verdict()  # reap it
    if not folders:
        return
    started = {folder: early.pop(folder, None) or loader.Preflight(folder) for folder in folders}
    _warm_imports(serves=any("live_server" in getattr(item, "fixturenames", ()) for item in items))
    verdicts = {folder: preflight.verdict() for folder, preflight in started.items()}
    errors = {folder: message for folder, message in verdicts.items() if message}
    if not errors:
        return
    config.stash[LOAD_ERRORS].update(errors)
    items[:] = [item for item in items if not (_is_milestone(item) and graded_folder(config, item.path) in errors)]


def _warm_imports(serves: bool) -> None:
    """Import what the tests need while the preflights run in their own processes."""
    import fastapi.testclient  # noqa: F401

    try:
        import sqlmodel  # noqa: F401

        if serves:  # a test runs the app under uvicorn
            import uvicorn  # noqa: F401
    except ImportError:
        pass


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for message in config.stash[LOAD_ERRORS].values():
        terminalreporter.write_line("")
        terminalreporter.write_line(message, red=True, bold=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if config.stash[LOAD_ERRORS]:
        session.exitstatus = pytest.ExitCode.INTERRUPTED  # 2: the app could not be loaded
    report_file = config.getoption("workbook_report")
    if report_file:
        Path(report_file).write_text(json.dumps({
            "load_errors": list(config.stash[LOAD_ERRORS].values()),
            "tests": config.stash[RESULTS],
        }, indent=1))


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def app_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded. Read only: the app runs from a copy of it."""
    return graded_folder(request.config, request.path)


@pytest.fixture
def api_prefix(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("api_prefix").rstrip("/")


@pytest.fixture
def tasks_url(api_prefix: str) -> str:
    return f"{api_prefix}/tasks"


@pytest.fixture(scope="session")
def snapshot_of(tmp_path_factory: pytest.TempPathFactory):
    """snapshot_of(folder) -> one copy of the graded folder for the whole run, its Python compiled.

    Every test copies it: all tests grade the same files, and none compiles them again.
    """
    made: dict[Path, Path] = {}

    def snapshot(folder: Path) -> Path:
        if folder not in made:
            made[folder] = loader.copy_app_folder(folder, tmp_path_factory.mktemp("snapshot") / loader.COPY_NAME)
            compileall.compile_dir(made[folder], quiet=2)  # a file that does not compile fails at import, as it would
        return made[folder]

    return snapshot


@pytest.fixture
def workdir(app_dir: Path, snapshot_of, tmp_path: Path) -> Path:
    """A fresh copy of the graded folder: the app's working directory for this test."""
    return Path(shutil.copytree(snapshot_of(app_dir), tmp_path / loader.COPY_NAME))  # copy2 keeps the times the bytecode checks


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
def make_client(request: pytest.FixtureRequest, load_app, request_time_limit: float):
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

                sign_in_grader(client)
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


# --- failure output a learner can read ---------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
    """A milestone failure, told in the learner's terms, without formatting the framework's frames.

    pytest's own report would render every Starlette and AnyIO frame first (seconds per failure).
    """
    excinfo = call.excinfo
    if excinfo is None or not _is_milestone(item):
        return None
    if excinfo.errisinstance(loader.RequestTimedOut):
        item.config.stash[HUNG].add(graded_folder(item.config, item.path))
    if item.config.option.tbstyle != "auto" or excinfo.errisinstance(
        (pytest.skip.Exception, pytest.exit.Exception, KeyboardInterrupt)
    ):
        return None
    sections = [(f"Captured {key} {call.when}", text)
                for when, key, text in getattr(item, "_report_sections", []) if when == call.when]
    return pytest.TestReport(
        item.nodeid, item.location, dict.fromkeys(item.keywords, 1), "failed", explain_failure(item, excinfo),
        call.when, sections, call.duration, call.start, call.stop, user_properties=item.user_properties,
    )


class ResultRecorder:
    """Keeps each milestone test's outcome (its first failure, else its call) for --workbook-report."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        results = self.config.stash[RESULTS]
        if report.nodeid not in self.config.stash[MILESTONE_IDS]:
            return
        if not (report.when == "call" or report.failed or report.skipped):
            return
        if any(r["nodeid"] == report.nodeid for r in results):
            return
        message = ""
        if report.failed:
            message = str(report.longrepr)
        elif report.skipped and isinstance(report.longrepr, tuple):
            message = report.longrepr[2]
        name = report.nodeid.rsplit("::", 1)[-1]
        results.append({"nodeid": report.nodeid, "name": name, "outcome": report.outcome, "message": message})


def explain_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    """The assertion's own sentence, or what the app raised and where in the learner's files."""
    location = _test_location(item, excinfo)
    error = excinfo.value
    if isinstance(error, AssertionError) or excinfo.typename in ("Failed", "Skipped"):
        text = _ANSI.sub("", str(error))
        cut = text.find("\nassert ")  # pytest's rewritten operands repeat what the message says
        if cut > 0:
            text = text[:cut]
        return f"{text}\n  (in {location})" if text else location
    frames = _learner_frames(excinfo)
    raised = f"{excinfo.typename}: {_in_learner_terms(str(error))}"
    if _returned_nothing(error):
        raised += "\nThe route returned None where its response_model expects data: did you forget `return`?"
    if frames:
        return f"The app raised {raised}\n" + "\n".join(frames) + f"\n  (in {location})"
    return f"{raised}\n  (in {location})"


def _in_learner_terms(text: str) -> str:
    """Colour codes stripped, and paths inside a graded copy shown relative to the learner's folder."""
    return _INSIDE_A_COPY.sub("", _ANSI.sub("", text))


_INSIDE_A_COPY = re.compile(rf"[^\s'\"]*[/\\]{re.escape(loader.COPY_NAME)}[/\\]")


def _returned_nothing(error: BaseException) -> bool:
    """A response validation error whose input is None at the top of the response: a missing return."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ != "ResponseValidationError" or not callable(errors):
        return False
    return any(e.get("input", ...) is None and tuple(e.get("loc", ()))[:1] == ("response",) for e in errors())


def _test_location(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    line = item.location[1] + 1 if item.location[1] is not None else 0
    for entry in excinfo.traceback:
        if Path(entry.path) == Path(item.path):
            line = entry.lineno + 1
    return f"{item.location[0]}:{line}"


def _learner_frames(excinfo: pytest.ExceptionInfo) -> list[str]:
    """The frames in the learner's files: in any copy of the graded folder (a fixture may load its own)."""
    shown = []
    for entry in excinfo.traceback:
        parts = Path(entry.path).parts
        if loader.COPY_NAME not in parts:
            continue
        relative = Path(*parts[len(parts) - parts[::-1].index(loader.COPY_NAME):])
        code = str(entry.statement).strip()
        shown.append(f"  {relative}, line {entry.lineno + 1}, in {entry.name}\n    {code}")
    return shown
