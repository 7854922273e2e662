"""Run a learner's own suite once, in a child process, and read what it did (lesson 06 on).

The child is `python -m pytest tests` in a folder holding one app/ and the learner's tests/, with an
allowlisted environment and no pytest configuration but the grader's. What the grader believes comes
from the events workbook.suite_events records, never from the child's exit code or its output.
`run` is the one function that starts a child, through workbook.sandbox.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from workbook import sandbox
from workbook.sandbox import Limits, Outcome

TEST_SECONDS = 30  # a test that runs longer fails (pytest-timeout, in the child)
RUN_SECONDS = 60  # the whole run is killed after this (the backstop when a test escapes the timeout)
# The settings the contract gives a learner's suite (CURRICULUM.md, "From 06").
CHEAP_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8192", "ARGON2_PARALLELISM": "1"}


# --- the one place that starts a learner's code: the sandbox ------------------------------------------

# The child imports workbook.suite_events, which the sandbox must let it read (an editable install
# lives in the repository, which the sandbox otherwise hides).
WORKBOOK_PACKAGE = Path(__file__).resolve().parent


def run(
    argv: list[str], *, workdir: Path, env: dict[str, str], limits: Limits, writable: tuple[Path, ...] = ()
) -> Outcome:
    """Run argv in the sandbox (workbook.sandbox): exactly `env`, its own session, rlimits, and under
    bubblewrap a read-only system, a private /tmp, no network and another uid; killed whole at the end."""
    return sandbox.run(argv, workdir=workdir, env=env, limits=limits, writable=writable, readable=(WORKBOOK_PACKAGE,))


# --- one run of a learner's suite ------------------------------------------------------------------


@dataclass
class TestOutcome:
    nodeid: str
    outcome: str = "started"  # then "passed", "failed" or "skipped", over its setup, call and teardown
    message: str = ""  # the first failure's one-line summary
    timed_out: bool = False

    @property
    def name(self) -> str:
        return self.nodeid.rsplit("::", 1)[-1]

    @property
    def file(self) -> str:
        return self.nodeid.split("::", 1)[0]


@dataclass
class SuiteRun:
    outcome: Outcome
    collected: list[str] | None = None  # None: collection never finished
    tests: dict[str, TestOutcome] = field(default_factory=dict)
    collect_errors: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False  # pytest reached the end of its session
    running: str | None = None  # the test that had started and not ended when the run stopped

    def with_outcome(self, outcome: str) -> list[TestOutcome]:
        return [test for test in self.tests.values() if test.outcome == outcome]

    @property
    def caught_by(self) -> list[TestOutcome]:
        """The tests that failed other than by timing out."""
        return [test for test in self.with_outcome("failed") if not test.timed_out]


def child_env(scratch: Path) -> dict[str, str]:
    """The child's whole environment: the settings the contract names, PATH, and a scratch HOME."""
    (scratch / "home").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "HOME": str(scratch / "home"),
        "DATABASE_URL": f"sqlite:///{scratch / 'database' / 'test.db'}",
        "SECRET_KEY": secrets.token_hex(32),
        **CHEAP_ARGON2,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",  # only the plugins named on the command line
    }


def pytest_argv(copy: Path, scratch: Path, paths=("tests",), extra=()) -> list[str]:
    """`python -m pytest` over the learner's tests, configured by the grader alone."""
    config = scratch / "pytest.ini"
    config.write_text("[pytest]\n")  # empty: no addopts, no plugins, nothing of the submission's
    return [
        sys.executable, "-m", "pytest", *paths, "-c", str(config), "--rootdir", str(copy), "--confcutdir", str(copy),
        "-p", "no:cacheprovider", "-p", "anyio.pytest_plugin", "-p", "pytest_timeout", "-p", "workbook.suite_events",
        "--timeout", str(TEST_SECONDS), "--timeout-method", "signal", "--basetemp", str(scratch / "tmp"),
        "--workbook-events", str(scratch / "events.jsonl"), "--workbook-stop-file", str(scratch / "stop"), *extra,
    ]  # fmt: skip


def run_tests(
    copy: Path, scratch: Path, paths=("tests",), extra=(), seconds: float = RUN_SECONDS, enough=None
) -> SuiteRun:
    """Run the suite in `copy` (app/ and tests/, nothing else) once; scratch holds everything else.

    enough(event) -> bool, when given, is asked about each event as the child writes it; the first
    True makes the run stop after the test in progress (the child sees this only afterwards).
    """
    (scratch / "database").mkdir(parents=True, exist_ok=True)
    argv = pytest_argv(copy, scratch, paths, extra)
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(scratch, enough, done), daemon=True)
    if enough is not None:
        watcher.start()
    try:
        outcome = run(argv, workdir=copy, env=child_env(scratch), limits=Limits(seconds), writable=(copy, scratch))
    finally:
        done.set()
    return read_events(scratch / "events.jsonl", outcome)


def _watch(scratch: Path, enough, done: threading.Event) -> None:
    """Follow the child's events; create the stop file once `enough` says so."""
    events, seen = scratch / "events.jsonl", 0
    while not done.wait(0.05):
        lines = events.read_text(encoding="utf-8", errors="replace").splitlines() if events.exists() else []
        for line in lines[seen:]:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                break  # written halfway: read it again next time
            seen += 1
            if enough(event):
                (scratch / "stop").touch()
                return


def read_events(path: Path, outcome: Outcome) -> SuiteRun:
    """What the child's events say it did, test by test (a failure in any phase fails the test)."""
    found = SuiteRun(outcome)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        kind = event.get("event")
        if kind == "collected":
            found.collected = list(event["nodeids"])
        elif kind == "collect_error":
            found.collect_errors.append((event["nodeid"], event["message"]))
        elif kind == "start":
            found.running = event["nodeid"]
            found.tests.setdefault(event["nodeid"], TestOutcome(event["nodeid"]))
        elif kind == "report":
            _record(found, event)
        elif kind == "finish":
            found.finished = True
    return found


def _record(found: SuiteRun, event: dict) -> None:
    test = found.tests.setdefault(event["nodeid"], TestOutcome(event["nodeid"]))
    if event["outcome"] == "failed" and test.outcome != "failed":
        test.outcome, test.message, test.timed_out = "failed", event["message"], bool(event.get("timed_out"))
    elif event["outcome"] == "skipped" and test.outcome == "started":
        test.outcome = "skipped"
    elif event["when"] == "call" and test.outcome == "started":
        test.outcome = "passed"
    if event["when"] == "teardown" and found.running == test.nodeid:
        found.running = None
