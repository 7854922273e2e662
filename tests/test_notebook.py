"""workbook.notebook: what a lesson notebook's cells use.

`lesson = begin("02_tasks")` prepares the workspace and changes into it; `lesson.client()`,
`lesson.serve()` and `lesson.check()` work on the app there. The tests use a small course
made in a temporary folder (lesson 01 with a hello-world checkpoint, lesson 02 after it).
"""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from workbook import lessons
from workbook import workspace as ws
from workbook.notebook import (
    LessonSession,
    Server,
    ServerDidNotStart,
    app_error_report,
    begin,
    drop_solution_markers,
    install_marker_transformer,
    summary,
)
from workbook.server import ThreadedServer
from workbook.suite_result import Failure, SuiteResult


@pytest.fixture
def workspace(workspace, monkeypatch, tmp_path):
    """The shared workspace (tests/conftest.py); begin() finds it through WORKBOOK_WORKSPACE.

    The current directory is restored after the test, since begin() changes into the workspace.
    """
    monkeypatch.chdir(tmp_path)
    return workspace


@pytest.fixture
def graded(graded):
    """The shared grading.run_suite stub (tests/conftest.py), answering that all 4 checks pass."""
    graded.result = SuiteResult(exit_code=0, passed=4, total=4)
    return graded


@pytest.fixture
def app_folder(tmp_path):
    """A folder holding app/main.py; write_app(source) replaces main.py."""
    folder = tmp_path / "served"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")

    def write_app(source: str):
        (folder / "app" / "main.py").write_text(source)
        return folder

    return write_app


@pytest.fixture
def session(course, app_folder, hello):
    """A LessonSession for lesson 02 on app_folder's folder, closed afterwards."""
    made = LessonSession(lessons.find_lesson("02"), app_folder(hello))
    yield made
    made.close()


# --- begin() ---------------------------------------------------------------------------------------


def test_begin_creates_a_missing_workspace_from_the_previous_checkpoint(course, workspace, graded, capsys, hello):
    lesson = begin("02_tasks")
    assert (workspace / "app" / "main.py").read_text() == hello
    assert os.getcwd() == str(workspace.resolve())
    assert lesson.workspace == workspace.resolve()
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "Lesson 02: Tasks"
    assert f"Workspace: {workspace.resolve()}/" in printed
    assert "now starts from checkpoint 01_hello" in printed
    assert graded.calls == []


def test_begin_fills_an_empty_workspace_folder(course, workspace, graded):
    workspace.mkdir(parents=True)
    begin("02")
    assert (workspace / "app" / "main.py").is_file()


def test_begin_keeps_a_workspace_that_passes_the_previous_milestone(course, workspace, graded, capsys, hello):
    ws.start_from(lessons.find_lesson("02"), workspace)
    (workspace / "app" / "main.py").write_text(hello + "# mine\n")
    begin("02_tasks")
    assert (workspace / "app" / "main.py").read_text() == hello + "# mine\n"
    assert "passes milestone 01" in capsys.readouterr().out


def test_begin_leaves_a_workspace_not_at_the_start_untouched_and_says_what_to_do(
    course, workspace, graded, capsys, hello
):
    workspace.mkdir(parents=True)
    (workspace / "app").mkdir()
    (workspace / "app" / "main.py").write_text("broken(")
    graded.result = SuiteResult(exit_code=1, passed=1, failed=3, total=4)

    lesson = begin("02_tasks")

    assert (workspace / "app" / "main.py").read_text() == "broken("
    assert not (workspace.parent / ".workbook" / "backups").exists()
    printed = capsys.readouterr().out
    assert "does not pass milestone 01 (1 of 4 checks pass)" in printed
    assert "Nothing was changed" in printed
    assert "lesson.start_from_checkpoint()" in printed
    assert os.getcwd() == str(workspace.resolve()), "the cells still run in the workspace"

    assert lesson.start_from_checkpoint() is None
    [saved] = (workspace.parent / ".workbook" / "backups").iterdir()
    assert f"Your previous files are in {saved}/" in capsys.readouterr().out
    assert (saved / "app" / "main.py").read_text() == "broken("
    assert (workspace / "app" / "main.py").read_text() == hello


def test_begin_prints_nothing_that_changes_between_runs(course, workspace, graded, capsys):
    begin("02_tasks")
    first = capsys.readouterr().out
    ws.reset(lessons.find_lesson("02"), workspace)
    os.chdir(workspace.parent)
    begin("02_tasks")
    again = capsys.readouterr().out
    assert first.splitlines()[:2] == again.splitlines()[:2]
    assert "\x1b[" not in first + again


# --- the solution-marker transformer ---------------------------------------------------------------


def test_the_transformer_drops_marker_lines_and_keeps_the_code():
    cell = [
        "%%writefile app/main.py\n",
        "def root():\n",
        "    ### BEGIN SOLUTION: return the greeting\n",
        '    return {"message": "Hello World"}\n',
        "    ### END SOLUTION\n",
    ]
    assert drop_solution_markers(cell) == [
        "%%writefile app/main.py\n",
        "def root():\n",
        '    return {"message": "Hello World"}\n',
    ]


