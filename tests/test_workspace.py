"""workbook.workspace: where a lesson starts, backups, resets, and progress.

Every test works on a small course made in a temporary folder: lesson 01 (its checkpoint
is a hello-world app plus its milestone suite in milestone/) and lesson 02, which starts from it.
"""

from __future__ import annotations

import pytest

from workbook import grading, lessons
from workbook import workspace as ws
from workbook.appfiles import read_app_files
from workbook.suite_result import Failure, SuiteResult


@pytest.fixture
def course(course):
    """The shared course (tests/conftest.py), whose checkpoint 01 also holds a cache in app/ and a test in its suite."""
    checkpoint = course / "checkpoints" / "01_hello"
    (checkpoint / "app" / "__pycache__").mkdir()
    (checkpoint / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (checkpoint / "milestone" / "test_hello.py").write_text("def test_nothing():\n    pass\n")
    return course


def test_state_lives_beside_the_workspace(workspace):
    assert ws.state_dir(workspace) == workspace.parent / ".workbook"


def test_the_default_workspace_is_shown_as_workspace_slash(monkeypatch):
    assert ws.display(lessons.REPO / "workspace") == "workspace/"


def test_a_backup_of_the_default_workspace_is_shown_relative_to_the_repository(tmp_path):
    assert (
        ws.display_backup(lessons.REPO / ".workbook" / "backups" / "20261126T101500Z-reset-02")
        == ".workbook/backups/20261126T101500Z-reset-02/"
    )
    assert ws.display_backup(tmp_path / ".workbook" / "backups" / "x") == f"{tmp_path}/.workbook/backups/x/"


def test_the_first_lesson_starts_from_an_empty_app_folder(course):
    assert ws.starting_files(lessons.find_lesson("01")) == {}


def test_a_lesson_starts_from_the_previous_checkpoint_without_its_suite_or_caches(course, hello):
    files = ws.starting_files(lessons.find_lesson("02"))
    assert files == {"app/__init__.py": b"", "app/main.py": hello.encode()}


def test_start_from_fills_a_missing_workspace(course, workspace, hello):
    backup = ws.start_from(lessons.find_lesson("02"), workspace)
    assert backup is None, "nothing was there, so nothing is backed up"
    assert (workspace / "app" / "main.py").read_text() == hello
    assert not (workspace / "milestone").exists()


def test_the_first_lesson_gets_an_empty_app_folder(course, workspace):
    ws.start_from(lessons.find_lesson("01"), workspace)
    assert [path.name for path in workspace.iterdir()] == ["app"]
    assert list((workspace / "app").iterdir()) == []


def test_a_workspace_holding_the_previous_checkpoint_is_at_the_start_without_grading(course, workspace, graded):
    ws.start_from(lessons.find_lesson("02"), workspace)
    (workspace / "app" / "tasks.db").write_bytes(b"data")  # databases and caches don't count
    ready, reason = ws.at_start_or_beyond(lessons.find_lesson("02"), workspace)
    assert ready, reason
    assert "checkpoint 01_hello" in reason
    assert graded.calls == []


def test_an_edited_workspace_is_at_the_start_when_it_passes_the_previous_milestone(course, workspace, graded, hello):
    ws.start_from(lessons.find_lesson("02"), workspace)
    (workspace / "app" / "main.py").write_text(hello + "# my own words\n")
    ready, reason = ws.at_start_or_beyond(lessons.find_lesson("02"), workspace)
    assert ready, reason
    assert graded.calls == [("01_hello", workspace, ())]


def test_a_workspace_failing_the_previous_milestone_is_not_at_the_start(course, workspace, graded):
    ws.start_from(lessons.find_lesson("02"), workspace)
    (workspace / "app" / "main.py").write_text("app = None\n")
    graded.result = SuiteResult(exit_code=1, passed=1, failed=2, total=3, failures=[Failure("test_root", "boom")])
    ready, reason = ws.at_start_or_beyond(lessons.find_lesson("02"), workspace)
    assert not ready
    assert "does not pass milestone 01 (1 of 3 checks pass)" in reason


def test_a_lesson_without_a_previous_one_can_start_anywhere(course, workspace, graded):
    workspace.mkdir(parents=True)
    (workspace / "notes.txt").write_text("mine")
    assert ws.at_start_or_beyond(lessons.find_lesson("01"), workspace)[0]
    assert graded.calls == []


def test_backup_copies_every_file_as_plain_files(workspace):
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "main.py").write_text("mine")
    (workspace / ".env").write_text("SECRET_KEY=x")
    (workspace / "tasks.db").write_bytes(b"rows")
    saved = ws.backup(workspace, "test")
    assert saved.parent == workspace.parent / ".workbook" / "backups"
    assert saved.name.endswith("-test")
    assert (saved / "app" / "main.py").read_text() == "mine"
    assert (saved / ".env").read_text() == "SECRET_KEY=x"
    assert (saved / "tasks.db").read_bytes() == b"rows"


