"""The `workbook` command, run through typer's CliRunner.

Most tests use a small course made in a temporary folder (lesson 01 with a hello-world
checkpoint, lesson 02 after it) and replace grading.run_suite with a stub; the last ones
grade real workspaces against the real checkpoints/01_hello_world suite.
"""

from __future__ import annotations

import csv
import shutil

import pytest
from typer.testing import CliRunner

from workbook import builder, classroom, cli, cli_hints, cli_workspace, lessons
from workbook import workspace as ws
from workbook.jupyterlab_options import lab_options
from workbook.suite_result import Failure, SuiteResult

HINT = (
    "Which decorator makes a function answer `GET /tasks/{task_id}`?\n\n"
    '<details><summary>Show the answer</summary>\n\n`@app.get("/tasks/{task_id}")`\n</details>'
)


def markdown(source: str, tags=()) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": list(tags)}, "source": source}


@pytest.fixture
def runner(monkeypatch):
    """A CliRunner; wide columns so rich tables keep whole lines."""
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture
def course(course, notebook):
    """The shared course (tests/conftest.py) with two hints in lesson 02's notebook; lesson 01 has none."""
    hints = [
        markdown("Intro"),
        markdown(HINT, ["hint"]),
        markdown("Why 404?\n<details><summary>Show</summary>\nNo task.\n</details>", ["hint"]),
    ]
    (course / "solutions" / "02_tasks.ipynb").write_text(notebook("Tasks", hints))
    return course


FAILING = SuiteResult(
    exit_code=1,
    passed=2,
    failed=1,
    total=3,
    failures=[
        Failure("test_root_says_hello_world", 'GET / should answer {"message": "Hello World"} [see app/main.py]')
    ],
)
BROKEN = SuiteResult(exit_code=2, load_error="Could not load the app in sub/: app/main.py, line 1: SyntaxError")


def test_no_arguments_shows_the_commands(runner):
    result = runner.invoke(cli.app, [])
    for command in ("start", "check", "hint", "reset", "status", "serve", "grade", "build"):
        assert command in result.output


def test_an_unknown_lesson_lists_the_lessons(runner, course):
    result = runner.invoke(cli.app, ["check", "9"])
    assert result.exit_code == 2
    assert "There is no lesson '9'. The lessons are 01, 02." in result.output


# --- start ---------------------------------------------------------------------------------------


def test_start_creates_a_missing_workspace(runner, course, workspace, graded, hello):
    result = runner.invoke(cli.app, ["start", "02", "--prepare-only"])
    assert result.exit_code == 0, result.output
    assert "from checkpoint 01_hello" in result.output
    assert (workspace / "app" / "main.py").read_text() == hello


def test_start_keeps_a_workspace_that_passes_the_previous_milestone(runner, course, workspace, graded, hello):
    ws.start_from(lessons.find_lesson("02"), workspace)
    (workspace / "app" / "main.py").write_text(hello + "# mine\n")
    result = runner.invoke(cli.app, ["start", "02", "--prepare-only"])
    assert result.exit_code == 0
    assert "passes milestone 01" in result.output
    assert (workspace / "app" / "main.py").read_text() == hello + "# mine\n"


def test_start_asks_before_replacing_a_workspace_not_at_the_start(runner, course, workspace, graded, hello):
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "main.py").write_text("mine")
    graded.result = FAILING

    declined = runner.invoke(cli.app, ["start", "02", "--prepare-only"], input="n\n")
    assert "does not pass milestone 01" in declined.output
    assert (workspace / "app" / "main.py").read_text() == "mine"

    accepted = runner.invoke(cli.app, ["start", "02", "--prepare-only"], input="y\n")
    assert accepted.exit_code == 0
    assert (workspace / "app" / "main.py").read_text() == hello
    [saved] = (workspace.parent / ".workbook" / "backups").iterdir()
    assert (saved / "app" / "main.py").read_text() == "mine"
    assert f"Your previous files are in {saved}/" in accepted.output


def test_jupyter_opens_the_lesson_on_loopback_rooted_at_the_repository(course, monkeypatch):
    monkeypatch.setenv("WORKBOOK_NO_BROWSER", "1")
    command = cli.jupyter_command(lessons.find_lesson("02"))
    assert command[1:4] == ["-m", "jupyter", "lab"]
    assert command[4] == "lessons/02_tasks.ipynb"
    assert "--ServerApp.ip=127.0.0.1" in command
    assert f"--ServerApp.root_dir={course}" in command
    assert "--no-browser" in command
    assert set(lab_options()) <= set(command)  # no news prompt (tests/test_jupyterlab_options.py)


