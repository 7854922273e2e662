"""Mutation testing for lesson 06: the learner's own tests/ must pass on correct apps and fail on planted bugs.

A target is one app: the learner's own, the reference, or the reference with one planted bug
(milestone/planted_bugs.toml). Each target runs the learner's tests/ in a fresh copy of its own (that
app/ and the tests/, nothing else of the submission) and a fresh process (workbook.suite_run), on
every core at once. The two correct targets run first: a bug is caught only by a test that passed on
the reference, so nothing is run on the bugs until the suite passes somewhere and ends in time there,
and a run on a bug stops once such a test has failed on it.
Every run is the same command; the copies differ at random (a comment line in each app file, fresh
file times, a random folder), so a suite cannot tell the reference from a bug by its files or its
arguments. (Telling them apart through the shared file system, say by counting runs in /tmp, is what
the sandbox's private /tmp and read-only system close: see workbook.suite_run.run.)
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workbook.appfiles import IGNORED_NAMES
from workbook.loader import display_path
from workbook.suite_run import RUN_SECONDS, TEST_SECONDS, SuiteRun, TestOutcome, run_tests

PLANTED_BUGS = "planted_bugs.toml"
GRADE_SECONDS = 200  # no planted-bug run starts later than this after grading began
YOURS, REFERENCE = "your app", "the reference app"
SHOWN = 5  # failing tests named in one message


def planted_bugs(suite: Path) -> list[dict]:
    """The planted bugs beside a milestone suite: [{"id", "bug", "edit": [{"file", "find", "replace"}]}]."""
    return tomllib.loads((Path(suite) / PLANTED_BUGS).read_text(encoding="utf-8"))["mutant"]


def plant(folder: Path, mutant: dict) -> Path:
    """Apply a planted bug's edits to the files under folder; each `find` must occur exactly once."""
    for edit in mutant["edit"]:
        target = Path(folder) / edit["file"]
        source = target.read_text(encoding="utf-8")
        if source.count(edit["find"]) != 1:
            raise ValueError(
                f"{mutant['id']}: the text to replace occurs {source.count(edit['find'])} times in "
                f"{edit['file']}, not once. Update the planted bug to the app as it is now."
            )
        target.write_text(source.replace(edit["find"], edit["replace"]), encoding="utf-8")
    return Path(folder)


def make_copy(app: Path, tests: Path, scratch: Path, bug: dict | None = None) -> Path:
    """scratch/work holding a copy of `app` (with `bug` planted) as app/ and of `tests` as tests/."""
    copy = scratch / "work"
    ignore = shutil.ignore_patterns(*IGNORED_NAMES)
    shutil.copytree(app, copy / "app", ignore=ignore, copy_function=shutil.copy)  # copy: fresh times for every file
    shutil.copytree(tests, copy / "tests", ignore=ignore, copy_function=shutil.copy)
    if bug is not None:
        plant(copy, bug)
    for path in sorted((copy / "app").rglob("*.py")):
        with path.open("a", encoding="utf-8") as file:
            file.write(f"\n# {secrets.token_hex(8 + secrets.randbelow(24))}\n")
    return copy


def run_target(
    app: Path,
    tests: Path,
    scratch: Path,
    bug: dict | None = None,
    paths=("tests",),
    seconds: float = RUN_SECONDS,
    catchers: set[str] | None = None,
) -> tuple[SuiteRun, Path]:
    """The learner's tests run once on `app` (with `bug` planted), in a new random folder under scratch;
    with `catchers`, the run stops once one of those tests has failed (not by timing out)."""
    place = Path(tempfile.mkdtemp(dir=scratch))
    copy = make_copy(app, tests, place, bug)
    enough = None
    if catchers is not None:

        def enough(event: dict) -> bool:
            return (
                event.get("event") == "report"
                and event.get("outcome") == "failed"
                and not event.get("timed_out")
                and event.get("nodeid") in catchers
            )

    return run_tests(copy, place, paths=paths, seconds=seconds, enough=enough), copy