def test_two_backups_in_the_same_second_both_survive(workspace):
    workspace.mkdir(parents=True)
    (workspace / "a.txt").write_text("a")
    first, second = ws.backup(workspace, "same"), ws.backup(workspace, "same")
    assert first != second and first.is_dir() and second.is_dir()


def test_reset_keeps_every_edited_file_in_the_backup(course, workspace):
    lesson = lessons.find_lesson("02")
    ws.start_from(lesson, workspace)
    (workspace / "app" / "main.py").write_text("edited")
    (workspace / "app" / "extra.py").write_text("new file")
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_mine.py").write_text("def test_mine(): pass")

    saved = ws.reset(lesson, workspace)

    assert (saved / "app" / "main.py").read_text() == "edited"
    assert (saved / "app" / "extra.py").read_text() == "new file"
    assert (saved / "tests" / "test_mine.py").read_text() == "def test_mine(): pass"
    assert read_app_files(workspace) == ws.starting_files(lesson)
    assert not (workspace / "tests").exists()
    assert saved.name.endswith("-reset-02")


def test_progress_is_empty_before_any_check(workspace):
    assert ws.progress(workspace) == {}


def test_record_remembers_the_latest_check_of_each_lesson(course, workspace):
    one, two = lessons.find_lesson("01"), lessons.find_lesson("02")
    ws.record(workspace, one, SuiteResult(exit_code=1, passed=2, failed=1, total=3))
    ws.record(workspace, two, SuiteResult(exit_code=1, passed=0, total=5))
    ws.record(workspace, one, SuiteResult(exit_code=0, passed=3, total=3))

    done = ws.progress(workspace)
    assert set(done) == {"01_hello", "02_tasks"}
    assert (done["01_hello"].passed, done["01_hello"].checks_passed, done["01_hello"].checks_total) == (True, 3, 3)
    assert done["02_tasks"].passed is False
    assert done["01_hello"].when.endswith("Z")
    assert (workspace.parent / ".workbook" / "progress.json").is_file()


def test_a_lesson_that_moves_routes_grades_the_previous_milestone_with_its_options_too(
    course, workspace, monkeypatch, notebook
):
    """Lesson 02 keeps suite 01 under /api/v1: a workspace passing only that way is at the start."""
    (course / "solutions" / "02_tasks.ipynb").write_text(
        notebook("Tasks", keeps={"01_hello": ["--api-prefix", "/api/v1"]})
    )
    workspace.mkdir(parents=True)
    (workspace / "main.py").write_text("moved")
    answers = {
        (): SuiteResult(exit_code=1, passed=0, total=3),
        ("--api-prefix", "/api/v1"): SuiteResult(exit_code=0, passed=3, total=3),
    }
    monkeypatch.setattr(grading, "run_suite", lambda lesson, app_dir, extra_args=(): answers[tuple(extra_args)])
    assert ws.at_start_or_beyond(lessons.find_lesson("02"), workspace)[0]