def test_start_does_not_open_a_second_jupyterlab_for_the_course(runner, course, workspace, graded, monkeypatch):
    server = {"root_dir": str(course), "url": "http://127.0.0.1:8888/", "token": "abc", "pid": 4242}
    monkeypatch.setattr(cli, "running_jupyter", lambda root: server if str(root) == str(course) else None)
    notebook = lessons.find_lesson("02").notebook
    notebook.parent.mkdir(exist_ok=True)
    if not notebook.exists():
        notebook.write_text("{}")
    monkeypatch.setattr(cli.os, "execvp", lambda *args: pytest.fail("a second JupyterLab was started"))
    result = runner.invoke(cli.app, ["start", "02"])
    assert result.exit_code == 0, result.output
    assert "already running" in result.output
    assert "http://127.0.0.1:8888/lab/tree/lessons/02_tasks.ipynb?token=abc" in result.output


def test_a_running_jupyterlab_is_found_by_its_root_folder(tmp_path, monkeypatch):
    from jupyter_server import serverapp

    servers = [{"root_dir": "/elsewhere", "url": "http://127.0.0.1:1/"}, {"root_dir": str(tmp_path), "pid": 7}]
    monkeypatch.setattr(serverapp, "list_running_servers", lambda: iter(servers))
    assert cli.running_jupyter(tmp_path)["pid"] == 7
    assert cli.running_jupyter(tmp_path / "other") is None


def test_jupyter_is_allowed_to_run_as_root_only_for_root(course, monkeypatch):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert "--allow-root" in cli.jupyter_command(lessons.find_lesson("01"))
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    assert "--allow-root" not in cli.jupyter_command(lessons.find_lesson("01"))


# --- check ---------------------------------------------------------------------------------------


def test_check_without_a_workspace_says_how_to_make_one(runner, course, workspace, graded):
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 2
    assert f"No workspace at {workspace}. Run `workbook start 01` to create one." in result.output
    assert graded.calls == []


def test_check_passing_exits_0_and_records_progress(runner, course, workspace, graded):
    workspace.mkdir(parents=True)
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 0
    assert "All 3 checks pass. Lesson 01 is done." in result.output
    assert ws.progress(workspace)["01_hello"].passed


def test_check_failing_exits_1_with_the_first_failure_in_full(runner, course, workspace, graded):
    workspace.mkdir(parents=True)
    graded.result = FAILING
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 1
    assert "2 of 3 checks pass." in result.output
    assert 'GET / should answer {"message": "Hello World"} [see app/main.py]' in result.output
    assert ws.progress(workspace)["01_hello"].passed is False


def test_check_of_an_app_that_cannot_load_exits_2(runner, course, workspace, graded):
    workspace.mkdir(parents=True)
    graded.result = BROKEN
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 2
    assert "SyntaxError" in result.output


def test_check_app_dir_grades_another_folder_and_records_nothing(runner, course, workspace, graded, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    result = runner.invoke(cli.app, ["check", "01", "--app-dir", str(other)])
    assert result.exit_code == 0
    assert graded.calls == [("01_hello", other, ())]
    assert ws.progress(workspace) == {}


def test_a_lesson_without_a_milestone_suite_has_nothing_to_check(runner, course, workspace, graded):
    workspace.mkdir(parents=True)
    (course / "checkpoints" / "02_tasks" / "milestone").rmdir()
    result = runner.invoke(cli.app, ["check", "02"])
    assert result.exit_code == 2
    assert "Lesson 02 has no milestone suite" in result.output
    assert cli_workspace.status_rows(workspace)[1][2] == "no check"
    assert graded.calls == []


# --- hint ----------------------------------------------------------------------------------------


def test_hint_all_prints_every_question_and_answer(runner, course):
    result = runner.invoke(cli.app, ["hint", "02", "--all"])
    assert result.exit_code == 0
    assert result.output.index("Which decorator") < result.output.index('@app.get("/tasks/{task_id}")')
    assert "Hint 2 of 2" in result.output and "No task." in result.output
    assert "Show the answer" not in result.output


def test_hint_without_a_terminal_prints_them_all(runner, course):
    result = runner.invoke(cli.app, ["hint", "02"])
    assert "No task." in result.output


def test_hint_in_a_terminal_shows_the_answer_after_enter_and_asks_to_go_on(runner, course, monkeypatch):
    monkeypatch.setattr(cli_hints, "stdin_is_interactive", lambda: True)
    result = runner.invoke(cli.app, ["hint", "02"], input="\nn\n")
    assert result.exit_code == 0
    assert "Press Enter to see the answer" in result.output
    assert '@app.get("/tasks/{task_id}")' in result.output
    assert "Why 404?" not in result.output, "the learner said no to the next hint"


def test_a_lesson_without_hints_says_so(runner, course):
    result = runner.invoke(cli.app, ["hint", "01"])
    assert result.exit_code == 0
    assert "Lesson 01 has no hints." in result.output


# --- reset ---------------------------------------------------------------------------------------


def test_reset_says_where_the_old_workspace_is(runner, course, workspace, hello):
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "main.py").write_text("mine")
    result = runner.invoke(cli.app, ["reset", "02", "--yes"])
    assert result.exit_code == 0
    [saved] = (workspace.parent / ".workbook" / "backups").iterdir()
    assert f"Your previous files are in {saved}/" in result.output
    assert (saved / "app" / "main.py").read_text() == "mine"
    assert (workspace / "app" / "main.py").read_text() == hello


