"""A pytest plugin for the child process that runs a learner's own suite (lesson 06 on).

The grader loads it with `-p workbook.suite_events --workbook-events FILE`: it writes one JSON line per
event and flushes it at once, so what ran is known even when the run is killed. With
--workbook-stop-on-failure it stops after the first test that fails other than by timing out (a
planted bug is caught once one test fails on it). Standard library and pytest only.
"""

from __future__ import annotations

import json

import pytest

TIMEOUT_MESSAGE = "Failed: Timeout"  # how pytest-timeout fails a test that ran too long
MESSAGE_CHARACTERS = 600


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook-events", "what the grader records of a learner's own suite")
    group.addoption("--workbook-events", default=None, help="append each collection and test outcome as JSON to this file")
    group.addoption("--workbook-stop-on-failure", action="store_true", help="stop after the first test that fails in time")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("workbook_events")
    if path:
        config.pluginmanager.register(EventLog(path, config.getoption("workbook_stop_on_failure")), "workbook-event-log")


def short_message(report) -> str:
    """The failure as pytest's one-line summary gives it (`AssertionError: ...`), at most a few lines."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    if crash is None:  # a collection error: its last lines say what went wrong
        text = "\n".join(line.removeprefix("E").strip() for line in text.strip().splitlines()[-3:])
    return text[:MESSAGE_CHARACTERS]


class EventLog:
    def __init__(self, path: str, stop_on_failure: bool):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        self.stop_on_failure = stop_on_failure
        self.session: pytest.Session | None = None

    def write(self, **event) -> None:
        self.file.write(json.dumps(event) + "\n")
        self.file.flush()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.write(event="collect_error", nodeid=report.nodeid or ".", message=short_message(report))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.write(event="collected", nodeids=[item.nodeid for item in session.items])

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.write(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = short_message(report) if report.failed else ""
        timed_out = message.startswith(TIMEOUT_MESSAGE)
        self.write(event="report", nodeid=report.nodeid, when=report.when, outcome=report.outcome,
                   message=message, timed_out=timed_out)
        if self.stop_on_failure and report.failed and not timed_out and self.session is not None:
            self.session.shouldstop = "a test failed on this app"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.write(event="finish", exitstatus=int(exitstatus))
        self.file.close()
