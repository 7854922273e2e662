"""Grading never touches the learner's own database or files.

The learner points DATABASE_URL at their own SQLite file, in the shell and in `.env`; after
`workbook check 03` (the app in-process) and `workbook check 06` (the learner's own tests, run on
copies) that file is byte for byte what it was, and nothing in the workspace changed.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.appfiles import copy_app_folder
from workbook.lessons import REPO, find_lesson


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(params=["03_database", "06_testing"])
def workspace_with_own_database(request, tmp_path: Path) -> tuple[Path, Path, str]:
    workspace = tmp_path / "workspace"
    copy_app_folder(find_lesson(request.param).checkpoint, workspace)
    own = workspace / "my-tasks.db"
    with sqlite3.connect(own) as db:
        db.execute("create table notes (text varchar)")
        db.execute("insert into notes values ('my own data')")
    db.close()
    (workspace / ".env").write_text(f"DATABASE_URL=sqlite:///{own}\n")
    return workspace, own, request.param[:2]


def test_check_leaves_the_learners_database_and_files_unchanged(workspace_with_own_database):
    workspace, own, number = workspace_with_own_database
    before = snapshot(workspace)
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "DATABASE_URL": f"sqlite:///{own}"}
    run = subprocess.run(
        [sys.executable, "-c", "from workbook.cli import app; app()", "check", number],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    after = snapshot(workspace)
    assert after.keys() == before.keys(), "grading added or removed files in the workspace"
    assert after[own.name] == before[own.name], "the learner's own database changed during grading"
    assert after == before