def test_reset_asks_first_and_changes_nothing_on_no(runner, course, workspace):
    (workspace / "app").mkdir(parents=True)
    (workspace / "app" / "main.py").write_text("mine")
    result = runner.invoke(cli.app, ["reset", "02"], input="n\n")
    assert result.exit_code == 1
    assert (workspace / "app" / "main.py").read_text() == "mine"


# --- status --------------------------------------------------------------------------------------


def test_status_lists_every_lesson_with_its_latest_check(runner, course, workspace):
    ws.record(workspace, lessons.find_lesson("01"), SuiteResult(exit_code=0, passed=3, total=3))
    rows = cli_workspace.status_rows(workspace)
    assert [row[:3] for row in rows] == [("01", "Hello", "passed"), ("02", "Tasks", "not yet")]
    ws.record(workspace, lessons.find_lesson("02"), FAILING)
    assert cli_workspace.status_rows(workspace)[1][2] == "failing (2 of 3)"
    result = runner.invoke(cli.app, ["status"])
    assert result.exit_code == 0
    assert "Hello" in result.output and "failing (2 of 3)" in result.output


def test_status_says_when_the_app_could_not_load(runner, course, workspace):
    ws.record(workspace, lessons.find_lesson("02"), BROKEN)
    assert cli_workspace.status_rows(workspace)[1][2] == "could not load"


def test_q_at_next_hint_stops_cleanly(runner, course, monkeypatch):
    monkeypatch.setattr(cli_hints, "stdin_is_interactive", lambda: True)
    result = runner.invoke(cli.app, ["hint", "02"], input="\nq\n")
    assert result.exit_code == 0, result.output
    assert "Hint 1 of 2" in result.output and "Hint 2 of 2" not in result.output
    assert "Error" not in result.output and "Aborted" not in result.output


# --- serve ---------------------------------------------------------------------------------------


def test_serve_runs_uvicorn_on_loopback_in_the_workspace(runner, workspace, monkeypatch):
    workspace.mkdir(parents=True)
    calls = []
    monkeypatch.setattr(cli_workspace.subprocess, "call", lambda command, cwd: calls.append((command, cwd)) or 0)
    result = runner.invoke(cli.app, ["serve", "--port", "8123", "--reload"])
    assert result.exit_code == 0
    [(command, cwd)] = calls
    assert command[1:] == ["-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", "8123", "--reload"]
    assert cwd == workspace


def test_serve_without_a_workspace_says_how_to_make_one(runner, workspace):
    result = runner.invoke(cli.app, ["serve"])
    assert result.exit_code == 2
    assert "Run `workbook start 01`" in result.output


# --- grade ---------------------------------------------------------------------------------------


@pytest.fixture
def submissions(tmp_path):
    """Three submission folders: ana (passes), ben (fails), cy (cannot load)."""
    folders = []
    for name in ("ana", "ben", "cy"):
        (tmp_path / "subs" / name / "app").mkdir(parents=True)
        folders.append(tmp_path / "subs" / name)
    return folders


def test_grade_tables_every_submission_and_writes_csv_and_junit(
    runner, course, graded, submissions, tmp_path, monkeypatch
):
    graded.results = {"ben": FAILING, "cy": BROKEN}
    monkeypatch.chdir(tmp_path)
    table = tmp_path / "grades.csv"
    junit = tmp_path / "junit"
    result = runner.invoke(
        cli.app, ["grade", "01", *map(str, submissions), "--csv", "grades.csv", "--junit-dir", "junit", "--jobs", "3"]
    )

    assert result.exit_code == 2, "a submission that cannot load wins"
    for expected in (
        "ana",
        "3/3",
        "passed",
        "ben",
        "2/3",
        "failed",
        "test_root_says_hello_world",
        "cy",
        "could not load",
    ):
        assert expected in result.output
    rows = list(csv.DictReader(table.open()))
    assert [(row["submission"], row["result"], row["passed"], row["total"]) for row in rows] == [
        ("ana", "passed", "3", "3"),
        ("ben", "failed", "2", "3"),
        ("cy", "could not load", "0", "0"),
    ]
    assert rows[1]["first_failure"] == "test_root_says_hello_world"
    files = sorted(path.name for path in junit.iterdir())
    assert [name.split("-")[0] for name in files] == ["ana", "ben", "cy"], files
    broken = next(junit.glob("cy-*.xml")).read_text()
    assert 'name="could not load"' in broken and "<error" in broken, "an LMS must never read a load failure as a pass"


