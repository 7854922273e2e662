"""The learner's commands on the workspace beside the lesson loop: `workbook reset`, `status` and `serve`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workbook import workspace as ws
from workbook.cli import app, existing_workspace, lesson_or_exit, out, say
from workbook.lessons import all_lessons, workspace_dir
from workbook.server import uvicorn_command

# --- reset ---------------------------------------------------------------------------------------


@app.command()
def reset(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson to start again.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Don't ask for confirmation.")] = False,
) -> None:
    """Put the workspace back at the start of lesson NN; the old one is kept under .workbook/backups/."""
    lesson = lesson_or_exit(lesson_name)
    workspace = workspace_dir()
    shown = ws.display(workspace)
    if not yes:
        typer.confirm(
            f"Reset {shown} to the start of lesson {lesson.number}? Your files are backed up first", abort=True
        )
    saved = ws.reset(lesson, workspace)
    say(f"{shown} is back at the start of lesson {lesson.number} ({lesson.starting_point}).{ws.kept_in(saved)}")


# --- status --------------------------------------------------------------------------------------


def status_rows(workspace: Path) -> list[tuple[str, str, str, str]]:
    """(number, title, result, when) for every lesson."""
    done = ws.progress(workspace)
    rows = []
    for lesson in all_lessons():
        entry = done.get(lesson.slug)
        if not lesson.suite.is_dir():
            rows.append((lesson.number, lesson.title, "no check", ""))
            continue
        if entry is None:
            rows.append((lesson.number, lesson.title, "not yet", ""))
            continue
        result = (
            "passed"
            if entry.passed
            else "could not load"
            if not entry.loaded
            else f"failing ({entry.checks_passed} of {entry.checks_total})"
        )
        rows.append((lesson.number, lesson.title, result, entry.when.replace("T", " ")))
    return rows


@app.command()
def status() -> None:
    """Your progress: each lesson, whether its check passed, and when."""
    table = Table("Lesson", "Title", "Check", "When (UTC)")
    styles = {"passed": "green", "not yet": "dim", "no check": "dim"}
    for number, title, result, when in status_rows(workspace_dir()):
        table.add_row(number, escape(title), result, when, style=styles.get(result, "yellow"))
    out().print(table)


# --- serve ---------------------------------------------------------------------------------------


@app.command()
def serve(
    port: Annotated[int, typer.Option("--port", help="The port on 127.0.0.1.")] = 8000,
    reload: Annotated[bool, typer.Option("--reload", help="Restart when a file changes.")] = False,
) -> None:
    """Run the workspace app with uvicorn on 127.0.0.1 (Ctrl+C stops it)."""
    workspace = existing_workspace()
    say(f"Serving {ws.display(workspace)} at http://127.0.0.1:{port} (docs at /docs). Ctrl+C stops it.")
    try:
        code = subprocess.call(uvicorn_command(port, reload), cwd=workspace)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
