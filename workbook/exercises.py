"""A lesson's exercises and the milestone checks of each: the one map from a step of the notebook to its tests.

The map is the solution notebook's metadata `workbook.exercises`, in the order the notebook teaches them:

    "exercises": [{"name": "create_task", "title": "Create a task", "tests": ["test_creating_a_task_answers_201"]}]

A test is named as pytest names it, by function (every parameter of it) or with its parameters
(`test_x[bug_id]`). `workbook check NN --exercise NAME`, `lesson.check("NAME")` and `workbook watch NN
--exercise NAME` run only that exercise's tests (the plugin's --exercise); `workbook hint NN NAME` shows the hints
under that exercise (hint cells say theirs in their metadata, `workbook.exercise`); and a failure of an earlier
exercise is shown before one of a later (workbook.suite_result).
"""

from __future__ import annotations

from dataclasses import dataclass

from workbook.lessons import Lesson


class UnknownExercise(LookupError):
    pass


@dataclass(frozen=True)
class Exercise:
    name: str
    title: str
    tests: tuple[str, ...]

    def selects(self, test_name: str) -> bool:
        """Whether the test named `test_name` (as pytest names it: `test_x` or `test_x[param]`) is one of its checks."""
        return test_name in self.tests or test_name.partition("[")[0] in self.tests


def exercises(lesson: Lesson) -> tuple[Exercise, ...]:
    """The lesson's exercises, in the notebook's order (none when its notebook maps none)."""
    return tuple(
        Exercise(name=each["name"], title=each.get("title", each["name"]), tests=tuple(each.get("tests", ())))
        for each in lesson.exercise_map
    )


def find_exercise(lesson: Lesson, name: str) -> Exercise:
    """The lesson's exercise called `name`; UnknownExercise, naming those there are, for any other."""
    found = exercises(lesson)
    for exercise in found:
        if exercise.name == name.strip():
            return exercise
    known = ", ".join(exercise.name for exercise in found)
    if not known:
        raise UnknownExercise(f"Lesson {lesson.number} has no exercises to check one at a time.")
    raise UnknownExercise(f"Lesson {lesson.number} has no exercise {name!r}. Its exercises are: {known}.")


def exercise_index(lesson: Lesson, test_name: str) -> int:
    """Where the test's exercise comes in the lesson (0 for the first); after every exercise when none maps it."""
    found = exercises(lesson)
    return next((place for place, exercise in enumerate(found) if exercise.selects(test_name)), len(found))
