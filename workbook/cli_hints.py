"""The learner's `workbook hint`: a lesson's hints, one at a time in a terminal, all at once otherwise."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from workbook.cli import app, exercise_or_exit, lesson_or_exit, out, say
from workbook.hints import Hint, hints

# --- hint ----------------------------------------------------------------------------------------


def stdin_is_interactive() -> bool:
    return sys.stdin.isatty()


def walk_hints(found: list[Hint], interactive: bool) -> None:
    """Show hints: all at once, or one at a time with the answer after Enter."""
    from rich.markdown import Markdown  # imported here: it costs every other command 0.15 s

    console = out()

    def show(markdown: str) -> None:  # rendered in a terminal, as written when piped
        console.print(Markdown(markdown) if console.is_terminal else escape(markdown))

    for number, hint in enumerate(found, start=1):
        console.rule(f"Hint {number} of {len(found)}", align="left")
        show(hint.question)
        if interactive:
            typer.prompt("Press Enter to see the answer", default="", show_default=False, prompt_suffix=" ")
        show(hint.answer or "(This hint has no answer.)")
        console.print()
        if interactive and number < len(found) and not wants_more():
            return


def wants_more() -> bool:
    """ "Next hint? [Y/n/q]": Enter or y for more; n or q (or Ctrl-D) to stop."""
    while True:
        try:
            answer = typer.prompt("Next hint? [Y/n/q]", default="y", show_default=False).strip().lower()
        except (typer.Abort, EOFError):
            return False
        if answer in ("y", "yes", "n", "no", "q", "quit"):
            return answer.startswith("y")
        say("Answer y (or Enter) for the next hint, n or q to stop.")


@app.command()
def hint(
    lesson_name: Annotated[str, typer.Argument(metavar="NN", help="The lesson.")],
    exercise: Annotated[
        str | None, typer.Argument(metavar="[EXERCISE]", help="Only the hints of one exercise, e.g. create_task.")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Print every hint and answer at once.")] = False,
) -> None:
    """Lesson NN's hints (or one exercise's), one at a time: the question, then the answer when you press Enter."""
    lesson = lesson_or_exit(lesson_name)
    step = exercise_or_exit(lesson, exercise)
    found = hints(lesson, exercise=step and step.name)
    if not found:
        say(f"Exercise {step.name} has no hints." if step else f"Lesson {lesson.number} has no hints.")
        return
    walk_hints(found, interactive=not show_all and stdin_is_interactive())
