"""The diagnoses: each mistake everyone makes, planted in a correct workspace, gets a message naming its cause.

The planted mistakes are in planted_mistakes.toml beside this file (planted like mutants.toml's edits);
each test asserts the message's key words, not its prose. The first tests feed workbook.diagnoses plain
data, as a child process would send it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from workbook import loader
from workbook.appfiles import copy_app_folder
from workbook.diagnoses import diagnose, kind_of, short_message
from workbook.evidence import Evidence, Exchange, Frame, Problem
from workbook.grading import check_lesson
from workbook.lessons import find_lesson
from workbook.notebook import app_error_report

MISTAKES = tomllib.loads((Path(__file__).parent / "planted_mistakes.toml").read_text())["mistake"]


def plant(mistake: dict, destination: Path) -> Path:
    copy_app_folder(find_lesson(mistake["lesson"]).checkpoint, destination)
    for edit in mistake["edit"]:
        target = destination / edit["file"]
        source = target.read_text()
        assert source.count(edit["find"]) == 1, f"{mistake['id']}: the text to replace should occur once in {target}"
        target.write_text(source.replace(edit["find"], edit["replace"]))
    return destination


def assert_names_the_cause(message: str, mistake: dict) -> None:
    for words in mistake["expect"]:
        assert words.casefold() in message.casefold(), f"{mistake['id']}: {words!r} should be in:\n{message}"
    for words in mistake.get("absent", []):
        assert words.casefold() not in message.casefold(), f"{mistake['id']}: {words!r} should not be in:\n{message}"


# --- the table, over plain data --------------------------------------------------------------------


def mine(code: str, function: str = "create_task") -> Frame:
    return Frame("app/main.py", 10, function, code, mine=True)


def test_forget_return_only_when_the_whole_answer_is_none():
    returned_none = Evidence(
        "ResponseValidationError", problems=(Problem(("response",), "model_type", "", "NoneType"),)
    )
    unsaved = Evidence("ResponseValidationError", problems=(Problem(("response", "id"), "int_type", "", "NoneType"),))
    assert "forget `return`" in diagnose(returned_none).text
    assert "forget `return`" not in diagnose(unsaved).text
    assert "session.commit()" in diagnose(unsaved).text


def test_a_refresh_before_commit_names_the_learners_own_variables():
    evidence = Evidence(
        "InvalidRequestError",
        "Instance '<Note at 0x7f>' is not persistent within this Session",
        frames=(mine("db.refresh(note)"),),
    )
    assert "`db.commit()` after `db.add(note)`" in diagnose(evidence).text


def test_a_not_null_failure_outside_a_patch_is_not_blamed_on_exclude_unset():
    evidence = Evidence("IntegrityError", "(sqlite3.IntegrityError) NOT NULL constraint failed: task.title")
    assert "exclude_unset" not in diagnose(evidence).text
    patching = Evidence(
        "IntegrityError", "NOT NULL constraint failed: task.title", request=Exchange("PATCH", "/tasks/1")
    )
    assert "exclude_unset=True" in diagnose(patching).text


def test_the_learners_own_exception_is_unhandled_only_when_it_escaped_a_request():
    raised = Evidence("NotFoundError", "Task not found", module="app.core.errors", request=Exchange("GET", "/tasks/9"))
    assert "add_exception_handler(NotFoundError" in diagnose(raised).text
    at_import = Evidence("ConfigError", "SECRET_KEY is missing", module="app.config")
    assert diagnose(at_import) is None


def test_a_missing_prefix_is_told_with_the_route_the_app_has():
    evidence = Evidence(exchanges=(Exchange("POST", "/api/v1/tasks", 404, None, routes=("GET /tasks", "POST /tasks")),))
    found = diagnose(evidence)
    assert found.kind == "route" and 'prefix="/api/v1"' in found.text and "POST /tasks" in found.text


def test_a_path_made_up_to_be_unknown_is_no_missing_route():
    evidence = Evidence(exchanges=(Exchange("GET", "/api/v1/no-such-thing", 404, None, routes=("GET /tasks",)),))
    assert diagnose(evidence) is None and kind_of(evidence) == "answer"


def test_a_wrong_status_is_less_basic_than_a_crash_or_a_missing_route():
    assert kind_of(Evidence()) == "answer"
    assert kind_of(Evidence("KeyError", "'x'")) == "crash"
    assert kind_of(Evidence(exchanges=(Exchange("PATCH", "/tasks/1", 405, "/tasks/{task_id}"),))) == "route"


def test_sqlalchemys_statement_and_link_are_left_out_of_the_message():
    message = "(sqlite3.OperationalError) no such table: task\n[SQL: SELECT task.id\nFROM task]\n(Background on ...)"
    assert short_message("OperationalError", message) == "(sqlite3.OperationalError) no such table: task"


def test_evidence_gathered_in_a_child_process_is_diagnosed_here(tmp_path):
    """The diagnoses read plain data: evidence made in another process, sent as JSON, says the same."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text("class TaskPublic:\n    pass\n")
    child = textwrap.dedent("""
        import json, sys
        from workbook.evidence import under
        from workbook.evidence_live import from_exception
        sys.path.insert(0, ".")
        try:
            from app.models import TaskPubilc
        except ImportError as error:
            print(json.dumps(from_exception(error, under(".")).to_json()))
    """)
    done = subprocess.run([sys.executable, "-c", child], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    evidence = Evidence.from_json(json.loads(done.stdout))
    assert "did you mean `TaskPublic`" in diagnose(evidence).text


# --- each mistake, planted in a checkpoint and graded -----------------------------------------------


@pytest.mark.parametrize("mistake", [m for m in MISTAKES if not m.get("notebook")], ids=lambda m: m["id"])
def test_a_planted_mistake_is_told_by_its_cause(mistake, tmp_path):
    lesson = find_lesson(mistake["lesson"])
    planted = plant(mistake, tmp_path / "workspace")
    result = check_lesson(lesson, planted, extra_args=["-x", *mistake.get("options", [])])
    assert not result.ok, f"{mistake['id']} should fail the check of lesson {lesson.number}"
    message = result.load_error or result.first_failure.message
    assert_names_the_cause(message, mistake)
    assert "app-copy" not in message and "workbook-preflight" not in message


# --- in the notebook ----------------------------------------------------------------------------------


@pytest.fixture
def workspace_app(tmp_path, monkeypatch):
    """load(mistake_or_lesson) -> a TestClient of that app, loaded from a workspace as lesson.client() does."""
    from fastapi.testclient import TestClient

    made = []

    def load(mistake: dict, database: Path | None = None):
        workspace = plant(mistake, tmp_path / "workspace")
        monkeypatch.chdir(workspace)
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database or workspace / 'tasks.db'}")
        client = TestClient(loader.with_time_limit(loader.import_app(workspace), 5))
        made.append(client.__enter__())
        return client, workspace

    yield load
    for client in made:
        client.__exit__(None, None, None)
    loader.forget_app()