@dataclass
class Grade:
    where: str  # the submission, named for the learner
    bugs: list[dict]
    runs: dict[str, SuiteRun | None] = field(default_factory=dict)  # YOURS, REFERENCE, each bug id (None: not run)
    copies: dict[str, Path] = field(default_factory=dict)
    no_tests: str | None = None  # why no test of the learner's could run at all

    def baseline(self) -> list[str]:
        """The tests that passed on the reference app: the only ones that can catch a planted bug."""
        run = self.runs.get(REFERENCE)
        return [test.nodeid for test in run.with_outcome("passed")] if run else []

    def bugs_ungraded(self) -> str | None:
        """Why the planted bugs cannot be graded yet (then none is run), or None."""
        run = self.runs.get(REFERENCE)
        if self.no_tests or run is None:
            return "no test of yours could run: see test_your_tests_pass_on_your_app"
        if not run.finished or any(test.timed_out for test in run.tests.values()):
            return (
                "your tests did not run to their end in time on the reference app: "
                "see test_your_tests_pass_on_the_reference_app"
            )
        if not self.baseline():
            return "no test of yours passes on the reference app yet: see test_your_tests_pass_on_the_reference_app"
        return None


def grade(submission: Path, reference: Path, bugs: list[dict], scratch: Path, workers: int | None = None) -> Grade:
    """Run submission/tests on submission/app, on reference/app, then on each planted bug (in parallel)."""
    submission, tests = Path(submission).resolve(), Path(submission).resolve() / "tests"
    result = Grade(display_path(submission), bugs)
    if not tests.is_dir():
        result.no_tests = (
            f"There is no tests/ folder in {result.where}. Lesson 06 has you write your own suite "
            "there: tests/conftest.py and tests/test_*.py."
        )
        return result
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for key, (run, copy) in zip(
            (YOURS, REFERENCE),
            pool.map(lambda app: run_target(app, tests, scratch), (submission / "app", Path(reference) / "app")),
            strict=True,
        ):
            result.runs[key], result.copies[key] = run, copy
        if not any(run.collected or run.collect_errors for run in result.runs.values()):
            result.no_tests = nothing_collected(result)
            return result
        if result.bugs_ungraded():
            return result
        baseline = set(result.baseline())

        def on_bug(bug: dict) -> SuiteRun | None:
            seconds = min(RUN_SECONDS, started + GRADE_SECONDS - time.monotonic())
            if seconds <= 5:
                return None
            return run_target(Path(reference) / "app", tests, scratch, bug, seconds=seconds, catchers=baseline)[0]

        result.runs.update(zip([bug["id"] for bug in bugs], pool.map(on_bug, bugs), strict=True))
    return result


def nothing_collected(result: Grade) -> str:
    run = result.runs[YOURS]
    if run.collected is None:  # pytest stopped before collecting: a conftest that does not import, say
        return f"Your tests did not start on {YOURS}: {stopped_because(run, result.copies[YOURS])}"
    return (
        f"pytest found no tests in tests/ of {result.where}. Name the files test_*.py, and the functions "
        "in them test_*."
    )


# --- what the learner is told ----------------------------------------------------------------------


def named(test: TestOutcome) -> str:
    return f"`{test.name}` ({test.file})"


def indented(message: str, lines: int = 2) -> str:
    """The first lines of a child's message, the second indented (a line must never start with `assert`)."""
    kept = [line.strip() for line in message.strip().splitlines() if line.strip()][:lines]
    return "\n    ".join(kept)


def stopped_because(run: SuiteRun, copy: Path | None) -> str:
    """The last thing pytest said before it stopped, with the copy's folder taken out of paths."""
    lines = [line for line in (run.outcome.stderr + run.outcome.stdout).strip().splitlines() if line.strip()]
    last = "\n    ".join(lines[-3:]) or f"it said nothing (exit code {run.outcome.returncode})"
    return last.replace(f"{copy}/", "") if copy else last


