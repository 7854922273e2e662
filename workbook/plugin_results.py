"""The plugin's verdict: each milestone test's result as it ends, the run's verdict and exit code, the report.

Loaded with workbook.plugin (its `pytest_plugins`); ResultRecorder is registered by workbook.plugin's
pytest_configure. Only the grader's own observations count (workbook.verdicts). Under xdist each worker sends
its load errors, grader errors and incidents to the controller, which judges and writes --workbook-report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbook import advice, verdicts
from workbook.failures import KIND_PROPERTY
from workbook.plugin_state import (
    EXPECTED,
    GRADER_ERRORS,
    HOSTS,
    LOAD_ERRORS,
    MILESTONE_IDS,
    RESULTS,
    grading_run,
    is_suite_id,
    write_partial,
)


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
_ADVICE = pytest.StashKey[list]()  # what milestone tests advised (workbook.advice), in order
_ISOLATION = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    for message in [*config.stash[LOAD_ERRORS].values(), *config.stash[GRADER_ERRORS]]:
        terminalreporter.write_line("")
        terminalreporter.write_line(message, red=True, bold=True)
    if grading_run(config) and config.stash.get(_VERDICT, None):
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
    if grading_run(config) and not config.option.collectonly:
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
                    "advice": advice.unique(config.stash.get(_ADVICE, [])),
                },
                indent=1,
            )
        )


class ResultRecorder:
    """Each milestone test's outcome over its setup, call and teardown, for --workbook-report: "passed" only when
    its call passed and no phase failed; the first failure's message; a skip stays a skip."""

    def __init__(self, config: pytest.Config):
        self.config = config
        config.addinivalue_line("filterwarnings", advice.ALWAYS_SHOWN)

    def pytest_warning_recorded(self, warning_message, nodeid: str) -> None:
        """A milestone test's Advice (under xdist, a worker's reaches the controller through this hook too)."""
        if issubclass(warning_message.category, advice.Advice) and nodeid in self.config.stash[MILESTONE_IDS]:
            self.config.stash.setdefault(_ADVICE, []).append(str(warning_message.message))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite file that does not import is the grader's problem, never a pass."""
        if report.failed and is_suite_id(report.nodeid):
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
                kind = dict(report.user_properties).get(KIND_PROPERTY, "answer")  # workbook.diagnoses.KINDS
                results[report.nodeid] = {
                    "nodeid": report.nodeid, "name": name, "outcome": "failed", "message": str(report.longrepr),
                    "kind": kind,
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
            write_partial(self.config, {"event": "result", **results[report.nodeid]})
