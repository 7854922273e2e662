"""The grading plugin: point a milestone suite at any folder that holds app/ and grade it fairly.

Registered through the `pytest11` entry point, so `pytest checkpoints/NN_slug --app-dir PATH`
works from the repo root. Suites reach the app only through the fixtures (workbook.fixtures,
workbook.auth_fixtures); the learner's code never runs in this process: each load of the app is a
child in the sandbox (workbook.sandbox_apps), and this process only observes what it answers.

Only the grader's own observations count (workbook.verdicts): in a grading run (--app-dir, or
--workbook-report) the exit code is the verdict's, and a run passes only when exactly the tests the
suite collected ran and passed. pytest's configuration is pinned: a run grading a folder refuses a
configuration file that is not the workbook's, and loads no conftest.py above the suite.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from workbook import loader, verdicts
from workbook.failures import explain_failure

LOAD_ERRORS = pytest.StashKey[dict]()
RESULTS = pytest.StashKey[dict]()  # node id -> its result (a dict: nodeid, name, outcome, message)
MILESTONE_IDS = pytest.StashKey[set]()
EXPECTED = pytest.StashKey[list]()  # the milestone tests collected, in order: what must run and pass
GRADER_ERRORS = pytest.StashKey[list]()
HUNG = pytest.StashKey[set]()  # folders whose app already left a request unanswered
AFTER_A_HANG = 2.0  # seconds: one hung request is enough evidence; later ones fail fast
EARLY = pytest.StashKey[dict]()  # preflights started before collection
HOSTS = pytest.StashKey[dict]()  # graded folder -> its AppHost (the sandbox side: snapshot, zygote, loads)
PARTIAL = ".partial"  # the report's sibling, written as tests end: what finished, should the run be killed
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
    config.pluginmanager.register(ResultRecorder(config), "workbook-results")
    chosen = config.getoption("app_dir")
    # An xdist controller collects nothing: its workers preflight. --help and --collect-only load no app.
    early = chosen and _collects_here(config) and not _loads_nothing(config)
    config.stash[EARLY] = {}
    if early:  # first: its zygote boots while the fixtures (httpx) import
        folder = Path(chosen).expanduser().resolve()
        config.stash[EARLY][folder] = _preflight(config, folder)
    if not config.pluginmanager.has_plugin("workbook-fixtures"):
        from workbook import auth_fixtures, fixtures

        config.pluginmanager.register(fixtures, "workbook-fixtures")
        config.pluginmanager.register(auth_fixtures, "workbook-auth-fixtures")
    _write_partial(config, {"event": "configured"}, fresh=True)


def _collects_here(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)


def _loads_nothing(config: pytest.Config) -> bool:
    return bool(config.option.help or config.option.collectonly or getattr(config.option, "version", False))


def _grading_run(config: pytest.Config) -> bool:
    """A run whose exit code is a verdict: it grades a folder, or reports to a grader."""
    return bool(config.getoption("app_dir") or config.getoption("workbook_report"))


def host_for(config: pytest.Config, folder: Path):
    """The AppHost of a graded folder, started on first use (its zygote imports the frameworks meanwhile)."""
    from workbook.sandbox_apps import AppHost

    hosts = config.stash[HOSTS]
    if folder not in hosts:
        network = bool(config.getoption("postgres", False))  # lesson 08: the grading server is on 127.0.0.1
        handed = json.loads(config.getoption("workbook_host") or "null")
        fits = handed and Path(handed["folder"]) == folder and bool(handed.get("network")) == network
        if fits and not config.stash.get(_ADOPTED, False):
            config.stash[_ADOPTED] = True  # one process, one session: an xdist worker after the first starts its own
            hosts[folder] = AppHost(folder, handed=handed)
        else:
            hosts[folder] = AppHost(folder, network=network)
    return hosts[folder]


_ADOPTED = pytest.StashKey[bool]()


def _preflight(config: pytest.Config, folder: Path):
    from workbook.preflight import Preflight

    return Preflight(host_for(config, folder))


def _verdict_of(config: pytest.Config, preflight) -> str | None:
    from workbook.sandbox_apps import GraderError

    try:
        return preflight.verdict()
    except GraderError as error:
        config.stash[GRADER_ERRORS].append(str(error))
        return None


def pytest_unconfigure(config: pytest.Config) -> None:
    for preflight in config.stash.get(EARLY, {}).values():  # never collected (a usage error)
        _verdict_of(config, preflight)
    if config.stash.get(HOSTS, {}):
        from workbook.fixtures import drop_spares

        drop_spares(config)
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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Preflight every graded folder once; a folder whose app cannot load has its tests removed.

    Trylast: the suites' own hooks (their order) have run, and this list is what must run and pass.
    """
    config.stash[MILESTONE_IDS] = {item.nodeid for item in items if _is_milestone(item)}
    config.stash[EXPECTED] = [item.nodeid for item in items if _is_milestone(item)]
    _write_partial(config, {"event": "collected", "expected": config.stash[EXPECTED]})
    folders = {graded_folder(config, item.path) for item in items if _is_milestone(item)}
    early = config.stash[EARLY]
    for unused in set(early) - folders:
        _verdict_of(config, early.pop(unused))  # reap it
    if not folders or config.option.collectonly:
        return
    # One preflight per core at a time: many at once (one run grading every checkpoint) would slow
    # each past its time limit and report a hang that is only a crowd.
    waiting = sorted(folders)
    running = {folder: early.pop(folder) for folder in list(early) if folder in folders}
    waiting = [folder for folder in waiting if folder not in running]
    while len(running) < (os.cpu_count() or 2) and waiting:
        folder = waiting.pop(0)
        running[folder] = _preflight(config, folder)
    found = {}
    while running:
        folder = next(iter(running))
        found[folder] = _verdict_of(config, running.pop(folder))
        if waiting:
            folder = waiting.pop(0)
            running[folder] = _preflight(config, folder)
    errors = {folder: message for folder, message in found.items() if message}
    if not errors:
        return
    config.stash[LOAD_ERRORS].update(errors)
    items[:] = [item for item in items if not (_is_milestone(item) and graded_folder(config, item.path) in errors)]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under xdist the controller collects nothing: what its workers collected is what must run."""
    config = node.config
    for nodeid in ids:
        if nodeid not in config.stash[MILESTONE_IDS] and _is_suite_id(nodeid):
            config.stash[MILESTONE_IDS].add(nodeid)
            config.stash[EXPECTED].append(nodeid)


def _is_suite_id(nodeid: str) -> bool:
    return "/milestone/" in f"/{nodeid}"


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A worker's load errors, grader errors and incidents, merged into the controller's report."""
    output = getattr(node, "workeroutput", {}) or {}
    config = node.config
    config.stash[LOAD_ERRORS].update({Path(k): v for k, v in output.get("workbook_load_errors", {}).items()})
    config.stash[GRADER_ERRORS].extend(output.get("workbook_grader_errors", []))
    config.stash.setdefault(_INCIDENTS, set()).update(output.get("workbook_incidents", []))
    if output.get("workbook_isolation"):
        config.stash[_ISOLATION] = output["workbook_isolation"]