def test_the_transformer_leaves_a_cell_without_markers_as_it_is():
    cell = ["x = 1\n", "print(x)"]
    assert drop_solution_markers(cell) == cell


def test_the_transformer_is_installed_once():
    class Shell:
        input_transformers_cleanup: list = []

    shell = Shell()
    assert install_marker_transformer(shell)
    assert install_marker_transformer(shell)
    assert shell.input_transformers_cleanup == [drop_solution_markers]


def test_outside_ipython_there_is_nothing_to_install():
    assert install_marker_transformer() is False


# --- client() ------------------------------------------------------------------------------------------


def test_client_sees_edits_made_after_the_previous_client(session, app_folder, hello):
    assert session.client().get("/").json() == {"message": "Hello World"}
    app_folder(hello.replace("Hello World", "Hello again"))
    assert session.client().get("/").json() == {"message": "Hello again"}


def test_client_runs_the_lifespan(session, app_folder):
    app_folder(
        "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    app.state.ready = 'yes'\n    yield\n\n"
        "app = FastAPI(lifespan=lifespan)\n\n@app.get('/')\ndef root():\n    return {'ready': app.state.ready}\n"
    )
    assert session.client().get("/").json() == {"ready": "yes"}


def test_a_new_client_closes_the_previous_one(session, app_folder, monkeypatch):
    folder = app_folder(
        "from contextlib import asynccontextmanager\nfrom pathlib import Path\nfrom fastapi import FastAPI\n\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    yield\n    Path('shut-down.txt').write_text('yes')\n\n"
        "app = FastAPI(lifespan=lifespan)\n"
    )
    monkeypatch.chdir(folder)
    session.client()
    assert not (folder / "shut-down.txt").exists()
    session.client()
    assert (folder / "shut-down.txt").exists(), "the first client's lifespan ended"


# --- serve() -------------------------------------------------------------------------------------------


def test_serve_runs_a_real_server_on_loopback_until_stopped(session):
    server = session.serve()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "/", timeout=5) as response:
            assert json.load(response) == {"message": "Hello World"}
    finally:
        server.stop()
    assert not server.running
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/", timeout=2)


def test_a_server_is_a_context_manager(app_folder, hello):
    with Server(app_folder(hello)) as server:
        assert server.running
    assert not server.running


def test_a_server_whose_app_does_not_load_shows_its_last_output(app_folder):
    with pytest.raises(ServerDidNotStart) as raised:
        Server(app_folder("import not_a_module\n")).start()
    assert "stopped before it answered" in str(raised.value)
    assert "not_a_module" in str(raised.value)


def test_a_busy_port_is_named(session):
    with Server(session.workspace) as first:
        with pytest.raises(ServerDidNotStart, match=f"Port {first.port} .* already in use"):
            Server(session.workspace, port=first.port).start()


# --- check() -------------------------------------------------------------------------------------------


def test_check_prints_a_short_summary_and_records_progress(session, graded, capsys):
    assert session.check() is None
    assert capsys.readouterr().out == (
        "All 4 checks pass. Lesson 02 is done.\n"
        "This is the same suite your instructor runs; there are no hidden tests.\n"
    )
    assert ws.progress(session.workspace)["02_tasks"].passed


def test_a_lesson_without_a_suite_has_nothing_to_check(session, graded, capsys):
    (session.lesson.suite).rmdir()
    session.check()
    assert capsys.readouterr().out == "Lesson 02 has no milestone suite: there is nothing to check.\n"
    assert graded.calls == []


def test_a_failing_check_names_the_first_failure(course):
    result = SuiteResult(
        exit_code=1,
        passed=12,
        failed=2,
        total=14,
        failures=[
            Failure("test_missing_title_is_rejected", "POST /tasks should answer 422"),
            Failure("test_other", "later"),
        ],
    )
    assert summary(lessons.find_lesson("02"), result) == (
        "12 of 14 checks pass.\nFirst failure: test_missing_title_is_rejected\nPOST /tasks should answer 422"
    )


def test_a_check_of_an_app_that_cannot_load_says_why(course):
    result = SuiteResult(exit_code=2, load_error="Could not load the app in workspace/: SyntaxError")
    assert summary(lessons.find_lesson("02"), result) == (
        "No checks ran: the app could not load.\nCould not load the app in workspace/: SyntaxError"
    )


# --- errors from the learner's files ---------------------------------------------------------------


def test_an_error_raised_in_the_workspace_shows_only_the_workspace_frames(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "broken.py").write_text("def read():\n    return {}['x']\n")
    scope: dict = {}
    exec(compile((tmp_path / "app" / "broken.py").read_text(), str(tmp_path / "app" / "broken.py"), "exec"), scope)
    try:
        scope["read"]()
    except KeyError as error:
        report = app_error_report(error, tmp_path)
    assert report == "Your app raised KeyError: 'x'\n  app/broken.py, line 2, in read\n    return {}['x']"


