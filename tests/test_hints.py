"""workbook.hints: a lesson's hints, read from the markdown cells of its solution notebook tagged `hint`."""

from __future__ import annotations

import json

import pytest

from workbook import lessons
from workbook.hints import Hint, hints, parse_hint


def test_the_question_comes_before_details_and_the_answer_inside_it():
    cell = (
        "**Hint.** Which status code means *created*?\n\n"
        "<details><summary>Show the answer</summary>\n\n"
        "Pass `status_code=201` to the route decorator.\n"
        "</details>\n"
    )
    assert parse_hint(cell) == Hint(
        question="**Hint.** Which status code means *created*?",
        answer="Pass `status_code=201` to the route decorator.",
    )


def test_a_hint_without_details_is_all_question():
    assert parse_hint("Look at the 422 body.\n") == Hint(question="Look at the 422 body.", answer="")


@pytest.fixture
def solution(tmp_path, monkeypatch):
    """Lesson 02's solution notebook in a temporary solutions/; write(cells) fills it."""
    (tmp_path / "solutions").mkdir()
    monkeypatch.setenv("WORKBOOK_COURSE", str(tmp_path))

    def write(cells):
        notebook = {"cells": cells, "metadata": {"workbook": {"title": "Tasks"}}, "nbformat": 4, "nbformat_minor": 5}
        (tmp_path / "solutions" / "02_tasks.ipynb").write_text(json.dumps(notebook))
        return lessons.find_lesson("02")

    return write


def test_hints_are_the_markdown_cells_tagged_hint_in_order(solution):
    lesson = solution(
        [
            {"cell_type": "markdown", "metadata": {}, "source": "Not a hint <details>x</details>"},
            {
                "cell_type": "markdown",
                "metadata": {"tags": ["hint"]},
                "source": ["First?\n", "<details><summary>S</summary>\n", "One.\n", "</details>"],
            },
            {
                "cell_type": "code",
                "metadata": {"tags": ["hint"]},
                "source": "print('code is never a hint')",
                "outputs": [],
                "execution_count": None,
            },
            {
                "cell_type": "markdown",
                "metadata": {"tags": ["hint"]},
                "source": "Second?\n<details><summary>S</summary>Two.</details>",
            },
        ]
    )
    assert hints(lesson) == [Hint("First?", "One."), Hint("Second?", "Two.")]


def test_a_lesson_without_hint_cells_has_none(solution):
    assert hints(solution([{"cell_type": "markdown", "metadata": {}, "source": "# Title"}])) == []