_INCIDENTS = pytest.StashKey[set]()
_ISOLATION = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for message in [*config.stash[LOAD_ERRORS].values(), *config.stash[GRADER_ERRORS]]:
        terminalreporter.write_line("")
        terminalreporter.write_line(message, red=True, bold=True)
    if _grading_run(config) and config.stash.get(_VERDICT, None):
        isolation = _isolation(config)
        terminalreporter.write_line(f"verdict: {config.stash[_VERDICT]} (isolation: {isolation})")


_VERDICT = pytest.StashKey[str]()


def _incidents(config: pytest.Config) -> set[str]:
    found = set(config.stash.get(_INCIDENTS, set()))
    for host in config.stash[HOSTS].values():
        found |= host.incidents
    return found


def _isolation(config: pytest.Config) -> str:
    isolations = sorted({host.isolation for host in config.stash[HOSTS].values()})
    if not isolations and config.stash.get(_ISOLATION, None):
        return config.stash[_ISOLATION]
    if not isolations:
        from workbook import sandbox

        try:
            return sandbox.isolation()
        except (RuntimeError, ValueError) as error:
            return f"none ({error})"
    return ", ".join(isolations)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    grader_errors = list(config.stash[GRADER_ERRORS])
    if exitstatus in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        grader_errors.append(f"pytest stopped with exit code {int(exitstatus)}.")
    outcomes = {nodeid: result["outcome"] for nodeid, result in config.stash[RESULTS].items()}
    verdict = verdicts.judge(
        expected=config.stash[EXPECTED],
        outcomes=outcomes,
        load_errors=list(config.stash[LOAD_ERRORS].values()),
        grader_errors=grader_errors,
        incidents=_incidents(config),
        complete=exitstatus != pytest.ExitCode.INTERRUPTED or bool(config.stash[LOAD_ERRORS]),
    )
    config.stash[_VERDICT] = verdict
    if hasattr(config, "workeroutput"):
        config.workeroutput["workbook_load_errors"] = {str(k): v for k, v in config.stash[LOAD_ERRORS].items()}
        config.workeroutput["workbook_grader_errors"] = grader_errors
        config.workeroutput["workbook_incidents"] = sorted(_incidents(config))
        config.workeroutput["workbook_isolation"] = _isolation(config)
    if _grading_run(config) and not config.option.collectonly:
        session.exitstatus = verdicts.exit_code(verdict)
    elif config.stash[LOAD_ERRORS]:
        session.exitstatus = pytest.ExitCode.INTERRUPTED  # 2: the app could not be loaded
    report_file = config.getoption("workbook_report")
    if report_file and not hasattr(config, "workerinput"):
        results = [
            config.stash[RESULTS][nodeid] for nodeid in config.stash[EXPECTED] if nodeid in config.stash[RESULTS]
        ]
        Path(report_file).write_text(
            json.dumps(
                {
                    "complete": True,
                    "verdict": verdict,
                    "isolation": _isolation(config),
                    "expected": config.stash[EXPECTED],
                    "load_errors": list(config.stash[LOAD_ERRORS].values()),
                    "grader_errors": grader_errors,
                    "incidents": sorted(_incidents(config)),
                    "tests": results,
                },
                indent=1,
            )
        )