def error_of(call) -> BaseException:
    with pytest.raises(Exception) as raised:
        call()
    return raised.value


def test_a_route_that_returns_none_is_a_short_report_in_the_notebook(workspace_app):
    mistake = next(m for m in MISTAKES if m["id"] == "forgotten_return")
    client, workspace = workspace_app(mistake)
    task = client.post("/tasks", json={"title": "Write"}).json()
    report = app_error_report(error_of(lambda: client.get(f"/tasks/{task['id']}")), workspace)
    assert_names_the_cause(report, mistake)
    assert "app/main.py" in report and "starlette" not in report and len(report.splitlines()) < 8


def test_a_database_from_an_earlier_lesson_is_told_to_be_deleted(workspace_app, tmp_path):
    import sqlite3

    stale = tmp_path / "stale.db"  # the task table as an earlier app made it, without priority
    sqlite3.connect(stale).executescript(
        "create table task (id integer primary key, title varchar not null, description varchar, status varchar, "
        "due_date date);"
    )
    mistake = {"id": "stale_database", "lesson": "03", "edit": [], "expect": ["database file", "delete", "priority"]}
    client, workspace = workspace_app(mistake, database=stale)
    report = app_error_report(error_of(lambda: client.post("/tasks", json={"title": "Write"})), workspace)
    assert_names_the_cause(report, mistake)
    assert "[SQL:" not in report


@pytest.mark.filterwarnings("ignore:This declarative base already contains a class")
def test_a_table_cell_run_twice_says_to_restart_the_kernel(tmp_path):
    from sqlmodel import Field, SQLModel

    def define():
        class Note(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)

    try:
        define()
        report = app_error_report(error_of(define), tmp_path)
    finally:
        loader.forget_app()  # clears SQLModel's tables
    assert "restart the kernel" in report.casefold() and "note" in report
