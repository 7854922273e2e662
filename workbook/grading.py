"""Run a lesson's milestone suite against a folder, in a fresh pytest process, and read the results.

check_lesson (what `workbook check` and `lesson.check()` run) adds the earlier suites the lesson's app keeps, in
the same process (workbook.keeps); run_suite alone is what `workbook grade` and the instructor's tools run.

The pytest process is the grader's own: it runs no learner code (each load of the app is a child in the
sandbox), its configuration is pinned (workbook/grading.ini, its root the course, no conftest.py above the
suite), and what it reports is the only thing believed. Its verdict follows workbook.verdicts, one policy for
`pytest --app-dir`, `workbook check`, `workbook grade` and the notebook. A run that does not finish in time is
killed with everything it started and reported as timed out, with the tests that had finished (what a run
found, and how its report is read: workbook.suite_result).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.keeps import merged, separate_keeps, suite_arguments
from workbook.lessons import Lesson
from workbook.suite_result import SuiteResult, read_result

# Only the plugins a suite needs: pytest starts in about half the time without auto-loading.
FAST_PYTEST = ["-p", "workbook.plugin", "-p", "no:cacheprovider", "-q", "--no-header"]
GRADING_INI = Path(__file__).with_name("grading.ini")
RUN_SECONDS = 120  # a whole run of a milestone suite, at most
LONG_RUN_SECONDS = 300  # lesson 06's: it runs the learner's tests on the reference and on every planted bug
OUTPUT_CHARACTERS = 200_000


def suite_command(lesson: Lesson, app_dir: Path, extra_args=(), keeps: bool = False) -> list[str]:
    """pytest on the lesson's suite, configured by the workbook alone: `-c grading.ini`, the course as its root,
    no conftest.py above the suites, and the folder given as --app-dir=PATH (one word: never read as a test path).

    keeps: the earlier suites its app keeps too, in the same process (workbook.keeps.suite_arguments)."""
    suites = suite_arguments(lesson) if keeps else [str(lesson.suite)]
    paths = [Path(each) for each in suites if not each.startswith("--")]
    above = Path(os.path.commonpath(paths)) if len(paths) > 1 else lesson.suite  # checkpoints/: no conftest.py
    return [
        sys.executable, "-m", "pytest", *suites, f"--app-dir={Path(app_dir).resolve()}",
        "-c", str(GRADING_INI), f"--rootdir={lesson.course.root}", f"--confcutdir={above}",
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


def check_lesson(
    lesson: Lesson, app_dir: Path, extra_args=(), timeout: float | None = None, exercise: str | None = None
) -> SuiteResult:
    """What `workbook check` and `lesson.check()` run: the lesson's suite and the earlier suites its app keeps, in
    one pytest process (one zygote, the spares, one sign-up of Ada and Bob; workbook.keeps). A kept suite that
    needs options of its own beyond --api-prefix and --as-user runs after, in a process of its own.

    exercise: only that exercise's checks (workbook.exercises; UnknownExercise for a name the lesson lacks)."""
    if exercise is not None:
        from workbook.exercises import find_exercise

        name = find_exercise(lesson, exercise).name
        return run_suite(lesson, app_dir, [*extra_args, f"--exercise={name}"], timeout)
    result = run_suite(lesson, app_dir, extra_args, timeout, keeps=True)
    for slug, options in separate_keeps(lesson):
        if result.load_error:
            break
        result = merged(result, run_suite(lesson.course.find(slug), app_dir, [*extra_args, *options], timeout))
    return result


def run_suite(
    lesson: Lesson, app_dir: Path, extra_args=(), timeout: float | None = None, keeps: bool = False
) -> SuiteResult:
    """Grade app_dir against lesson's milestone suite (keeps: and the earlier ones its app keeps, in the same
    process); never raises for a broken app."""
    timeout = (run_seconds(lesson) * (2 if keeps else 1)) if timeout is None else timeout
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="workbook-grade-", dir=scratch_parent()) as scratch:
        report = Path(scratch) / "report.json"
        # Its own --basetemp: concurrent pytest runs must not prune each other's temporary folders.
        own = ["--workbook-report", str(report), "--basetemp", str(Path(scratch) / "tmp")]
        host = _start_host(app_dir, network="--postgres" in extra_args)
        handed, fd = host.handoff() if host is not None else (None, None)
        extra = [*extra_args, *own, *([f"--workbook-host={handed}"] if handed else [])]
        command = suite_command(lesson, app_dir, extra, keeps=keeps)
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
        result = read_result(report, process.returncode, timed_out, timeout, output, time.monotonic() - started)
        result.lesson = lesson.slug
        return result


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
