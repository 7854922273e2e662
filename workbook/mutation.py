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

from workbook import mutation_report
from workbook.appfiles import IGNORED_NAMES
from workbook.loader import display_path
from workbook.mutation_report import GRADE_SECONDS, REFERENCE, YOURS
from workbook.suite_run import RUN_SECONDS, SuiteRun, run_tests

PLANTED_BUGS = "planted_bugs.toml"


def planted_bugs(suite: Path) -> list[dict]:
    """The planted bugs beside a milestone suite: [{"id", "bug", "edit": [{"file", "find", "replace"}]}]."""
    return tomllib.loads((Path(suite) / PLANTED_BUGS).read_text(encoding="utf-8"))["mutant"]


def planted_sources(folder: Path, mutant: dict) -> dict[str, str]:
    """The files under folder that a planted bug changes, with its edits applied (nothing is written);
    each `find` must occur exactly once."""
    sources: dict[str, str] = {}
    for edit in mutant["edit"]:
        source = sources.get(edit["file"]) or (Path(folder) / edit["file"]).read_text(encoding="utf-8")
        if source.count(edit["find"]) != 1:
            raise ValueError(
                f"{mutant['id']}: the text to replace occurs {source.count(edit['find'])} times in "
                f"{edit['file']}, not once. Update the planted bug to the app as it is now."
            )
        sources[edit["file"]] = source.replace(edit["find"], edit["replace"])
    return sources


def plant(folder: Path, mutant: dict) -> Path:
    """Apply a planted bug's edits to the files under folder."""
    for name, source in planted_sources(folder, mutant).items():
        (Path(folder) / name).write_text(source, encoding="utf-8")
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
    for bug in bugs:  # a bug that no longer fits the reference is the grader's error: said before any run
        planted_sources(Path(reference), bug)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for key, (run, copy) in zip(
            (YOURS, REFERENCE),
            pool.map(lambda app: run_target(app, tests, scratch), (submission / "app", Path(reference) / "app")),
            strict=True,
        ):
            result.runs[key], result.copies[key] = run, copy
        if not any(run.collected or run.collect_errors for run in result.runs.values()):
            result.no_tests = mutation_report.nothing_collected(result)
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
