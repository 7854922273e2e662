"""The course catalogue: lessons in order, where each one's parts live, and where it starts."""

from __future__ import annotations

import pytest

from workbook.lessons import Course, UnknownLesson


def test_lessons_come_in_order_from_the_solution_notebooks(maker):
    maker.solution("02_tasks", "%%writefile app/main.py\nX = 2")
    maker.solution("01_hello", maker.solved_main)
    (maker.course.solutions / "notes.ipynb").write_text("{}")  # not named NN_slug: not a lesson

    assert [lesson.slug for lesson in maker.course.lessons] == ["01_hello", "02_tasks"]


def test_a_lesson_is_found_by_number_or_slug_and_an_unknown_one_names_the_known(maker):
    lesson = maker.solution("01_hello", maker.solved_main)

    assert maker.course.find("1") == maker.course.find("01") == maker.course.find("01_hello") == lesson
    with pytest.raises(UnknownLesson, match="There is no lesson '7'. The lessons are 01."):
        maker.course.find("7")


def test_a_lessons_parts_live_under_its_course(maker):
    lesson = maker.solution("01_hello", maker.solved_main)
    root = maker.course.root

    assert lesson.solution == root / "solutions/01_hello.ipynb"
    assert lesson.notebook == root / "lessons/01_hello.ipynb"
    assert lesson.checkpoint == root / "checkpoints/01_hello"
    assert lesson.suite == root / "checkpoints/01_hello/milestone"
    assert lesson.mutants == root / "checkpoints/01_hello/milestone/mutants.toml"


def test_a_lesson_starts_from_the_latest_earlier_lesson_that_writes_files(maker):
    maker.solution("00_setup", "# Welcome", "print('no files')")
    maker.solution("01_hello", maker.solved_main)
    maker.solution("02_reading", "# Reading only")
    third = maker.solution("03_more", "%%writefile app/extra.py\nX = 1")

    setup, hello, reading, _ = maker.course.lessons
    assert (setup.has_checkpoint, hello.has_checkpoint, reading.has_checkpoint) == (False, True, False)
    assert setup.previous is None and hello.previous is None
    assert third.previous == hello
    assert hello.starting_point == "an empty app/ folder"
    assert third.starting_point == "checkpoint 01_hello"


def test_the_api_prefix_is_set_by_the_lesson_that_moves_it_and_kept_after(maker):
    import nbformat

    maker.solution("01_hello", maker.solved_main)
    moved = maker.notebook("%%writefile app/x.py\nX = 1")
    moved.metadata["workbook"]["api_prefix"] = "/api/v1/"
    nbformat.write(moved, str(maker.course.solutions / "02_moved.ipynb"))
    maker.solution("03_later", "%%writefile app/y.py\nY = 1")

    assert [lesson.api_prefix for lesson in maker.course.lessons] == ["", "/api/v1", "/api/v1"]


def test_a_changed_notebook_is_read_again(maker):
    maker.solution("01_hello", maker.solved_main)
    assert maker.course.find("01").title == "Hello"

    import nbformat

    renamed = maker.notebook(maker.solved_main, title="Hello again")
    nbformat.write(renamed, str(maker.course.solutions / "01_hello.ipynb"))

    assert maker.course.find("01").title == "Hello again"


def test_the_current_course_is_the_one_workbook_course_names(maker, monkeypatch):
    from workbook.lessons import REPO, current_course

    monkeypatch.delenv("WORKBOOK_COURSE", raising=False)
    assert current_course() == Course(REPO)
    monkeypatch.setenv("WORKBOOK_COURSE", str(maker.course.root))
    assert current_course() == maker.course
