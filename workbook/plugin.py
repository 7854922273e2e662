"""The grading plugin: point a milestone suite at any folder that holds app/ and grade it fairly.

Registered through the `pytest11` entry point, so `pytest checkpoints/NN_slug --app-dir PATH`
works from the repo root. Suites reach the app only through the fixtures (workbook.fixtures,
workbook.client_fixtures, workbook.auth_fixtures, workbook.hash_timing, workbook.unauthorized), which this module
registers; the learner's code never runs in this process: each load of the app is a child in the sandbox
(workbook.sandbox_apps), and this process only observes what it answers.

Only the grader's own observations count (workbook.verdicts): in a grading run (--app-dir, or
--workbook-report) the exit code is the verdict's, and a run passes only when exactly the tests the
suite collected ran and passed. pytest's configuration is pinned: a run grading a folder refuses a
configuration file that is not the workbook's, and loads no conftest.py above the suite.

This module holds the options, the session's setup and teardown, and that pinning; the other hooks are by job in
workbook.plugin_collection (what must run), workbook.plugin_runtest (each test's run) and workbook.plugin_results
(the verdict and the report), and the state they share in workbook.plugin_state.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook.plugin_state import (
    EARLY,
    EXPECTED,
    GRADER_ERRORS,
    HOSTS,
    HUNG,
    LOAD_ERRORS,
    MILESTONE_IDS,
    RESULTS,
    start_preflight,
    verdict_of,
    write_partial,
)

# The plugin's hooks, by job: registered with this module (before any conftest.py, as this module is), so their
# order among the hooks of pytest, of other plugins and of the suites' conftest.py is this module's own.
pytest_plugins = [
    "workbook.plugin_collection", "workbook.plugin_runtest", "workbook.shared_loads", "workbook.plugin_results",
]  # fmt: skip
GRADING_INI = Path(__file__).with_name("grading.ini")  # the configuration `workbook check` and `grade` pin


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook", "grading a learner's app")
    group.addoption(
        "--app-dir",
        default=os.environ.get("WORKBOOK_APP_DIR"),
        help="folder holding app/ to grade (env WORKBOOK_APP_DIR); default: the suite's own checkpoint",
    )
    group.addoption("--api-prefix", default="", help="prefix for suites whose routes move later, e.g. /api/v1")
    group.addoption("--as-user", action="store_true", help="every client signs in as a registered user (lesson 05 on)")
    group.addoption(
        "--suite-options",
        action="append",
        default=[],
        metavar="SLUG=OPTIONS",
        help="options for one suite only, e.g. '02_requests_and_validation=--api-prefix /api/v1 --as-user' (keeps)",
    )
    group.addoption(
        "--exercise", default=None, metavar="NAME", help="only the checks of one exercise, e.g. create_task"
    )
    group.addoption("--request-timeout", type=float, default=15.0, help="seconds a request may take before it fails")
    group.addoption("--workbook-report", default=None, help="write the results as JSON to this file")
    group.addoption("--workbook-host", default=None, help=argparse_suppress())


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS  # the sandbox a grading run hands over (workbook.grading): not for people


def pytest_configure(config: pytest.Config) -> None:
    config.stash[LOAD_ERRORS] = {}
    config.stash[RESULTS] = {}
    config.stash[HUNG] = set()
    config.stash[MILESTONE_IDS] = set()
    config.stash[EXPECTED] = []
    config.stash[GRADER_ERRORS] = []
    config.stash[HOSTS] = {}
    from workbook.plugin_results import ResultRecorder  # not at the top: pytest_plugins imports it first

    config.pluginmanager.register(ResultRecorder(config), "workbook-results")
    chosen = config.getoption("app_dir")
    # An xdist controller collects nothing: its workers preflight. --help and --collect-only load no app.
    early = chosen and _collects_here(config) and not _loads_nothing(config)
    config.stash[EARLY] = {}
    if early:  # first: its zygote boots while the fixtures (httpx) import
        folder = Path(chosen).expanduser().resolve()
        config.stash[EARLY][folder] = start_preflight(config, folder)
    if not config.pluginmanager.has_plugin("workbook-fixtures"):
        from workbook import auth_fixtures, client_fixtures, fixtures, hash_timing, unauthorized

        config.pluginmanager.register(fixtures, "workbook-fixtures")
        config.pluginmanager.register(client_fixtures, "workbook-client-fixtures")
        config.pluginmanager.register(auth_fixtures, "workbook-auth-fixtures")
        config.pluginmanager.register(hash_timing, "workbook-hash-timing")
        config.pluginmanager.register(unauthorized, "workbook-unauthorized")
    write_partial(config, {"event": "configured"}, fresh=True)


def _collects_here(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)


def _loads_nothing(config: pytest.Config) -> bool:
    return bool(config.option.help or config.option.collectonly or getattr(config.option, "version", False))


def pytest_unconfigure(config: pytest.Config) -> None:
    for preflight in config.stash.get(EARLY, {}).values():  # never collected (a usage error)
        verdict_of(config, preflight)
    if config.stash.get(HOSTS, {}):
        from workbook.shared_loads import end_all
        from workbook.spares import drop_spares

        drop_spares(config)
        end_all(config)
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
    """Pin what takes part in a grading run, before any conftest.py is loaded.

    `pytest checkpoints/NN_slug` must not load the conftest.py of the learner's suite beside milestone/ (pytest
    loads the conftest.py of each test* folder next to a folder named on the command line). A run that grades a
    folder loads no conftest.py above the suites it names, and refuses a configuration file other than the
    workbook's: `--app-dir PATH` in two words makes pytest look for one above PATH too.
    """
    namespace = early_config.known_args_namespace
    namespace.file_or_dir = [
        str(Path(arg) / "milestone") if _is_checkpoint(Path(arg)) else arg for arg in namespace.file_or_dir or []
    ]
    if not (getattr(namespace, "app_dir", None) or os.environ.get("WORKBOOK_APP_DIR")):
        return
    inipath = early_config.inipath
    if inipath is not None and Path(inipath).resolve() not in _workbook_configurations():
        raise pytest.UsageError(
            f"pytest read its configuration from {inipath}, which is not the workbook's: a file there could change "
            "how the suite runs, so this run grades nothing. Grade with `workbook grade` (it pins the configuration), "
            f"or pass -c {GRADING_INI} to pytest."
        )
    suites = [Path(arg).resolve() for arg in namespace.file_or_dir if "::" not in arg]
    if suites and all(suite.name == "milestone" or "milestone" in suite.parts for suite in suites):
        namespace.confcutdir = str(Path(os.path.commonpath([str(suite) for suite in suites])))


def _workbook_configurations() -> set[Path]:
    from workbook.lessons import REPO

    return {GRADING_INI.resolve(), (REPO / "pyproject.toml").resolve()}
