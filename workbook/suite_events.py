"""A pytest plugin for the child process that runs a learner's own suite (lesson 06 on).

The grader loads it with `-p workbook.suite_events --workbook-events FILE`: it writes one JSON line per
event and flushes it at once, so what ran is known even when the run is killed. Once the grader has
seen what it needed (a test that fails on a planted bug), it creates the --workbook-stop-file and the
run ends after the test in progress. Every target is run with the same options, so nothing on the
command line tells the reference app from a planted bug. Standard library and pytest only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TIMEOUT_MESSAGE = "Failed: Timeout"  # how pytest-timeout fails a test that ran too long
MESSAGE_CHARACTERS = 600


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workbook-events", "what the grader records of a learner's own suite")
    group.addoption("--workbook-events", default=None, help="append each collection and test outcome to this file")
    group.addoption("--workbook-stop-file", default=None, help="stop after the current test once this file exists")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("workbook_events")
    if path:
        config.pluginmanager.register(EventLog(path, config.getoption("workbook_stop_file")), "workbook-event-log")


def short_message(report) -> str:
    """The failure as pytest's one-line summary gives it (`AssertionError: ...`), at most a few lines."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr or "")
    if crash is None:  # a collection error: its last lines say what went wrong
        text = "\n".join(line.removeprefix("E").strip() for line in text.strip().splitlines()[-3:])
    return text[:MESSAGE_CHARACTERS]


class EventLog:
    def __init__(self, path: str, stop_file: str | None):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the whole run
        self.stop_file = Path(stop_file) if stop_file else None
        self.session: pytest.Session | None = None

    def write(self, **event) -> None:
        self.file.write(json.dumps(event) + "\n")
        self.file.flush()

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logfinish(self) -> None:
        if self.stop_file is not None and self.session is not None and self.stop_file.exists():
            self.session.shouldstop = "the grader has seen enough"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.write(event="collect_error", nodeid=report.nodeid or ".", message=short_message(report))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.write(event="collected", nodeids=[item.nodeid for item in session.items])

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.write(event="start", nodeid=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = short_message(report) if report.failed else ""
        self.write(
            event="report",
            nodeid=report.nodeid,
            when=report.when,
            outcome=report.outcome,
            message=message,
            timed_out=message.startswith(TIMEOUT_MESSAGE),
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.write(event="finish", exitstatus=int(exitstatus))
        self.file.close()
