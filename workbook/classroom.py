"""Grading a class: many submissions in parallel, a verdict each, a CSV and JUnit XML for an LMS.

Everything written here comes from the trusted result of each run (workbook.suite_result.SuiteResult, read from
the report the grading process wrote): nothing a submission printed or wrote is copied into it unchecked. Text is
stripped of control characters and cut short; a CSV cell that a spreadsheet would read as a formula is quoted
as text; each submission gets a JUnit file of its own, whose name no other submission's can take.
"""

from __future__ import annotations

import csv
import hashlib
import re
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

from workbook import verdicts
from workbook.lessons import Lesson

COULD_NOT_LOAD = verdicts.exit_code(verdicts.COULD_NOT_LOAD)  # 2, as pytest gives for a run that could not start
CELL_CHARACTERS = 2000
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def submission_names(folders: list[Path]) -> list[str]:
    """A name per submission: its folder's name, or its path where names clash."""
    names = [folder.name for folder in folders]
    return [name if names.count(name) == 1 else str(folder) for name, folder in zip(names, folders, strict=True)]


def grade_submissions(lesson: Lesson, folders: list[Path], junit_dir: Path | None = None, jobs: int = 2) -> list:
    """run_suite on each folder, `jobs` at a time; SuiteResults in the folders' order. A run that fails in the
    grader (never the submission's doing: its code runs apart) gives that submission a "grader error" and the
    others their own verdicts."""
    from workbook import grading
    from workbook.suite_result import SuiteResult

    names = submission_names(folders)

    def grade_one(index: int):
        try:
            return grading.run_suite(lesson, folders[index].resolve())
        except Exception as error:  # noqa: BLE001 - one broken run must not lose the batch
            traceback.print_exc()
            return SuiteResult(
                exit_code=verdicts.exit_code(verdicts.GRADER_ERROR),
                verdict=verdicts.GRADER_ERROR,
                load_error=f"The grader failed on this submission: {type(error).__name__}: {error}",
            )

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(grade_one, range(len(folders))))
    if junit_dir:
        junit_dir.mkdir(parents=True, exist_ok=True)
        for name, folder, result in zip(names, folders, results, strict=True):
            write_junit(junit_dir / junit_file_name(name, folder), lesson, name, result)
    return results


def safe_text(text, limit: int = CELL_CHARACTERS) -> str:
    """Text for a table, a CSV cell or an XML attribute: no control characters (newlines and tabs kept), cut short."""
    text = _UNSAFE.sub("", "" if text is None else str(text))
    return text if len(text) <= limit else text[:limit] + " ..."


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting with =, +, -, @ (or a tab or return) gets a leading '."""
    text = safe_text(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _file_name(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name).strip("_.") or "submission"


def junit_file_name(name: str, folder: Path) -> str:
    """The JUnit file of one submission: its name made safe, and a digest of its path ("alice smith" and
    "alice_smith" get different files)."""
    digest = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:8]
    return f"{_file_name(name)[:80]}-{digest}.xml"


def verdict(result) -> str:
    return result.verdict


def first_failure(result) -> str:
    if result.load_error:
        return safe_text(result.load_error.splitlines()[0] if result.load_error.strip() else "", 300)
    return safe_text(result.failures[0].test, 300) if result.failures else ""


def message_of(result) -> str:
    return safe_text(result.load_error or (result.failures[0].message if result.failures else ""))


def write_csv(path: Path, names: list[str], results: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", "result", "passed", "total", "first_failure", "message", "isolation"])
        for name, result in zip(names, results, strict=True):
            row = [name, verdict(result), result.passed, result.total, first_failure(result), message_of(result)]
            writer.writerow([csv_cell(cell) for cell in [*row, result.isolation]])


def write_junit(path: Path, lesson: Lesson, name: str, result) -> None:
    """JUnit XML of one submission, from the trusted result: a testcase per test of the suite (a test that did not
    run is an error), and, when the app could not load, the run timed out or the grader failed, an error testcase
    that says so: an LMS never reads an empty file as a pass."""
    suite = ElementTree.Element("testsuite", name=safe_text(f"{lesson.slug} {name}", 300))
    cases = 0
    problems = 0
    for test in result.tests:
        case = ElementTree.SubElement(
            suite, "testcase", classname=safe_text(lesson.slug, 100), name=safe_text(test.name, 300)
        )
        cases += 1
        if test.outcome == "passed":
            continue
        problems += 1
        kind = "failure" if test.outcome == "failed" else "error"
        why = test.message or f"this test {'was skipped' if test.outcome == 'skipped' else 'did not run'}"
        element = ElementTree.SubElement(case, kind, message=safe_text(why.splitlines()[0] if why else "", 500))
        element.text = safe_text(why)
    if result.verdict != verdicts.PASSED and (result.load_error or not result.tests or problems == 0):
        case = ElementTree.SubElement(suite, "testcase", classname=safe_text(lesson.slug, 100), name=result.verdict)
        cases += 1
        problems += 1
        element = ElementTree.SubElement(case, "error", message=safe_text(f"{result.verdict}", 100))
        element.text = safe_text(result.load_error or f"The run's verdict: {result.verdict}.")
    suite.set("tests", str(cases))
    suite.set("failures", str(sum(1 for test in result.tests if test.outcome == "failed")))
    suite.set("errors", str(problems - sum(1 for test in result.tests if test.outcome == "failed")))
    suite.set("verdict", result.verdict)
    suite.set("isolation", safe_text(result.isolation, 50))
    ElementTree.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def grade_exit_code(results: list) -> int:
    return verdicts.exit_code(verdicts.worst(verdict(result) for result in results))
