"""What a grading run found: a SuiteResult, read from the report its pytest wrote (workbook.plugin_results).

A run killed before it finished leaves only its partial report (one line per finished test): the result is then
"timed out" or a grader error, with the tests that had finished. workbook.grading runs the suite and reads its
result here; the verdicts follow workbook.verdicts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from workbook import verdicts
from workbook.keeps import suite_of


@dataclass
class Failure:
    test: str
    message: str
    suite: str = ""  # the checkpoint slug of its suite: the lesson's own, or one its app keeps (workbook.keeps)
    kind: str = "answer"  # how basic it is (workbook.diagnoses.KINDS): "route", "crash" or "answer"


@dataclass
class TestResult:
    nodeid: str
    name: str
    outcome: str  # "passed", "failed", "skipped", or "not run"
    message: str = ""
    kind: str = ""  # a failure's kind (workbook.diagnoses.KINDS)

    @property
    def suite(self) -> str:
        return suite_of(self.nodeid) or ""


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
    lesson: str = ""  # the slug of the lesson graded (workbook.grading.run_suite sets it)
    advice: list[str] = field(default_factory=list)  # warnings for the learner, never failures (workbook.advice)

    def __post_init__(self) -> None:
        if not self.verdict:  # a result made without a report (a stub): its exit code says enough
            codes = {0: verdicts.PASSED, 1: verdicts.FAILED, 2: verdicts.COULD_NOT_LOAD}
            self.verdict = (
                verdicts.COULD_NOT_LOAD if self.load_error else codes.get(self.exit_code, verdicts.GRADER_ERROR)
            )

    @property
    def ok(self) -> bool:
        return self.verdict == verdicts.PASSED

    @property
    def suites(self) -> dict[str, list[int]]:
        """slug -> [passed, total] of each suite that ran, the lesson's own first ({} for a result without tests)."""
        found: dict[str, list[int]] = {self.lesson: [0, 0]} if self.tests else {}
        for test in self.tests:
            counts = found.setdefault(test.suite or self.lesson, [0, 0])
            counts[0] += test.outcome == "passed"
            counts[1] += 1
        return found

    def of(self, slug: str) -> tuple[int, int]:
        """(passed, total) of one suite."""
        passed, total = self.suites.get(slug, (0, 0))
        return passed, total

    @property
    def kept(self) -> list[str]:
        """The slugs of the earlier suites that ran (the keeps), in order."""
        return [slug for slug in self.suites if slug != self.lesson]

    @property
    def first_failure(self) -> Failure | None:
        """The failure to show first: the most basic kind, the lesson's own suite before a kept one, an earlier
        exercise before a later (workbook.exercises), else in order."""
        from workbook.diagnoses import KINDS

        exercise_of = _exercise_index(self.lesson)

        def rank(place_and_failure):
            place, failure = place_and_failure
            kind = KINDS.index(failure.kind) if failure.kind in KINDS else len(KINDS)
            kept = bool(failure.suite) and failure.suite != self.lesson
            return kind, kept, 0 if kept else exercise_of(failure.test), place

        return min(enumerate(self.failures), key=rank)[1] if self.failures else None


def _exercise_index(slug: str):
    """test name -> where its exercise comes in lesson `slug` (all 0 when the lesson is unknown here)."""
    from workbook.exercises import exercise_index
    from workbook.lessons import UnknownLesson, current_course

    try:
        lesson = current_course().find(slug) if slug else None
    except UnknownLesson:
        lesson = None
    return (lambda test: exercise_index(lesson, test)) if lesson else (lambda test: 0)


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
    result = _result(verdict, tests, load_error, data.get("isolation", ""), output, seconds)
    result.advice = [str(each) for each in data.get("advice", []) if isinstance(each, str)]
    return result


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
                str(each.get("kind") or ""),
            )
        )
    return tests


def _result(verdict: str, tests: list[TestResult], load_error, isolation: str, output: str, seconds: float):
    failures = [
        Failure(test.name, test.message, test.suite, test.kind or "answer")
        for test in tests
        if test.outcome == "failed"
    ]
    if not failures and verdict != verdicts.PASSED and not load_error:  # nothing failed, yet not all passed: say why
        failures = [
            Failure(
                test.name,
                test.message or f"This test {'was skipped' if test.outcome == 'skipped' else 'did not run'}.",
                test.suite,
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
