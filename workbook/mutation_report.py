"""What the learner is told of a lesson 06 grade (workbook.mutation): why their tests do not pass on a
correct app, and for each planted bug whether they caught it, in the contract's words."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from workbook.suite_run import RUN_SECONDS, TEST_SECONDS, SuiteRun, TestOutcome

if TYPE_CHECKING:
    from workbook.mutation import Grade

YOURS, REFERENCE = "your app", "the reference app"
SHOWN = 5  # failing tests named in one message
GRADE_SECONDS = 200  # no planted-bug run starts later than this after grading began


def nothing_collected(result: Grade) -> str:
    run = result.runs[YOURS]
    if run.collected is None:  # pytest stopped before collecting: a conftest that does not import, say
        return f"Your tests did not start on {YOURS}: {stopped_because(run, result.copies[YOURS])}"
    return (
        f"pytest found no tests in tests/ of {result.where}. Name the files test_*.py, and the functions "
        "in them test_*."
    )


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
