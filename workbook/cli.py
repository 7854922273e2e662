"""The `workbook` command, a thin layer over workspace, grading, hints and builder: its typer app, what every
command shares (printing, finding the lesson and the workspace), and the lesson loop: `start`, `check`, `watch`.

The other commands register themselves on `app`: workbook.cli_hints (hint), workbook.cli_workspace (reset,
status, serve) and workbook.cli_instructor (grade, doctor, build).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from workbook import workspace as ws
from workbook.jupyterlab_options import lab_options
from workbook.lessons import Lesson, UnknownLesson, find_lesson, workspace_dir
from workbook.summary import summary

app = typer.Typer(
    help="The FastAPI workbook: start a lesson, check your app, get hints, grade submissions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

USAGE_ERROR = 2


def out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def say(text: str, style: str | None = None) -> None:
    """Print plain text (never read as rich markup: messages hold brackets)."""
    out().print(escape(text), style=style)


def fail(text: str, code: int = USAGE_ERROR) -> typer.Exit:
    """Print an error (what happened, then what to do) and return the Exit to raise."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(escape(text), style="red")
    return typer.Exit(code)


def lesson_or_exit(name: str) -> Lesson:
    try:
        return find_lesson(name)
    except UnknownLesson as error:
        raise fail(f"{error} Run `workbook status` to see them with their titles.") from None


def graded_lesson_or_exit(name: str) -> Lesson:
    lesson = lesson_or_exit(name)
    if not lesson.suite.is_dir():
        raise fail(
            f"Lesson {lesson.number} has no milestone suite, so there is nothing to check. Lessons from 01 on have one."
        )
    return lesson


def existing_workspace() -> Path:
    workspace = workspace_dir()
    if not workspace.is_dir():
        raise fail(f"No workspace at {_shown(workspace)}. Run `workbook start 01` to create one.")
    return workspace


def _shown(workspace: Path) -> str:
    shown = ws.display(workspace)
    return f"./{shown.rstrip('/')}" if shown == "workspace/" else shown.rstrip("/")


# --- start ---------------------------------------------------------------------------------------


def jupyter_command(lesson: Lesson) -> list[str]:
    """`jupyter lab` on the lesson's notebook, on loopback, rooted at the repository."""
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        str(lesson.notebook.relative_to(lesson.course.root)),
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={lesson.course.root}",
        *lab_options(),  # no news prompt, nothing fetched
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    if os.environ.get("WORKBOOK_NO_BROWSER"):
        command.append("--no-browser")
    return command


def running_jupyter(root: Path) -> dict | None:
    """A JupyterLab (a Jupyter server) already running with `root` as its root folder, as it describes itself."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    for server in list_running_servers():
        try:
            if Path(server.get("root_dir", "")).resolve() == Path(root).resolve():
                return server
        except (OSError, TypeError):
            continue
    return None


@app.command()
def start(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson, e.g. 02.")],
    prepare_only: Annotated[
        bool, typer.Option("--prepare-only", help="Prepare the workspace, don't open JupyterLab.")
    ] = False,
) -> None:
    """Open JupyterLab on lesson NN, with the workspace ready for it."""
    lesson = lesson_or_exit(lesson_name)
    workspace = workspace_dir()
    say(ws.prepare(lesson, workspace, confirm=lambda question: typer.confirm(question, default=False)))
    if prepare_only:
        return
    if not lesson.notebook.exists():
        raise fail(
            f"There is no notebook {lesson.course.show(lesson.notebook)}. Run `workbook build` to make lessons/."
        )
    running = running_jupyter(lesson.course.root)
    if running is not None:  # a second one would take another port, and two kernels would share the workspace
        where = str(lesson.notebook.relative_to(lesson.course.root))
        token = f"?token={running['token']}" if running.get("token") else ""
        say(
            f"JupyterLab is already running for this course (process {running.get('pid')}): open "
            f"{running.get('url', '').rstrip('/')}/lab/tree/{where}{token}\n"
            "Stop it (Ctrl-C in its terminal) to start a new one."
        )
        return
    os.environ["WORKBOOK_WORKSPACE"] = str(workspace)  # the kernel finds the same workspace
    os.chdir(lesson.course.root)
    command = jupyter_command(lesson)
    os.execvp(command[0], command)


# --- check ---------------------------------------------------------------------------------------


def exit_code(result) -> int:
    """The verdict's exit code (workbook.verdicts): 0 passed, 1 failed, 2 could not load, 3 grader error."""
    from workbook.verdicts import exit_code as of_verdict

    return of_verdict(result.verdict)


EXERCISE_OPTION = typer.Option(
    "--exercise", "-e", metavar="NAME", help="Only the checks of one exercise (e.g. create_task)."
)


def exercise_or_exit(lesson: Lesson, name: str | None):
    """The lesson's exercise called `name` (None for none), or exit saying which there are."""
    from workbook.exercises import UnknownExercise, find_exercise

    try:
        return find_exercise(lesson, name) if name is not None else None
    except UnknownExercise as unknown:
        raise fail(str(unknown)) from None


@app.command()
def check(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson whose milestone to check.")],
    app_dir: Annotated[
        Path | None, typer.Option("--app-dir", help="Check the app in DIR instead of the workspace.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="List every failing check, one line each.")] = False,
    exercise: Annotated[str | None, EXERCISE_OPTION] = None,
) -> None:
    """Grade the workspace against lesson NN's milestone suite and the earlier suites its app keeps."""
    lesson = graded_lesson_or_exit(lesson_name)
    step = exercise_or_exit(lesson, exercise)
    folder = app_dir.resolve() if app_dir else existing_workspace()
    if app_dir and not folder.is_dir():
        raise fail(f"No folder at {app_dir}. Pass the folder that holds app/.")
    result = check_and_record(lesson, folder, record=app_dir is None, exercise=step)
    say(summary(lesson, result, every=every, exercise=step), style="green" if result.exit_code == 0 else None)
    raise typer.Exit(exit_code(result))


def check_and_record(lesson: Lesson, folder: Path, record: bool = True, exercise=None):
    """The check `workbook check` and `workbook watch` run: the lesson's suite and its keeps, or one exercise's
    checks (not recorded: a lesson's status comes from a check of all of it)."""
    from workbook.grading import check_lesson

    result = check_lesson(lesson, folder, exercise=exercise and exercise.name)
    if record and exercise is None:
        ws.record(folder, lesson, result)
    return result


# --- watch ---------------------------------------------------------------------------------------


@app.command()
def watch(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson whose milestone to check.")],
    exercise: Annotated[str | None, EXERCISE_OPTION] = None,
) -> None:
    """Check lesson NN (or one exercise of it) again whenever a file of the workspace changes (Ctrl-C stops)."""
    from workbook.watch import watch_and_check

    lesson = graded_lesson_or_exit(lesson_name)
    step = exercise_or_exit(lesson, exercise)
    workspace = existing_workspace()

    def check_once() -> None:
        result = check_and_record(lesson, workspace, exercise=step)
        say(summary(lesson, result, exercise=step), style="green" if result.exit_code == 0 else None)

    try:
        watch_and_check(workspace, check_once, say)
    except KeyboardInterrupt:  # pressed during a check
        say("Stopped watching.")


# The other commands, each module registering its own on `app`. Imported in this order because typer lists
# commands in `workbook --help` in the order they were registered: hint; reset, status, serve; then the
# instructor's and the maintainer's grade, doctor, build.
for _commands in ("cli_hints", "cli_workspace", "cli_instructor"):
    importlib.import_module(f"workbook.{_commands}")
