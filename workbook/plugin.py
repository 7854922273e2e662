"""The grading plugin: point a milestone suite at any folder that holds app/ and grade it fairly.

Registered through the `pytest11` entry point, so `pytest checkpoints/NN_slug --app-dir PATH`
works from the repo root. Suites reach the app only through the fixtures below.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from workbook import loader
from workbook.failures import explain_failure

LOAD_ERRORS = pytest.StashKey[dict]()
RESULTS = pytest.StashKey[list]()
MILESTONE_IDS = pytest.StashKey[set]()
HUNG = pytest.StashKey[set]()  # folders whose app already left a request unanswered
AFTER_A_HANG = 2.0  # seconds: one hung request is enough evidence; later ones fail fast
EARLY = pytest.StashKey[dict]()  # preflights started before collection
HOSTS = pytest.StashKey[dict]()  # graded folder -> its AppHost (the sandbox side: snapshot, zygote, loads)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook", "grading a learner's app")
    group.addoption(
        "--app-dir",
        default=os.environ.get("WORKBOOK_APP_DIR"),
        help="folder holding app/ to grade (env WORKBOOK_APP_DIR); default: the suite's own checkpoint",
    )
    group.addoption("--api-prefix", default="", help="prefix for suites whose routes move later, e.g. /api/v1")
    group.addoption("--as-user", action="store_true", help="every client signs in as a registered user (lesson 05 on)")
    group.addoption("--request-timeout", type=float, default=15.0, help="seconds a request may take before it fails")
    group.addoption("--workbook-report", default=None, help="write the results as JSON to this file")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[LOAD_ERRORS] = {}
    config.stash[RESULTS] = []
    config.stash[HUNG] = set()
    config.stash[MILESTONE_IDS] = set()
    config.stash[HOSTS] = {}
    config.pluginmanager.register(ResultRecorder(config), "workbook-results")
    if not config.pluginmanager.has_plugin("workbook-fixtures"):
        from workbook import auth_fixtures, fixtures

        config.pluginmanager.register(fixtures, "workbook-fixtures")
        config.pluginmanager.register(auth_fixtures, "workbook-auth-fixtures")
    chosen = config.getoption("app_dir")
    collects_here = hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)
    # An xdist controller collects nothing: its workers preflight. --help and --collect-only load no app.
    early = chosen and collects_here and not _loads_nothing(config)
    config.stash[EARLY] = {}
    if early:
        folder = Path(chosen).expanduser().resolve()
        config.stash[EARLY][folder] = _preflight(config, folder)


def _loads_nothing(config: pytest.Config) -> bool:
    return bool(config.option.help or config.option.collectonly or getattr(config.option, "version", False))


def host_for(config: pytest.Config, folder: Path):
    """The AppHost of a graded folder, started on first use (its zygote imports the frameworks meanwhile)."""
    from workbook.sandbox_apps import AppHost

    hosts = config.stash[HOSTS]
    if folder not in hosts:
        hosts[folder] = AppHost(folder)
    return hosts[folder]


def _preflight(config: pytest.Config, folder: Path):
    from workbook.preflight import Preflight

    return Preflight(host_for(config, folder))


def pytest_unconfigure(config: pytest.Config) -> None:
    for preflight in config.stash.get(EARLY, {}).values():  # never collected (a usage error)
        preflight.verdict()
    for host in config.stash.get(HOSTS, {}).values():
        host.close()


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
    if config.option.collectonly:
        return
    # One preflight per core at a time: many at once (one run grading every checkpoint) would slow
    # each past its time limit and report a hang that is only a crowd.
    waiting = sorted(folders)
    running = {folder: early.pop(folder) for folder in list(early) if folder in folders}
    waiting = [folder for folder in waiting if folder not in running]
    while len(running) < (os.cpu_count() or 2) and waiting:
        folder = waiting.pop(0)
        running[folder] = _preflight(config, folder)
    verdicts = {}
    while running:
        folder = next(iter(running))
        verdicts[folder] = running.pop(folder).verdict()
        if waiting:
            folder = waiting.pop(0)
            running[folder] = _preflight(config, folder)
    errors = {folder: message for folder, message in verdicts.items() if message}
    if not errors:
        return
    config.stash[LOAD_ERRORS].update(errors)
    items[:] = [item for item in items if not (_is_milestone(item) and graded_folder(config, item.path) in errors)]


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
        Path(report_file).write_text(
            json.dumps(
                {
                    "load_errors": list(config.stash[LOAD_ERRORS].values()),
                    "tests": config.stash[RESULTS],
                },
                indent=1,
            )
        )


# --- failure output a learner can read ---------------------------------------------------------


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
    sections = [
        (f"Captured {key} {call.when}", text)
        for when, key, text in getattr(item, "_report_sections", [])
        if when == call.when
    ]
    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        explain_failure(item, excinfo),
        call.when,
        sections,
        call.duration,
        call.start,
        call.stop,
        user_properties=item.user_properties,
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
