"""Reading and writing notebooks, and the learner's lesson notebook made from a solution."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from workbook.notebook_files import apply_writefile_cells, build_lesson_notebook, notebook_bytes, read_notebook

BLANK_MAIN = """from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def read_root():
    # TODO: return {"message": "Hello World"}
    ...
"""


def test_an_exercise_region_in_a_writefile_cell_becomes_a_todo(maker):
    lesson = build_lesson_notebook(maker.notebook(maker.solved_main))

    assert lesson.cells[0].source == "%%writefile app/main.py\n" + BLANK_MAIN


def test_code_outputs_and_execution_counts_are_cleared(maker):
    solution = maker.notebook("1 + 1")
    solution.cells[0].update(
        execution_count=3, outputs=[new_output("execute_result", data={"text/plain": "2"}, execution_count=3)]
    )

    lesson = build_lesson_notebook(solution)

    assert (lesson.cells[0].outputs, lesson.cells[0].execution_count) == ([], None)


def test_markdown_hints_metadata_and_code_without_markers_are_kept_as_they_are(maker):
    solution = maker.notebook("# Hello\nWhat you will build.", 'lesson = begin("01_hello")', title="Hello World")
    solution.cells.append(
        new_markdown_cell("Which decorator?\n<details>`@app.get`</details>", metadata={"tags": ["hint"]})
    )

    assert build_lesson_notebook(solution) == solution


def test_markers_in_markdown_cells_are_left_alone(maker):
    text = "Solutions mark code with\n### BEGIN SOLUTION\n"

    assert build_lesson_notebook(maker.notebook("# " + text)).cells[0].source == text


def test_the_solution_notebook_itself_is_not_changed(maker):
    solution = maker.notebook(maker.solved_main)

    build_lesson_notebook(solution)

    assert solution.cells[0].source == maker.solved_main


def test_a_bad_marker_is_named_with_the_notebook_and_cell(maker):
    import pytest

    from workbook.markers import BuildError

    with pytest.raises(BuildError, match=r"solutions/01_hello.ipynb, cell 2, line 1: "):
        build_lesson_notebook(maker.notebook("# Title", "### END SOLUTION"), "solutions/01_hello.ipynb")


def test_cells_saved_without_ids_get_stable_ids(tmp_path):
    path = tmp_path / "01_hello.ipynb"
    path.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "1"}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        encoding="utf-8",
    )

    assert read_notebook(path).cells[0].id == "cell-1" == read_notebook(path).cells[0].id


def test_notebook_bytes_are_what_nbformat_writes(maker, tmp_path):
    solution = maker.notebook(maker.solved_main)
    nbformat.write(solution, str(tmp_path / "written.ipynb"))

    assert notebook_bytes(solution) == (tmp_path / "written.ipynb").read_bytes()


def test_writefile_cells_write_and_append_without_markers(maker, tmp_path):
    solution = maker.notebook(
        "%%writefile app/core/config.py\nA = 1",
        "%%writefile -a app/core/config.py\n### BEGIN SOLUTION: set B to 2\nB = 2\n### END SOLUTION",
    )
    solution.cells.insert(1, new_code_cell("print('not a file')"))

    touched = apply_writefile_cells(solution, tmp_path)

    assert [path.relative_to(tmp_path).as_posix() for path in touched] == ["app/core/config.py"] * 2
    assert (tmp_path / "app/core/config.py").read_text() == "A = 1\nB = 2\n"