def problem_on(result: Grade, key: str) -> str | None:
    """Why the learner's tests do not pass on a correct app (YOURS or REFERENCE); None when they do."""
    run, copy = result.runs.get(key), result.copies.get(key)
    if result.no_tests or run is None:
        return result.no_tests
    if run.outcome.verdict == "timed out":
        if run.running:
            test = run.tests[run.running]
            return (
                f"Your tests did not finish within {RUN_SECONDS} s on {key}: {named(test)} was still running when "
                f"they were stopped. A test must finish in {TEST_SECONDS} s: look for a loop that never ends or "
                "a wait for something that never comes."
            )
        return (
            f"Your tests did not finish within {RUN_SECONDS} s on {key}, though every test had ended: something "
            "they started (a thread, a server, a process) kept pytest from exiting."
        )
    if run.collect_errors:
        nodeid, message = run.collect_errors[0]
        return f"pytest could not collect {nodeid} on {key}:\n    {indented(message)}"
    failed = run.with_outcome("failed")
    if failed:
        return failing_tests(result, key, failed)
    if not run.finished:
        where = f" while {named(run.tests[run.running])} was running" if run.running else ""
        return (
            f"Your tests stopped before the end on {key} (exit code {run.outcome.returncode}){where}:\n    "
            f"{stopped_because(run, copy)}"
        )
    if not run.with_outcome("passed"):
        return (
            f"None of your tests passed on {key}: {len(run.tests)} ran, and each was skipped. At least one must pass."
        )
    return None


def failing_tests(result: Grade, key: str, failed: list[TestOutcome]) -> str:
    def why(test: TestOutcome) -> str:
        if test.timed_out:
            return (
                f"it did not finish within {TEST_SECONDS} s: look for a loop that never ends or a wait for "
                "something that never comes"
            )
        return indented(test.message)

    if len(failed) == 1:
        return f"Your test {named(failed[0])} fails on {key}: {why(failed[0])}\n{advice(result, key, failed)}"
    lines = [f"- {named(test)}: {why(test)}" for test in failed[:SHOWN]]
    more = [f"- and {len(failed) - SHOWN} more."] if len(failed) > SHOWN else []
    return "\n".join([f"{len(failed)} of your tests fail on {key}:", *lines, *more, advice(result, key, failed)])


def advice(result: Grade, key: str, failed: list[TestOutcome]) -> str:
    these = "this test expects" if len(failed) == 1 else "these tests expect"
    if key == REFERENCE:
        return (
            f"The reference app keeps the contract, so {these} something the contract leaves open (the wording of "
            "a message, 400 where 401 is allowed too, a claim in the token): test what the contract promises."
        )
    reference = result.runs.get(REFERENCE)
    passed_there = {test.nodeid for test in reference.with_outcome("passed")} if reference else set()
    if all(test.nodeid in passed_there for test in failed):
        passes = "it passes" if len(failed) == 1 else "they pass"
        return f"On the reference app {passes}: your app breaks the contract there."
    return "The reference app fails some of them too: its check says why."


def bug_verdict(result: Grade, bug: dict) -> tuple[bool, str]:
    """(caught, what to tell the learner) for one planted bug."""
    if result.bugs_ungraded():
        return False, f"Your tests could not be run on this bug ({bug['bug']}): {result.bugs_ungraded()}."
    run = result.runs.get(bug["id"])
    if run is None:
        return False, (
            f"Your tests were not run on this bug ({bug['bug']}): grading ran out of time ({GRADE_SECONDS} s)."
        )
    baseline = set(result.baseline())
    caught_by = [test for test in run.caught_by if test.nodeid in baseline]
    if caught_by:
        return True, f"Caught by {named(caught_by[0])}: {bug['bug']}."
    why = [
        f"{named(test)} timed out on it, and a time-out is not a catch"
        for test in run.with_outcome("failed")
        if test.timed_out and test.nodeid in baseline
    ]
    if run.collect_errors:
        why.append(f"pytest could not collect {run.collect_errors[0][0]} on it, and a collection error is not a catch")
    elif run.outcome.verdict == "timed out" or not run.finished:
        why.append("the run stopped before its end, and a crash or a time-out is not a catch")
    because = f" ({'; '.join(why)})" if why else ""
    return False, f"Your tests miss this bug: {bug['bug']}{because}. Write a test that fails when {bug['bug']}."
