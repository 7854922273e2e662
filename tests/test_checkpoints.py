"""Producing checkpoints: a lesson's starting state, its blank state, and running its solution.

Only the tests marked "kernel" in their name start a Jupyter kernel.
"""

from __future__ import annotations

import pytest

from workbook import checkpoints
from workbook.appfiles import app_files
from workbook.builder import render_lesson
from workbook.checkpoints import blank_state, checkpoint_drift, execute_solution
from workbook.markers import BuildError
from workbook.notebook_files import apply_writefile_cells, read_notebook


def test_the_first_lesson_starts_from_an_empty_app_folder(maker, tmp_path):
    lesson = maker.solution("01_hello", maker.solved_main)

    blank = blank_state(lesson, tmp_path / "blank")

    assert sorted(app_files(blank)) == ["app/main.py"]
    assert "# TODO: return" in (blank / "app/main.py").read_text()


def test_a_lesson_starts_from_the_previous_checkpoint_without_its_suite_or_ignored_files(maker, tmp_path):
    maker.solution("01_hello", maker.solved_main)
    maker.solution("02_reading", "# No files written here.")
    lesson = maker.solution("03_more", "%%writefile app/extra.py\nX = 1")
    checkpoint = maker.course.checkpoints / "01_hello"
    for name in ("app/main.py", "milestone/test_main.py", "app/__pycache__/main.pyc", "tasks.db", ".env"):
        (checkpoint / name).parent.mkdir(parents=True, exist_ok=True)
        (checkpoint / name).write_text(name)

    blank = blank_state(lesson, tmp_path / "blank")

    assert lesson.previous.slug == "01_hello"
    assert sorted(app_files(blank)) == [".env", "app/extra.py", "app/main.py"]
    assert not (blank / "milestone").exists() and not (blank / "tasks.db").exists()


def test_a_workspace_is_only_made_in_an_empty_folder(maker, tmp_path):
    lesson = maker.solution("01_hello", maker.solved_main)
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace/notes.txt").write_text("a learner's work")

    with pytest.raises(BuildError, match="workspace is not empty"):
        blank_state(lesson, tmp_path / "workspace")


def test_blank_state_applies_the_lesson_notebooks_writefile_cells_in_order(maker, tmp_path):
    lesson = maker.solution(
        "01_hello",
        maker.solved_main,
        "%%writefile app/core/config.py\nA = 1",
        "%%writefile -a app/core/config.py\n### BEGIN SOLUTION: set B to 2\nB = 2\n### END SOLUTION",
    )
    lesson.notebook.write_bytes(render_lesson(lesson))

    blank = blank_state(lesson, tmp_path / "blank")

    assert (blank / "app/core/config.py").read_text() == "A = 1\n# TODO: set B to 2\n...\n"
    assert sorted(app_files(blank)) == ["app/core/config.py", "app/main.py"]


def test_drift_names_missing_extra_and_changed_files_but_not_the_suite(tmp_path):
    workspace, checkpoint = tmp_path / "workspace", tmp_path / "checkpoint"
    files = {
        workspace / "app/main.py": "new",
        workspace / "app/added.py": "new",
        checkpoint / "app/main.py": "old",
        checkpoint / "app/old/gone.py": "stale",
        checkpoint / "milestone/test_main.py": "suite",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    drift = checkpoint_drift(workspace, checkpoint)

    assert [path.relative_to(checkpoint).as_posix() for path in drift] == [
        "app/added.py",
        "app/main.py",
        "app/old/gone.py",
    ]


# What begin() does in a real lesson: change into the workspace, drop marker lines.
KERNEL_SETUP = """import os
from workbook.markers import strip_markers
os.chdir(os.environ["WORKBOOK_WORKSPACE"])
get_ipython().input_transformers_cleanup.append(lambda lines: strip_markers("".join(lines)).splitlines(True))"""


def test_kernel_executing_a_solution_writes_the_files_its_writefile_cells_say(maker, tmp_path):
    lesson = maker.solution("01_hello", KERNEL_SETUP, maker.solved_main)

    executed = execute_solution(lesson, tmp_path / "workspace")

    expected = apply_writefile_cells(read_notebook(lesson.solution), tmp_path / "expected")[0].read_text()
    assert (tmp_path / "workspace/app/main.py").read_text() == expected
    assert "### BEGIN" not in expected and executed.cells[1].outputs[0].text.startswith("Writing")


def test_kernel_a_failing_cell_is_named_without_a_traceback(maker, tmp_path):
    lesson = maker.solution("01_hello", "# Oops", "1 / 0")

    with pytest.raises(BuildError) as caught:
        checkpoints.execute_solution(lesson, tmp_path / "workspace")

    assert str(caught.value).startswith("solutions/01_hello.ipynb, cell 2: ZeroDivisionError: division by zero.")
    assert "Traceback" not in str(caught.value)