def test_grade_exits_1_when_one_fails_and_0_when_all_pass(runner, course, graded, submissions):
    assert runner.invoke(cli.app, ["grade", "01", *map(str, submissions)]).exit_code == 0
    graded.results = {"ben": FAILING}
    assert runner.invoke(cli.app, ["grade", "01", *map(str, submissions)]).exit_code == 1


def test_submissions_with_the_same_folder_name_keep_their_paths(tmp_path):
    names = classroom.submission_names([tmp_path / "a" / "repo", tmp_path / "b" / "repo", tmp_path / "c"])
    assert names == [str(tmp_path / "a" / "repo"), str(tmp_path / "b" / "repo"), "c"]


# --- build ---------------------------------------------------------------------------------------


@pytest.fixture
def built(monkeypatch):
    """builder.build and builder.check replaced: they return `.drift`, or raise `.error`;
    `.calls` records (check?, store_outputs, the lesson's slug or None)."""

    class Stub:
        drift: list[str] = []
        error: Exception | None = None
        calls: list = []

        def record(self, checking, only, store_outputs=False):
            self.calls.append((checking, store_outputs, only.slug if only else None))
            if self.error:
                raise self.error
            return self.drift

    stub = Stub()
    stub.calls = []
    monkeypatch.setattr(
        builder, "build", lambda course, only=None, store_outputs=False: stub.record(False, only, store_outputs)
    )
    monkeypatch.setattr(builder, "check", lambda course, only=None: stub.record(True, only))
    return stub


def test_build_check_with_no_drift(runner, built):
    result = runner.invoke(cli.app, ["build", "--check"])
    assert result.exit_code == 0
    assert "lessons/ and checkpoints/ match solutions/." in result.output
    assert built.calls == [(True, False, None)]


def test_build_check_lists_each_drifted_file_and_exits_1(runner, built):
    built.drift = ["lessons/01_hello_world.ipynb", "checkpoints/01_hello_world/app/main.py"]
    result = runner.invoke(cli.app, ["build", "--check"])
    assert result.exit_code == 1
    assert "lessons/01_hello_world.ipynb\ncheckpoints/01_hello_world/app/main.py\n" in result.output


def test_build_one_lesson_with_outputs(runner, built, course):
    assert runner.invoke(cli.app, ["build", "--outputs", "2"]).exit_code == 0
    assert built.calls == [(False, True, "02_tasks")]


def test_a_build_error_is_reported_with_exit_2(runner, built):
    built.error = builder.BuildError("solutions/02_x.ipynb, cell 4, line 3: ### END SOLUTION without a BEGIN")
    result = runner.invoke(cli.app, ["build"])
    assert result.exit_code == 2
    assert "cell 4, line 3: ### END SOLUTION without a BEGIN" in result.output


# --- real checks against checkpoints/01_hello_world ------------------------------------------------

HELLO_WORLD = lessons.Course(lessons.REPO).find("01").checkpoint


@pytest.fixture
def real_course(tmp_path, monkeypatch, notebook):
    """A course holding a copy of the repository's real checkpoint 01 and its suite, with a stand-in solution."""
    root = tmp_path / "real"
    (root / "solutions").mkdir(parents=True)
    cell = {
        "cell_type": "code",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": "%%writefile app/main.py",
    }
    (root / "solutions" / "01_hello_world.ipynb").write_text(notebook("Hello World", [cell]))
    shutil.copytree(HELLO_WORLD, root / "checkpoints" / "01_hello_world", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("WORKBOOK_COURSE", str(root))


@pytest.fixture
def hello_workspace(workspace):
    """A workspace holding checkpoint 01's app."""
    shutil.copytree(HELLO_WORLD / "app", workspace / "app", ignore=shutil.ignore_patterns("__pycache__"))
    return workspace


def test_a_real_check_of_a_correct_app_passes(runner, real_course, hello_workspace):
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 0, result.output
    assert "checks pass. Lesson 01 is done." in result.output


def test_a_real_check_of_a_broken_app_names_the_failure(runner, real_course, hello_workspace):
    main = hello_workspace / "app" / "main.py"
    main.write_text(main.read_text().replace('"Hello World"', '"Hello"'))
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 1, result.output
    assert "First failure: test_root_says_hello_world" in result.output


def test_a_real_check_of_an_app_with_a_syntax_error_exits_2(runner, real_course, hello_workspace):
    (hello_workspace / "app" / "main.py").write_text("app = FastAPI(\n")
    result = runner.invoke(cli.app, ["check", "01"])
    assert result.exit_code == 2, result.output
    assert "SyntaxError" in result.output
