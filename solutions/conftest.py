"""Run each solution notebook under `pytest --nbval` in a fresh workspace of its own.

Before a notebook's kernel starts, its workspace is made as the lesson's starting state
(a copy of the previous checkpoint, or an empty app/ folder) and WORKBOOK_WORKSPACE points
at it; the kernel inherits the variable and begin() changes into it. The workspace is
$WORKBOOK_NBVAL_ROOT/<slug>/workspace when that variable is set (tests inspect it
afterwards), else a temporary folder removed at the end. The learner's workspace/ is
never touched, and the notebooks stay independent (they can run in parallel).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from workbook.lessons import current_course
from workbook.workspace import write_starting_files

_prepared: set[Path] = set()  # notebooks whose workspace is ready
_temporary: list[Path] = []  # folders to remove at the end of the session
_original = os.environ.get("WORKBOOK_WORKSPACE")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Runs before pytest sets up the notebook's collector, which is when nbval starts its kernel."""
    notebook = Path(str(item.parent.path)) if item.parent is not None else None
    if notebook is None or notebook.suffix != ".ipynb" or notebook in _prepared:
        return
    _prepared.add(notebook)
    os.environ["WORKBOOK_WORKSPACE"] = str(fresh_workspace(notebook.stem))


def fresh_workspace(slug: str) -> Path:
    """The lesson's starting workspace, made anew."""
    root = os.environ.get("WORKBOOK_NBVAL_ROOT")
    if root:
        workspace = Path(root).resolve() / slug / "workspace"
        shutil.rmtree(workspace, ignore_errors=True)
    else:
        temporary = Path(tempfile.mkdtemp(prefix=f"workbook-nbval-{slug}-"))
        _temporary.append(temporary)
        workspace = temporary / "workspace"
    known = {lesson.slug: lesson for lesson in current_course().lessons}
    if slug in known:
        return write_starting_files(known[slug], workspace)
    workspace.joinpath("app").mkdir(parents=True)  # not a lesson: an empty workspace all the same
    return workspace


def pytest_sessionfinish(session: pytest.Session) -> None:
    for folder in _temporary:
        shutil.rmtree(folder, ignore_errors=True)
    if _original is None:
        os.environ.pop("WORKBOOK_WORKSPACE", None)
    else:
        os.environ["WORKBOOK_WORKSPACE"] = _original
