"""One exercise at a time: each lesson's map from a step to its checks (workbook.exercises), and the notebook built
around it: no `%%writefile` cell with more than 3 TODOs, a Try-it cell and `lesson.check("NAME")` after each
step, each hint under its exercise. The runs that use the map (--exercise, the order failures are shown in) are
tested here too; a blank lesson's first failure is in tests/test_invariants.py."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from workbook.exercises import Exercise, UnknownExercise, exercise_index, exercises, find_exercise
from workbook.grading import grading_environment, run_suite, suite_command
from workbook.hints import hints
from workbook.lessons import all_lessons, find_lesson
from workbook.suite_result import Failure, SuiteResult
from workbook.summary import summary

GRADED = [lesson for lesson in all_lessons() if lesson.has_checkpoint and lesson.suite.is_dir()]
MAX_TODOS = 3
CHECK_CELL = re.compile(r"""^\s*lesson\.check\(\s*["'](?P<name>\w+)["']\s*\)\s*$""")


def cells_of(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [
        (cell, "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for cell in notebook["cells"]
    ]


def collected_tests(lesson) -> list[str]:
    """The suite's tests as pytest names them (test_x[param]), by a collection that loads no app."""
    command = suite_command(lesson, lesson.checkpoint, ["--collect-only"])  # -q is in it already
    run = subprocess.run(
        command, cwd=lesson.course.root, env=grading_environment(), capture_output=True, text=True, timeout=120
    )
    names = [line.rsplit("::", 1)[-1] for line in run.stdout.splitlines() if "::" in line]
    assert names, f"collecting {lesson.slug}'s suite found no tests:\n{run.stdout[-2000:]}{run.stderr[-2000:]}"
    return names


# --- the map -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lesson", GRADED, ids=lambda each: each.slug)
def test_the_exercises_share_out_the_suite_each_check_to_one_exercise(lesson):
    found = exercises(lesson)
    assert found, f"solutions/{lesson.slug}.ipynb metadata `workbook.exercises` should map each step to its checks"
    names = [exercise.name for exercise in found]
    assert len(set(names)) == len(names), f"{lesson.slug}: an exercise name is used twice: {names}"
    collected = collected_tests(lesson)
    owners = {test: [each.name for each in found if each.selects(test)] for test in collected}
    unmapped = [test for test, owning in owners.items() if not owning]
    twice = {test: owning for test, owning in owners.items() if len(owning) > 1}
    assert not unmapped, f"{lesson.slug}: these checks belong to no exercise: {unmapped}"
    assert not twice, f"{lesson.slug}: these checks belong to more than one exercise: {twice}"
    named = {*collected, *(test.partition("[")[0] for test in collected)}
    unknown = {exercise.name: [n for n in exercise.tests if n not in named] for exercise in found}
    assert not any(unknown.values()), f"{lesson.slug}: the map names checks the suite does not have: {unknown}"


@pytest.mark.parametrize("lesson", [each for each in GRADED if each.notebook.exists()], ids=lambda each: each.slug)
def test_no_writefile_cell_asks_for_more_than_3_todos(lesson):
    for number, (cell, source) in enumerate(cells_of(lesson.notebook)):
        if cell["cell_type"] == "code" and source.startswith("%%writefile"):
            todos = len(re.findall(r"^\s*# TODO:", source, re.MULTILINE))
            assert todos <= MAX_TODOS, (
                f"lessons/{lesson.slug}.ipynb, cell {number} ({source.partition(chr(10))[0]}) asks for {todos} TODOs at once:"
                f" split the step so each can be tried before the next (at most {MAX_TODOS})"
            )


@pytest.mark.parametrize("lesson", [each for each in GRADED if each.solution.exists()], ids=lambda each: each.slug)
def test_each_exercise_is_tried_then_checked_with_its_hints_under_it(lesson):
    """Cell by cell: an exercise's cells, its hints, a Try-it cell, then lesson.check("NAME"), in the map's order."""
    names = [exercise.name for exercise in exercises(lesson)]
    checked, since_check, hints_seen = [], [], []
    for number, (cell, source) in enumerate(cells_of(lesson.solution)):
        where = f"solutions/{lesson.slug}.ipynb, cell {number}"
        if cell["cell_type"] == "markdown" and "hint" in cell.get("metadata", {}).get("tags", []):
            exercise = cell["metadata"].get("workbook", {}).get("exercise")
            assert exercise in names, (
                f"{where}: a hint should name its exercise (metadata workbook.exercise), one of {names}"
            )
            hints_seen.append((where, exercise))
        if cell["cell_type"] != "code":
            continue
        found = CHECK_CELL.match(source)
        if not found:
            since_check.append(source)
            continue
        name = found["name"]
        assert name in names, f"{where}: lesson.check({name!r}) names no exercise of the lesson ({names})"
        tried = [each for each in since_check if not each.lstrip().startswith("%%writefile")]
        assert tried, f"{where}: before lesson.check({name!r}), a cell should try what the step made"
        for hint_where, exercise in hints_seen:
            assert exercise == name, f"{hint_where}: a hint of exercise {exercise} sits under exercise {name}"
        stored = "".join("".join(output.get("text", "")) for output in cell.get("outputs", []))
        assert f"Exercise {name} passes" in stored, (
            f"{where}: in the solution, lesson.check({name!r}) should pass: {stored}"
        )
        checked.append(name)
        since_check, hints_seen = [], []
    assert checked == names, f"solutions/{lesson.slug}.ipynb should check its exercises one by one, in order: {names}"
    for hint_where, exercise in hints_seen:  # after the last check: the last exercise's, if any
        assert exercise == names[-1], f"{hint_where}: a hint of exercise {exercise} sits after exercise {names[-1]}"


# --- what uses it ----------------------------------------------------------------------------------


def test_an_exercise_run_holds_only_its_checks_and_an_unknown_one_is_refused():
    lesson = GRADED[1]  # lesson 02: one file, several steps
    first = exercises(lesson)[0]
    result = run_suite(lesson, lesson.checkpoint, [f"--exercise={first.name}"])
    assert result.exit_code == 0, result.output[-2000:]
    ran = {test.name for test in result.tests}
    assert ran and all(first.selects(name) for name in ran), f"--exercise={first.name} ran {sorted(ran)}"
    assert len(ran) == sum(first.selects(name) for name in collected_tests(lesson))
    with pytest.raises(UnknownExercise, match=first.name):
        find_exercise(lesson, "no_such_exercise")
    refused = run_suite(lesson, lesson.checkpoint, ["--exercise=no_such_exercise"])
    assert refused.exit_code != 0 and "no exercise 'no_such_exercise'" in refused.output


def test_a_test_of_an_earlier_exercise_ranks_first_and_the_summary_says_what_comes_next():
    lesson = GRADED[1]
    found = exercises(lesson)
    assert len(found) > 1, "lesson 02 should come in several exercises"
    first, second = found[0], found[1]
    assert exercise_index(lesson, first.tests[0]) == 0 and exercise_index(lesson, second.tests[0]) == 1
    later = Failure(second.tests[0], "wrong", lesson.slug, "answer")
    earlier = Failure(first.tests[0], "wrong too", lesson.slug, "answer")
    result = SuiteResult(
        exit_code=1, failed=2, total=2, failures=[later, earlier], verdict="failed", lesson=lesson.slug
    )
    assert result.first_failure is earlier
    route = Failure(second.tests[-1], "no route", lesson.slug, "route")
    result.failures.append(route)
    assert result.first_failure is route, "a missing route is still told before a wrong answer"
    passed = SuiteResult(exit_code=0, passed=3, total=3, verdict="passed", lesson=lesson.slug)
    assert f"exercise {second.name}" in summary(lesson, passed, exercise=first)
    last = summary(lesson, passed, exercise=found[-1])
    assert "Lesson 02 is done" not in last and "whole lesson" in last
    failing = summary(lesson, result, exercise=first)
    assert f"of exercise {first.name} pass" in failing and "Lesson 02 is done" not in failing


def test_an_exercise_selects_its_tests_whole_or_one_case():
    exercise = Exercise("catch_bugs", "Catch bugs", ("test_catches[wrong_password]", "test_plain"))
    assert exercise.selects("test_plain") and exercise.selects("test_plain[x]")
    assert exercise.selects("test_catches[wrong_password]") and not exercise.selects("test_catches[other]")


def test_check_and_hint_name_the_exercises_there_are():
    lesson = find_lesson("02")
    names = [exercise.name for exercise in exercises(lesson)]
    run = subprocess.run(
        ["workbook", "check", "02", "--app-dir", str(lesson.checkpoint), "-e", "nope"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2 and all(name in run.stdout + run.stderr for name in names), run.stdout + run.stderr
    with_hints = [name for name in names if hints(lesson, exercise=name)]
    assert with_hints, "lesson 02's hints should sit under their exercises"
    own, others = hints(lesson, exercise=with_hints[0]), [h for h in hints(lesson) if h.exercise != with_hints[0]]
    shown = subprocess.run(
        ["workbook", "hint", "02", with_hints[0], "--all"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    plain = lambda text: " ".join(text.replace("*", "").replace("`", "").split())  # noqa: E731 (as rich prints it)
    shown_text = plain(shown.stdout)
    first_words = lambda hint: " ".join(plain(hint.question).split()[:4])  # noqa: E731
    assert all(first_words(hint) in shown_text for hint in own), shown.stdout
    assert not any(first_words(hint) in shown_text for hint in others), shown.stdout
