"""Every lesson's notebooks hold together: the invariants "no drift", "the solutions run
clean under nbval" and "one app grows", checked lesson by lesson.

The lessons come from workbook.lessons.all_lessons(), so a new solution notebook is
picked up without touching this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.builder import render_lesson
from workbook.checkpoints import checkpoint_drift
from workbook.lessons import REPO, Lesson, all_lessons

SANITIZERS = REPO / "solutions" / "sanitize.cfg"
NBVAL_TIMEOUT = 900  # seconds for a whole notebook
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

lessons = pytest.mark.parametrize("lesson", all_lessons(), ids=lambda lesson: lesson.slug)


@lessons
def test_lesson_notebook_is_what_the_builder_makes_from_the_solution(lesson: Lesson):
    expected = render_lesson(lesson)
    found = lesson.notebook.read_bytes() if lesson.notebook.exists() else None

    assert found == expected, (
        f"lessons/{lesson.notebook.name} is not what the builder makes from solutions/{lesson.solution.name} "
        f"({first_difference(found, expected)}). "
        f"Edit the solution, never the lesson, then run `workbook build {lesson.number}`."
    )


@lessons
def test_solution_runs_clean_under_nbval_and_leaves_its_checkpoint(lesson: Lesson, tmp_path: Path):
    result = run_nbval(lesson.solution, nbval_root=tmp_path)
    assert result.returncode == 0, (
        f"pytest --nbval {lesson.solution.name} exited {result.returncode}:\n{tail(result.stdout)}"
    )

    differing = checkpoint_drift(tmp_path / lesson.slug / "workspace", lesson.checkpoint)

    assert not differing, (
        f"After solutions/{lesson.solution.name} ran, the workspace differs from checkpoints/{lesson.slug} in: "
        f"{', '.join(path.relative_to(lesson.checkpoint).as_posix() for path in differing)}. "
        f"Run `workbook build {lesson.number}` to regenerate the checkpoint from the solution."
    )


def run_nbval(notebook: Path, nbval_root: Path) -> subprocess.CompletedProcess[str]:
    """`pytest --nbval` on one notebook in a fresh process; its workspace lands in nbval_root."""
    command = [
        sys.executable, "-m", "pytest", "--nbval", str(notebook),
        "--nbval-sanitize-with", str(SANITIZERS), "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "WORKBOOK_"))}
    env["WORKBOOK_NBVAL_ROOT"] = str(nbval_root)
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=NBVAL_TIMEOUT, check=False
    )


def first_difference(found: bytes | None, expected: bytes) -> str:
    if found is None:
        return "the lesson notebook is missing"
    found_lines, expected_lines = found.decode("utf-8", "replace").splitlines(), expected.decode("utf-8").splitlines()
    pairs = zip(found_lines, expected_lines, strict=False)
    for number, (line, wanted) in enumerate(pairs, 1):
        if line != wanted:
            return f"line {number} is {line.strip()!r}, the build makes {wanted.strip()!r}"
    return "one is longer than the other"


def tail(output: str, lines: int = 60) -> str:
    """The end of pytest's output, without colour codes."""
    return "\n".join(ANSI.sub("", output).splitlines()[-lines:])
