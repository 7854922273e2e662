"""Run a lesson's milestone suite against a folder, in a fresh pytest process, and read the results.

The pytest process is the grader's own: it runs no learner code (each load of the app is a child in the
sandbox), its configuration is pinned (workbook/grading.ini, its root the course, no conftest.py above the
suite), and what it reports is the only thing believed. Its verdict follows workbook.verdicts, one policy for
`pytest --app-dir`, `workbook check`, `workbook grade` and the notebook. A run that does not finish in time is
killed with everything it started and reported as timed out, with the tests that had finished.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbook import verdicts
from workbook.lessons import Lesson

# Only the plugins a suite needs: pytest starts in about half the time without auto-loading.
FAST_PYTEST = ["-p", "workbook.plugin", "-p", "no:cacheprovider", "-q", "--no-header"]
GRADING_INI = Path(__file__).with_name("grading.ini")
RUN_SECONDS = 120  # a whole run of a milestone suite, at most
LONG_RUN_SECONDS = 300  # lesson 06's: it runs the learner's tests on the reference and on every planted bug
OUTPUT_CHARACTERS = 200_000


@dataclass
class Failure:
    test: str
    message: str


@dataclass
class TestResult:
    nodeid: str
    name: str
    outcome: str  # "passed", "failed", "skipped", or "not run"
    message: str = ""


@dataclass
class SuiteResult:
    exit_code: int
    passed: int = 0
    failed: int = 0
    total: int = 0
    failures: list[Failure] = field(default_factory=list)
    load_error: str | None = None
    seconds: float = 0.0
    output: str = ""
    verdict: str = ""  # workbook.verdicts: "passed", "failed", "could not load", "timed out", ...
    isolation: str = ""  # how the app's code ran: "bubblewrap" or "process"
    tests: list[TestResult] = field(default_factory=list)  # every test of the suite, in its order

    def __post_init__(self) -> None:
        if not self.verdict:  # a result made without a report (a stub): its exit code says enough
            codes = {0: verdicts.PASSED, 1: verdicts.FAILED, 2: verdicts.COULD_NOT_LOAD}
            self.verdict = (
                verdicts.COULD_NOT_LOAD if self.load_error else codes.get(self.exit_code, verdicts.GRADER_ERROR)
            )

    @property
    def ok(self) -> bool:
        return self.verdict == verdicts.PASSED


def suite_command(lesson: Lesson, app_dir: Path, extra_args=()) -> list[str]:
    """pytest on the lesson's suite, configured by the workbook alone: `-c grading.ini`, the course as its root,
    no conftest.py above the suite, and the folder given as --app-dir=PATH (one word: never read as a test path)."""
    return [
        sys.executable, "-m", "pytest", str(lesson.suite), f"--app-dir={Path(app_dir).resolve()}",
        "-c", str(GRADING_INI), f"--rootdir={lesson.course.root}", f"--confcutdir={lesson.suite}",
        *FAST_PYTEST, *extra_args,
    ]  # fmt: skip


def scratch_parent() -> str | None:
    """Where grading's throwaway files go: a memory-backed folder when there is a roomy one (Linux's
    /dev/shm), since each test creates and commits to fresh SQLite files; else the usual temp folder."""
    shm = Path("/dev/shm")
    try:
        roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 512 * 2**20
    except OSError:
        roomy = False
    return str(shm) if roomy else None


def run_seconds(lesson: Lesson) -> float:
    return LONG_RUN_SECONDS if (lesson.suite / "planted_bugs.toml").is_file() else RUN_SECONDS


def grading_environment() -> dict[str, str]:
    """The grading pytest's environment: this one's, less what would change how pytest or the grading runs."""
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for name in ("WORKBOOK_APP_DIR", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONPATH", "PYTHONSTARTUP"):
        env.pop(name, None)
    return env


def run_suite(lesson: Lesson, app_dir: Path, extra_args=(), timeout: float | None = None) -> SuiteResult:
    """Grade app_dir against lesson's milestone suite; never raises for a broken app."""
    timeout = run_seconds(lesson) if timeout is None else timeout
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbook-grade-", dir=scratch_parent()) as scratch:
        report = Path(scratch) / "report.json"
        # Its own --basetemp: concurrent pytest runs must not prune each other's temporary folders.
        own = ["--workbook-report", str(report), "--basetemp", str(Path(scratch) / "tmp")]
        host = _start_host(app_dir, network="--postgres" in extra_args)
        handed, fd = host.handoff() if host is not None else (None, None)
        extra = [*extra_args, *own, *([f"--workbook-host={handed}"] if handed else [])]
        command = suite_command(lesson, app_dir, extra)
        try:
            process = subprocess.Popen(
                command,
                cwd=lesson.course.root,
                env=grading_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                start_new_session=True,  # its own group: a run out of time is ended with all it started
                pass_fds=(fd,) if fd is not None else (),
            )
        finally:
            if host is not None:
                host.release_session()  # pytest holds it now: the zygote ends when pytest does
        timed_out = False
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(process.pid)
            stdout, stderr = process.communicate()
        finally:
            if host is not None:
                host.close(wait=0.2)  # pytest is done with it: no need to wait long for it to go
        output = (stdout + stderr)[-OUTPUT_CHARACTERS:]
        return read_result(report, process.returncode, timed_out, timeout, output, time.monotonic() - started)


