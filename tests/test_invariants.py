"""The invariants that keep the course honest, checked for every lesson that has a checkpoint.

- One app grows: each reference app still passes the earlier suites it keeps (solution
  notebook metadata `keeps`), with the options they need (a prefix, a signed-in user).
- Discriminating suites: a milestone suite fails on the previous checkpoint and on the
  lesson's blank starting state (what a learner has who ran the cells but did no exercise).

Its own suite passing on each checkpoint is checked where pytest collects checkpoints/.
A new lesson is picked up from solutions/ and checkpoints/ without editing this file.
"""

from pathlib import Path

import pytest

from workbook.checkpoints import blank_state
from workbook.exercises import exercises
from workbook.grading import run_suite
from workbook.lessons import all_lessons, find_lesson

GRADED = [lesson for lesson in all_lessons() if lesson.has_checkpoint and lesson.suite.is_dir()]
KEPT = [(lesson, find_lesson(earlier), options) for lesson in GRADED for earlier, options in lesson.keeps.items()]


def describe(result) -> str:
    if result.load_error:
        return f"the app did not load: {result.load_error}"
    failures = "\n".join(f"- {f.test}: {f.message}" for f in result.failures[:5])
    return f"{result.passed} of {result.total} passed (exit {result.exit_code})\n{failures}\n{result.output[-1500:]}"


@pytest.mark.parametrize(
    ("lesson", "earlier", "options"), KEPT, ids=[f"{lesson.number}-keeps-{e.number}" for lesson, e, _ in KEPT]
)
def test_a_later_app_still_passes_the_suites_it_keeps(lesson, earlier, options):
    result = run_suite(earlier, lesson.checkpoint, extra_args=options)
    assert result.exit_code == 0, (
        f"checkpoints/{lesson.slug} should still pass the {earlier.slug} suite {options}: {describe(result)}"
    )


@pytest.mark.parametrize("lesson", [each for each in GRADED if each.previous], ids=lambda each: each.slug)
def test_a_suite_fails_on_the_previous_checkpoint(lesson):
    result = run_suite(lesson, lesson.previous.checkpoint, extra_args=["-x"])
    assert result.exit_code == 1, (
        f"the {lesson.slug} suite should fail (exit 1) on checkpoints/{lesson.previous.slug}: {describe(result)}"
    )


@pytest.mark.parametrize("lesson", [each for each in GRADED if each.notebook.exists()], ids=lambda each: each.slug)
def test_a_suite_fails_on_the_lessons_blank_starting_state_first_on_its_first_exercise(lesson, tmp_path: Path):
    blank = blank_state(lesson, tmp_path / "blank")
    result = run_suite(lesson, blank)
    assert result.exit_code in (1, 2), (
        f"the {lesson.slug} suite should fail on the lesson's blank state (exercises left as TODO): {describe(result)}"
    )
    first, shown = exercises(lesson)[0], result.first_failure
    if shown is None:  # the blank app cannot load: the error should point into a file the first exercise writes
        files = first_exercise_files(lesson, first.name)
        assert any(name in str(result.load_error) for name in files), (
            f"on {lesson.slug}'s blank state the app does not load, and the error should name a file of its first"
            f" exercise ({first.name}: {files}), not: {result.load_error}"
        )
        return
    assert first.selects(shown.test), (
        f"on {lesson.slug}'s blank state the first failure shown should be about its first exercise ({first.name}),"
        f" not {shown.test}"
    )


def first_exercise_files(lesson, name: str) -> list[str]:
    """The files the solution's %%writefile cells write before lesson.check(name)."""
    import nbformat

    files = []
    for cell in nbformat.read(str(lesson.solution), 4).cells:
        source = cell.source.strip()
        if cell.cell_type != "code":
            continue
        if source in (f'lesson.check("{name}")', f"lesson.check('{name}')"):
            break
        if source.startswith("%%writefile"):
            files.append(source.partition("\n")[0].split()[-1])
    return files


def test_every_graded_lesson_keeps_the_first_suite():
    """Hello World and /health stay for good: every later app must say it keeps the 01 suite."""
    first = GRADED[0]
    for lesson in GRADED[1:]:
        assert first.slug in lesson.keeps, f"solutions/{lesson.slug}.ipynb metadata should list {first.slug} in keeps"
