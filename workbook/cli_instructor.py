"""The instructor's and the maintainer's commands: `workbook grade` and `workbook build`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from workbook import verdicts
from workbook.classroom import (
    first_failure,
    grade_exit_code,
    grade_submissions,
    safe_text,
    submission_names,
    verdict,
    write_csv,
)
from workbook.cli import app, fail, graded_lesson_or_exit, lesson_or_exit, out, say
from workbook.lessons import current_course

# --- grade ---------------------------------------------------------------------------------------


@app.command()
def grade(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson whose milestone to grade.")],
    folders: Annotated[list[Path], typer.Argument(metavar="DIR...", help="Submissions: folders that hold app/.")],
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the results as CSV.")] = None,
    junit_dir: Annotated[
        Path | None, typer.Option("--junit-dir", help="Write one JUnit XML file per submission here.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Submissions graded at once.")] = 2,
) -> None:
    """Grade many submissions against lesson NN's milestone suite, in parallel."""
    lesson = graded_lesson_or_exit(lesson_name)
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise fail(f"No folder at {', '.join(missing)}. Pass folders that hold app/.")
    names = submission_names(folders)
    results = grade_submissions(lesson, folders, junit_dir=junit_dir, jobs=jobs)
    table = Table(
        "Submission", "Passed", "Result", "First failure", title=f"Lesson {lesson.number}: {escape(lesson.title)}"
    )
    for name, result in zip(names, results, strict=True):
        table.add_row(
            escape(safe_text(name, 200)),
            f"{result.passed}/{result.total}",
            verdict(result),
            escape(first_failure(result)),
            style=verdicts.STYLES.get(verdict(result), "red"),
        )
    out().print(table)
    isolations = sorted({result.isolation for result in results if result.isolation})
    if isolations:
        say(f"Isolation: {', '.join(isolations)} (`workbook doctor` says what this machine supports).")
    if csv_file:
        write_csv(csv_file, names, results)
        say(f"Wrote {csv_file}")
    if junit_dir:
        say(f"Wrote JUnit XML to {junit_dir}/")
    raise typer.Exit(grade_exit_code(results))


# --- doctor --------------------------------------------------------------------------------------


@app.command()
def doctor() -> None:
    """What this machine supports for grading: the sandbox, the uid children run as, the limits."""
    from workbook import sandbox

    for line in sandbox.doctor():
        say(line)


# --- build ---------------------------------------------------------------------------------------


@app.command()
def build(
    lesson_name: Annotated[str | None, typer.Argument(metavar="[LESSON]", help="Build only this lesson.")] = None,
    check_only: Annotated[bool, typer.Option("--check", help="Change nothing; list files that differ.")] = False,
    outputs: Annotated[bool, typer.Option("--outputs", help="Execute solutions and store their outputs.")] = False,
) -> None:
    """Regenerate lessons/ and checkpoints/ from solutions/."""
    from workbook import builder

    only = lesson_or_exit(lesson_name) if lesson_name else None
    course = current_course()
    try:
        changed = builder.check(course, only) if check_only else builder.build(course, only, store_outputs=outputs)
    except builder.BuildError as error:
        raise fail(f"{error}\nFix the solution notebook, then run `workbook build` again.") from None
    if not check_only:
        say("Built lessons/ and checkpoints/ from solutions/.")
        return
    if changed:
        for path in changed:
            say(str(path))
        raise fail(
            f"{len(changed)} files differ from what solutions/ make. Run `workbook build` to regenerate them.", 1
        )
    say("lessons/ and checkpoints/ match solutions/.")
