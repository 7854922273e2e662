"""Helpers for a lesson notebook's cells: `lesson = begin("02_requests_and_validation")`.

begin() binds the lesson, prepares the workspace and changes into it, so that plain
`%%writefile app/main.py` cells write the learner's files. The session it returns gives
cells a fresh TestClient of the app, a real server in the background, and the check.
"""

from __future__ import annotations

import atexit
import os
import sys
import tempfile
import warnings
from pathlib import Path

from workbook import workspace as ws
from workbook.lessons import Lesson, find_lesson, workspace_dir
from workbook.notebook_writefile import install_rerunnable_writefile, ipython_shell
from workbook.server import Server, ServerDidNotStart, free_port  # noqa: F401 (cells and tests use them from here)
from workbook.summary import summary

REQUEST_SECONDS = 15


# --- the marker transformer -----------------------------------------------------------------------


def drop_solution_markers(lines: list[str]) -> list[str]:
    """IPython cleanup transformer: a cell's lines without `### BEGIN/END SOLUTION` marker lines."""
    from workbook.markers import strip_markers

    source = "".join(lines)
    cleaned = strip_markers(source)
    return lines if cleaned == source else cleaned.splitlines(keepends=True)


def install_marker_transformer(shell=None) -> bool:
    """Register drop_solution_markers with IPython once. False when there is no IPython shell."""
    shell = ipython_shell(shell)
    if shell is None:
        return False
    transformers = shell.input_transformers_cleanup
    if not any(
        getattr(each, "__qualname__", None) == drop_solution_markers.__qualname__
        and getattr(each, "__module__", None) == __name__
        for each in transformers
    ):
        transformers.append(drop_solution_markers)
    return True


def app_error_report(error: BaseException, workspace: Path) -> str | None:
    """An error that came from the learner's app, told with their frames only (paths relative to the workspace)
    and the diagnosis of a known mistake (workbook.diagnoses), or a cell's own known mistake with its diagnosis;
    None for anything else (IPython shows it as usual)."""
    from workbook.diagnoses import diagnose, short_message
    from workbook.evidence import under
    from workbook.evidence_live import from_exception

    relative = under(workspace)
    if isinstance(error, SyntaxError) and relative(error.filename):
        text = (error.text or "").strip()
        return f"{relative(error.filename)}, line {error.lineno}: SyntaxError: {error.msg}" + (
            f"\n    {text}" if text else ""
        )
    evidence = from_exception(error, relative)
    found = diagnose(evidence)
    shown = [
        f"  {f.file}, line {f.line}, in {f.function}" + (f"\n    {f.code}" if f.code else "") for f in evidence.mine
    ]
    if not shown and found is None and evidence.request is None:
        return None
    message = short_message(evidence.error, evidence.message, evidence.problems)
    message = message.replace(f"{Path(workspace).resolve()}{os.sep}", "")
    # Not the app's when none of its files and no request took part: a cell's own code (a table defined twice).
    who = "Your app" if shown or evidence.request is not None else "This cell"
    lines = [f"{who} raised {evidence.error}: {message}", *shown]
    if evidence.request is not None:
        lines.insert(1, f"  (answering {evidence.request.method} {evidence.request.path})")
    return "\n".join(lines + ([f"Diagnosis: {found.text}"] if found else []))


def install_app_error_handler(workspace: Path, shell=None) -> bool:
    """Show errors raised in the workspace's files without the framework's frames (dozens of them)."""
    shell = ipython_shell(shell)
    if shell is None:
        return False

    def handler(shell, etype, value, tb, tb_offset=None):  # IPython ignores what it returns
        report = app_error_report(value, workspace)
        if report is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            print(report, file=sys.stderr)

    shell.set_custom_exc((Exception,), handler)
    # A table cell run again warns (naming SQLAlchemy's file) before it fails with a diagnosis that says it all.
    warnings.filterwarnings("ignore", message="This declarative base already contains a class with the same")
    return True


# --- begin ------------------------------------------------------------------------------------------


def begin(slug: str) -> LessonSession:
    """A notebook's first cell: bind the lesson, prepare the workspace, change into it.

    A missing or empty workspace is filled with the lesson's starting files. One that is not
    at the lesson's start is left untouched; the message says how to start from the checkpoint.
    """
    lesson = find_lesson(slug)
    session = LessonSession(lesson, workspace_dir())
    print(f"Lesson {lesson.number}: {lesson.title}")
    print(f"Workspace: {ws.display(session.workspace)}")
    print(ws.prepare(lesson, session.workspace))
    os.chdir(session.workspace)
    install_marker_transformer()
    install_app_error_handler(session.workspace)
    install_rerunnable_writefile()
    return session