def test_a_syntax_error_in_the_workspace_names_its_file_and_line(tmp_path):
    error = SyntaxError("'(' was never closed", (str(tmp_path / "app" / "main.py"), 2, 14, "app = FastAPI(\n"))
    assert (
        app_error_report(error, tmp_path)
        == "app/main.py, line 2: SyntaxError: '(' was never closed\n    app = FastAPI("
    )


def test_an_error_outside_the_workspace_is_left_to_ipython(tmp_path):
    try:
        _ = 1 / 0
    except ZeroDivisionError as error:
        assert app_error_report(error, tmp_path) is None


# --- the same errors, in a real kernel ---------------------------------------------------------------

TASK_APP = """from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class TaskPublic(BaseModel):
    id: int
    title: str


@app.get("/tasks/{task_id}", response_model=TaskPublic)
def read_task(task_id: int):
    task = TaskPublic(id=task_id, title="Buy milk")


@app.get("/tasks", response_model=list[TaskPublic])
def list_tasks():
    return [{"id": 1, "name": "Buy milk"}]
"""

NOTE_TABLE = """from sqlmodel import Field, SQLModel


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
"""


def run_in_a_kernel(workspace, *cells: str) -> list[str]:
    """Each cell's stream and error output, from an IPython kernel whose error view is begin()'s for `workspace`."""
    import nbformat
    from nbclient import NotebookClient

    opening = (
        "from pathlib import Path\n"
        "from workbook.lessons import find_lesson\n"
        "from workbook.notebook import LessonSession, install_app_error_handler\n"
        f"lesson = LessonSession(find_lesson('02'), Path({str(workspace)!r}))\n"
        "install_app_error_handler(lesson.workspace)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(each) for each in (opening, *cells)])
    client = NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True)
    client.execute(cwd=str(workspace), env=dict(os.environ))
    return ["".join(output.get("text", "") + "\n".join(output.get("traceback", ())) for output in cell.outputs)
            for cell in notebook.cells[1:]]  # fmt: skip


def assert_short(report: str) -> None:
    assert len(report.splitlines()) < 25, f"The report is {len(report.splitlines())} lines long:\n{report}"
    assert "site-packages" not in report, f"The report shows the framework's frames:\n{report}"
    assert "/tmp/" not in report, f"The report shows a temporary path:\n{report}"


@pytest.fixture
def task_app(course, app_folder):
    """A workspace whose GET /tasks/{id} returns nothing and whose GET /tasks answers the wrong fields."""
    return app_folder(TASK_APP)


def test_a_route_that_returns_none_is_told_in_a_few_lines_in_the_notebook(task_app):
    (report,) = run_in_a_kernel(task_app, "lesson.client().get('/tasks/1')")
    assert_short(report)
    assert "Your app raised ResponseValidationError" in report, report
    assert "(answering GET /tasks/1)" in report and "app/main.py, line" in report, report
    assert "`read_task()` returned None where its response_model expects data: did you forget `return`?" in report


def test_an_answer_that_fails_its_response_model_is_told_in_a_few_lines_in_the_notebook(task_app):
    (report,) = run_in_a_kernel(task_app, "lesson.client().get('/tasks')")
    assert_short(report)
    assert "Your app raised ResponseValidationError: response.0.title: Field required (got dict)" in report, report
    assert "(answering GET /tasks)" in report and "app/main.py, line" in report, report
    assert "forget `return`" not in report, f"The route did return something:\n{report}"


def test_a_table_cell_run_again_says_to_restart_the_kernel(course, app_folder, hello):
    first, again = run_in_a_kernel(app_folder(hello), NOTE_TABLE, NOTE_TABLE)
    assert first == ""
    assert_short(again)
    assert again.startswith("This cell raised InvalidRequestError: Table 'note' is already defined"), again
    assert "Restart the kernel (Kernel > Restart Kernel), then run the cells from the top." in again, again


# --- ThreadedServer (the live_server fixture's) -----------------------------------------------------


def asgi_app(lifespan_fails: bool = False):
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    @asynccontextmanager
    async def lifespan(app):
        if lifespan_fails:
            raise RuntimeError("the database is not there")
        yield

    app = FastAPI(lifespan=lifespan)
    app.get("/health")(lambda: {"status": "ok"})
    return app


def test_a_threaded_server_serves_an_imported_app_until_stopped():
    with ThreadedServer(asgi_app()) as server:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url + "/health", timeout=5) as response:
            assert json.load(response) == {"status": "ok"}
    assert not server.thread.is_alive()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/health", timeout=2)


def test_a_threaded_server_whose_startup_fails_says_why():
    with pytest.raises(ServerDidNotStart, match="(?s)startup failed.*RuntimeError: the database is not there"):
        ThreadedServer(asgi_app(lifespan_fails=True)).start()
