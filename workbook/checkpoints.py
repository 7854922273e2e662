"""Producing checkpoints: run a solution notebook in a workspace laid out as the lesson's start.

checkpoints/NN_slug/ holds the app files the solution leaves in that workspace (app/, and from
lesson 06 tests/ and more); its milestone/ is hand-written and never touched here.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from workbook.appfiles import app_files
from workbook.markers import BuildError
from workbook.notebook_files import apply_writefile_cells, build_lesson_notebook, read_notebook
from workbook.workspace import write_starting_files

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from workbook.lessons import Lesson

CELL_TIMEOUT = 180  # seconds a solution cell may run


def execute_solution(lesson: Lesson, workspace: Path, timeout: int = CELL_TIMEOUT) -> NotebookNode:
    """Run the solution notebook in a kernel, in `workspace` laid out as the lesson's start.

    The kernel runs in solutions/ with WORKBOOK_WORKSPACE=<workspace> (begin() changes into
    it). Returns the executed notebook; a failing cell raises BuildError.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal, DeadKernelError

    notebook = read_notebook(lesson.solution)
    _require_empty(workspace)
    write_starting_files(lesson, workspace)
    started: list[int] = []  # index of each cell as it starts: the last one is the culprit
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",  # its kernel.json says "python": jupyter_client runs sys.executable
        resources={"metadata": {"path": str(lesson.course.solutions)}},
        record_timing=False,
        on_cell_start=lambda cell, cell_index: started.append(cell_index),
    )
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "WORKBOOK_COURSE": str(lesson.course.root)}
    try:
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except (CellControlSignal, DeadKernelError) as error:
        shown = lesson.course.show(lesson.solution)
        where = f"{shown}, cell {started[-1] + 1}" if started else shown
        raise BuildError(execution_failure(where, error, timeout)) from None
    return notebook


def _require_empty(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise BuildError(f"{folder} is not empty. Give an empty or new folder for the workspace.")


def execution_failure(where: str, error: Exception, timeout: int) -> str:
    """One paragraph on why a solution did not run: the cell and the error, no traceback."""
    if isinstance(error, TimeoutError):
        what = f"the cell did not finish within {timeout} s"
    elif hasattr(error, "ename"):
        what = f"{error.ename}: {error.evalue}"
    else:
        what = f"the kernel died ({error})"
    return f"{where}: {what}. Run the notebook in Jupyter to see the whole error, fix it, then build again."


def blank_state(lesson: Lesson, dest: Path) -> Path:
    """The workspace a learner has before solving the lesson, made without a kernel:
    the lesson's starting files, then every `%%writefile` cell of the lesson notebook, in order."""
    if lesson.notebook.exists():
        lesson_nb = read_notebook(lesson.notebook)
    else:
        lesson_nb = build_lesson_notebook(read_notebook(lesson.solution), lesson.course.show(lesson.solution))
    _require_empty(dest)
    write_starting_files(lesson, dest)
    apply_writefile_cells(lesson_nb, dest)
    return dest


def checkpoint_drift(workspace: Path, checkpoint: Path) -> list[Path]:
    """Checkpoint files that are missing, extra, or different from the workspace's."""
    made, kept = app_files(workspace), app_files(checkpoint)
    return [
        checkpoint / relative
        for relative in sorted(made.keys() | kept.keys())
        if relative not in made or relative not in kept or made[relative].read_bytes() != kept[relative].read_bytes()
    ]
