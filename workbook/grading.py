"""Run a lesson's milestone suite against a folder, in a fresh pytest process, and read the results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbook.lessons import REPO, Lesson

# Only the plugins a suite needs: pytest starts in about half the time without auto-loading.
FAST_PYTEST = ["-p", "workbook.plugin", "-p", "no:cacheprovider", "-q", "--no-header"]


@dataclass
class Failure:
    test: str
    message: str


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

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def suite_command(lesson: Lesson, app_dir: Path, extra_args=()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(lesson.suite),
        "--app-dir",
        str(Path(app_dir).resolve()),
        *FAST_PYTEST,
        *extra_args,
    ]


def scratch_parent() -> str | None:
    """Where grading's throwaway files go: a memory-backed folder when there is a roomy one (Linux's
    /dev/shm), since each test creates and commits to fresh SQLite files; else the usual temp folder."""
    shm = Path("/dev/shm")
    try:
        roomy = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > 512 * 2**20
    except OSError:
        roomy = False
    return str(shm) if roomy else None


def run_suite(lesson: Lesson, app_dir: Path, extra_args=(), timeout: float = 300) -> SuiteResult:
    """Grade app_dir against lesson's milestone suite; never raises for a broken app."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbook-grade-", dir=scratch_parent()) as scratch:
        report = Path(scratch) / "report.json"
        # Its own --basetemp: concurrent pytest runs must not prune each other's temporary folders.
        own = ["--workbook-report", str(report), "--basetemp", str(Path(scratch) / "tmp")]
        command = suite_command(lesson, app_dir, [*extra_args, *own])
        env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        env.pop("WORKBOOK_APP_DIR", None)
        try:
            done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return SuiteResult(
                exit_code=2,
                load_error=f"The suite did not finish within {timeout:g} s.",
                seconds=time.monotonic() - started,
            )
        result = SuiteResult(
            exit_code=done.returncode, seconds=time.monotonic() - started, output=done.stdout + done.stderr
        )
        if report.exists():
            _read_report(json.loads(report.read_text()), result)
        elif done.returncode != 0:
            result.load_error = (done.stdout + done.stderr).strip()[-2000:] or "pytest stopped without a report."
    return result


def _read_report(data: dict, result: SuiteResult) -> None:
    tests = data.get("tests", [])
    result.total = len(tests)
    result.passed = sum(test["outcome"] == "passed" for test in tests)
    result.failures = [Failure(test["name"], test["message"]) for test in tests if test["outcome"] == "failed"]
    result.failed = len(result.failures)
    if data.get("load_errors"):
        result.load_error = "\n".join(data["load_errors"])