def _start_host(app_dir: Path, network: bool = False):
    """The graded folder's sandbox, its zygote booting while pytest starts (handed to it: --workbook-host)."""
    from workbook.sandbox_apps import AppHost

    try:
        return AppHost(Path(app_dir), listen=False, network=network)
    except (OSError, RuntimeError, ValueError):
        return None  # pytest starts its own, and says what is wrong with it


def _kill_group(group: int) -> None:
    for signum in (signal.SIGKILL,):
        try:
            os.killpg(group, signum)
        except (ProcessLookupError, PermissionError):
            pass


def read_result(report: Path, returncode: int, timed_out: bool, timeout: float, output: str, seconds: float):
    """The result of a run, from the report its pytest wrote (or, killed, from what it had written so far)."""
    data = _load_json(report) if report.exists() else None
    if data is None or not data.get("complete"):
        return _incomplete(report, returncode, timed_out, timeout, output, seconds)
    tests = _tests(data.get("expected", []), data.get("tests", []))
    verdict = data.get("verdict") or verdicts.GRADER_ERROR
    if verdicts.exit_code(verdict) != returncode:  # the process ended otherwise than its report says
        verdict = verdicts.GRADER_ERROR
    load_error = "\n".join([*data.get("load_errors", []), *data.get("grader_errors", [])]) or None
    if verdict == verdicts.GRADER_ERROR and not load_error:
        load_error = f"The grading run ended with exit code {returncode}: {_last_lines(output)}"
    return _result(verdict, tests, load_error, data.get("isolation", ""), output, seconds)


def _incomplete(report: Path, returncode: int, timed_out: bool, timeout: float, output: str, seconds: float):
    expected, finished = [], []
    partial = Path(f"{report}.partial")
    lines = partial.read_text(encoding="utf-8", errors="replace").splitlines() if partial.exists() else []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "collected":
            expected = event.get("expected", [])
        elif event.get("event") == "result":
            finished.append(event)
    tests = _tests(expected, finished)
    if timed_out:
        done = sum(test.outcome != "not run" for test in tests)
        message = (
            f"The run did not finish within {timeout:g} s and was stopped, with everything it started; "
            f"{done} of {len(tests)} tests had finished. Look for a route or a startup that never ends."
        )
        return _result(verdicts.TIMED_OUT, tests, message, "", output, seconds)
    message = f"The grading run ended without its report (exit code {returncode}): {_last_lines(output)}"
    return _result(verdicts.GRADER_ERROR, tests, message, "", output, seconds)


def _last_lines(output: str) -> str:
    return "\n".join(output.strip().splitlines()[-8:])[-2000:] or "(no output)"


def _read_report(data: dict, result: SuiteResult) -> None:
    """Fill `result` from a report's data, for a caller that ran pytest itself (lesson 08's earlier suites)."""
    expected = data.get("expected") or [test.get("nodeid") for test in data.get("tests", [])]
    load_error = "\n".join([*data.get("load_errors", []), *data.get("grader_errors", [])]) or None
    verdict = data.get("verdict") or (verdicts.COULD_NOT_LOAD if load_error else "")
    judged = _result(verdict or verdicts.FAILED, _tests(expected, data.get("tests", [])), load_error, "", "", 0.0)
    if not data.get("verdict") and result.exit_code == 0 and not load_error:
        judged = _result(verdicts.PASSED, judged.tests, None, "", "", 0.0)
    for name in ("passed", "failed", "total", "failures", "load_error", "verdict", "isolation", "tests"):
        setattr(result, name, getattr(judged, name))
    result.isolation = data.get("isolation", "")


def _load_json(path: Path):
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _tests(expected: list, results: list) -> list[TestResult]:
    """Every expected test, in order, with its outcome ("not run" for one that has none)."""
    found = {each.get("nodeid"): each for each in results if isinstance(each, dict)}
    tests = []
    for nodeid in expected:
        each = found.get(nodeid, {})
        tests.append(
            TestResult(
                nodeid,
                str(each.get("name") or str(nodeid).rsplit("::", 1)[-1]),
                str(each.get("outcome") or "not run"),
                str(each.get("message") or ""),
            )
        )
    return tests


def _result(verdict: str, tests: list[TestResult], load_error, isolation: str, output: str, seconds: float):
    failures = [Failure(test.name, test.message) for test in tests if test.outcome == "failed"]
    if not failures and verdict != verdicts.PASSED and not load_error:  # nothing failed, yet not all passed: say why
        failures = [
            Failure(
                test.name, test.message or f"This test {'was skipped' if test.outcome == 'skipped' else 'did not run'}."
            )
            for test in tests
            if test.outcome in ("skipped", "not run")
        ]
    return SuiteResult(
        exit_code=verdicts.exit_code(verdict),
        passed=sum(test.outcome == "passed" for test in tests),
        failed=len(failures),
        total=len(tests),
        failures=failures,
        load_error=load_error
        if verdict in (verdicts.COULD_NOT_LOAD, verdicts.TIMED_OUT, verdicts.GRADER_ERROR)
        else None,
        seconds=seconds,
        output=output,
        verdict=verdict,
        isolation=isolation,
        tests=tests,
    )