def _write_partial(config: pytest.Config, event: dict, fresh: bool = False) -> None:
    """One line of what happened so far, beside the report (a run killed from outside leaves this much)."""
    report_file = config.getoption("workbook_report")
    if not report_file or hasattr(config, "workerinput"):
        return
    with open(f"{report_file}{PARTIAL}", "w" if fresh else "a", encoding="utf-8") as partial:
        partial.write(json.dumps(event) + "\n")


# --- the next test's app, loaded meanwhile -----------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """While this test runs, load the next ones' apps on the other core (workbook.fixtures.prepare_spares)."""
    if item.config.stash[HOSTS]:
        from workbook.fixtures import AHEAD, prepare_spares

        items = item.session.items
        try:
            here = items.index(item)
        except ValueError:
            return
        prepare_spares(item.config, items[here + 1 : here + 1 + AHEAD])


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
    from workbook.sandbox_apps import GraderError

    if excinfo.errisinstance(GraderError):
        item.config.stash[GRADER_ERRORS].append(str(excinfo.value))
    if item.config.option.tbstyle != "auto" or excinfo.errisinstance(
        (pytest.skip.Exception, pytest.exit.Exception, KeyboardInterrupt)
    ):
        return None
    sections = [
        (f"Captured {key} {call.when}", text)
        for when, key, text in getattr(item, "_report_sections", [])
        if when == call.when
    ]
    from workbook.sandbox_apps import clean

    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        clean(explain_failure(item, excinfo), 8000),  # it quotes the app: no control characters, not too long
        call.when,
        sections,
        call.duration,
        call.start,
        call.stop,
        user_properties=item.user_properties,
    )


class ResultRecorder:
    """Each milestone test's outcome over its setup, call and teardown, for --workbook-report: "passed" only when
    its call passed and no phase failed; the first failure's message; a skip stays a skip."""

    def __init__(self, config: pytest.Config):
        self.config = config

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite file that does not import is the grader's problem, never a pass."""
        if report.failed and _is_suite_id(report.nodeid):
            self.config.stash[GRADER_ERRORS].append(
                f"The suite could not be collected: {report.nodeid}: {str(report.longrepr)[-600:]}"
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.config.stash[MILESTONE_IDS]:
            return
        results = self.config.stash[RESULTS]
        name = report.nodeid.rsplit("::", 1)[-1]
        known = results.get(report.nodeid)
        if report.failed:
            if known is None or known["outcome"] != "failed":
                results[report.nodeid] = {
                    "nodeid": report.nodeid, "name": name, "outcome": "failed", "message": str(report.longrepr),
                }  # fmt: skip
        elif report.skipped:
            if known is None:
                message = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr or "")
                results[report.nodeid] = {
                    "nodeid": report.nodeid,
                    "name": name,
                    "outcome": "skipped",
                    "message": message,
                }
        elif report.when == "call" and known is None:
            results[report.nodeid] = {"nodeid": report.nodeid, "name": name, "outcome": "passed", "message": ""}
        if report.when == "teardown" and report.nodeid in results:
            _write_partial(self.config, {"event": "result", **results[report.nodeid]})
