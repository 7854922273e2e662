"""Grading a class: many submissions in parallel, a verdict each, and a CSV for an LMS."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workbook.lessons import Lesson

COULD_NOT_LOAD = 2  # the exit code, as pytest gives for a run that could not start


def submission_names(folders: list[Path]) -> list[str]:
    """A name per submission: its folder's name, or its path where names clash."""
    names = [folder.name for folder in folders]
    return [name if names.count(name) == 1 else str(folder) for name, folder in zip(names, folders, strict=True)]


def grade_submissions(lesson: Lesson, folders: list[Path], junit_dir: Path | None = None, jobs: int = 2) -> list:
    """run_suite on each folder, `jobs` at a time; SuiteResults in the folders' order."""
    from workbook import grading

    names = submission_names(folders)
    if junit_dir:
        junit_dir = junit_dir.resolve()  # pytest runs from the repository, not from here
        junit_dir.mkdir(parents=True, exist_ok=True)

    def grade_one(index: int):
        extra = ("--junitxml", str(junit_dir / f"{_file_name(names[index])}.xml")) if junit_dir else ()
        return grading.run_suite(lesson, folders[index].resolve(), extra_args=extra)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade_one, range(len(folders))))


def _file_name(name: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in name).strip("_") or "submission"


def verdict(result) -> str:
    if result.load_error or result.exit_code not in (0, 1):
        return "could not load"
    return "passed" if result.exit_code == 0 else "failed"


def first_failure(result) -> str:
    if result.load_error:
        return result.load_error.splitlines()[0]
    return result.failures[0].test if result.failures else ""


def write_csv(path: Path, names: list[str], results: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", "result", "passed", "total", "first_failure", "message"])
        for name, result in zip(names, results, strict=True):
            message = result.load_error or (result.failures[0].message if result.failures else "")
            writer.writerow([name, verdict(result), result.passed, result.total, first_failure(result), message])


def grade_exit_code(results: list) -> int:
    verdicts = {verdict(result) for result in results}
    return COULD_NOT_LOAD if "could not load" in verdicts else 1 if "failed" in verdicts else 0