class LessonSession:
    """What a lesson notebook's cells use: client(), serve(), check(), start_from_checkpoint()."""

    def __init__(self, lesson: Lesson, workspace: Path):
        self.lesson = lesson
        self.workspace = Path(workspace).resolve()
        self._client = None
        self._servers: list[Server] = []
        atexit.register(self.close)

    def __repr__(self) -> str:
        return f"<Lesson {self.lesson.number}: {self.lesson.title}>"

    def start_from_checkpoint(self) -> None:
        """Back up the workspace, then replace it with the lesson's starting files (says where the backup is)."""
        self._close_client()
        saved = ws.start_from(self.lesson, self.workspace)
        print(f"The workspace now starts from {self.lesson.starting_point}.")
        if saved:
            print(ws.kept_in(saved).strip())

    # --- exploring the app -------------------------------------------------------------------------

    def client(self):
        """A fresh TestClient of the workspace app (modules re-imported, lifespan entered)."""
        from fastapi.testclient import TestClient

        from workbook.loader import import_app, with_time_limit

        self._close_client()
        app = with_time_limit(import_app(self.workspace), REQUEST_SECONDS)
        client = TestClient(app)
        client.__enter__()
        self._client = client
        return client

    def module(self, name: str = "app.main"):
        """Your module `name` as its file is now, imported afresh: to try what a step defines before it has routes."""
        from workbook.loader import import_fresh

        self._close_client()
        return import_fresh(self.workspace, name)

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.__exit__(None, None, None)

    def serve(self, port: int | None = None) -> Server:
        """Run the workspace app under uvicorn on 127.0.0.1 in the background until .stop()."""
        server = Server(self.workspace, port)
        server.start()
        self._servers.append(server)
        return server

    def pytest(self, *paths: str, bug: str | None = None) -> None:
        """Run your tests/ as the grade does (a fresh copy, a temporary database, cheap Argon2) and print
        pytest's report. With bug="delete_not_saved" (an id from the lesson's planted_bugs.toml) they run
        on the reference app with that bug planted in it, instead of on your app."""
        from workbook.mutation import planted_bugs, run_target

        planted = None
        if bug is not None:
            known = {each["id"]: each for each in planted_bugs(self.lesson.suite)}
            if bug not in known:
                raise ValueError(f"There is no planted bug {bug!r}. Use one of: {', '.join(known)}.")
            planted = known[bug]
        # A planted bug goes into the reference app this lesson starts from (lesson 06 keeps the 05 app).
        app = self.workspace / "app" if planted is None else self.lesson.previous.checkpoint / "app"
        args = ["-q", "--tb=short", *(paths or ("tests",))]
        note = f"   # with a planted bug: {planted['bug']}" if planted else ""
        print(f"$ python -m pytest {' '.join(args)}{note}")
        with tempfile.TemporaryDirectory(prefix="workbook-tests-") as scratch:
            run, _ = run_target(app, self.workspace / "tests", Path(scratch), planted, paths=args)
        print(run.outcome.stdout.strip() or run.outcome.stderr.strip())
        if planted is not None:
            caught = run.caught_by
            print(
                f"Caught: {caught[0].name} fails with this bug in the app."
                if caught
                else "Missed: no test fails with this bug in the app."
            )

    def check(self, exercise: str | None = None) -> None:
        """Run this lesson's milestone suite, and the earlier ones its app keeps, on the workspace; print a summary.
        With an exercise's name (`lesson.check("create_task")`), only that exercise's checks."""
        from workbook.exercises import UnknownExercise, find_exercise
        from workbook.grading import check_lesson

        if not self.lesson.suite.is_dir():
            print(f"Lesson {self.lesson.number} has no milestone suite: there is nothing to check.")
            return
        try:
            step = find_exercise(self.lesson, exercise) if exercise is not None else None
        except UnknownExercise as unknown:
            print(unknown)
            return
        result = check_lesson(self.lesson, self.workspace, exercise=step and step.name)
        if step is None:  # a lesson's status comes from a check of all of it
            ws.record(self.workspace, self.lesson, result)
        print(summary(self.lesson, result, exercise=step))

    def close(self) -> None:
        self._close_client()
        for server in self._servers:
            server.stop()
