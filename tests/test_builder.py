"""How the builder turns solution notebooks into lessons and checkpoints.

Every test builds a small synthetic repository in tmp_path (solutions/, lessons/,
checkpoints/) and points the builder at it with Roots.under(tmp_path). Only the tests
marked "kernel" start a Jupyter kernel; the others stand in for it with
`apply_writefile_cells`, which writes what the kernel's %%writefile cells would.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbook import builder
from workbook.builder import (
    BuildError,
    Roots,
    apply_writefile_cells,
    blank_state,
    build,
    build_lesson_notebook,
    generated_files,
    prepare_workspace,
    read_notebook,
    strip_markers,
    sync_checkpoint,
)

SETUP = 'from workbook.notebook import begin\nlesson = begin("01_hello")'
SOLVED_MAIN = """%%writefile app/main.py
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def read_root():
    ### BEGIN SOLUTION: return {"message": "Hello World"}
    return {"message": "Hello World"}
    ### END SOLUTION
"""
BLANK_MAIN = """from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def read_root():
    # TODO: return {"message": "Hello World"}
    ...
"""


def notebook(*cells, title: str = "Hello") -> nbformat.NotebookNode:
    return new_notebook(cells=list(cells), metadata={"workbook": {"title": title, "minutes": 30, "keeps": {}}})


def hint(question: str, answer: str) -> nbformat.NotebookNode:
    text = f"{question}\n\n<details><summary>Show the answer</summary>\n\n{answer}\n</details>"
    return new_markdown_cell(text, metadata={"tags": ["hint"]})


def save(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def roots(tmp_path: Path) -> Roots:
    """An empty synthetic repository: solutions/, lessons/ and checkpoints/ under tmp_path."""
    roots = Roots.under(tmp_path / "repo")
    for folder in (roots.solutions, roots.lessons, roots.checkpoints):
        folder.mkdir(parents=True)
    return roots


@pytest.fixture
def without_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run solutions by applying their %%writefile cells instead of starting a kernel."""

    def execute(lesson, workspace, roots=builder.DEFAULT_ROOTS, timeout=0):
        solution = read_notebook(roots.solutions / f"{builder.slug_of(lesson, roots)}.ipynb")
        prepare_workspace(lesson, workspace, roots)
        apply_writefile_cells(solution, workspace)
        return solution

    monkeypatch.setattr(builder, "execute_solution", execute)


# --- Lesson notebooks ----------------------------------------------------------------------


def test_an_exercise_region_becomes_a_todo_prompt_at_its_indentation():
    lesson = build_lesson_notebook(notebook(new_code_cell(SOLVED_MAIN)))

    assert lesson.cells[0].source == "%%writefile app/main.py\n" + BLANK_MAIN


def test_a_region_on_the_last_line_keeps_the_cell_without_a_trailing_newline():
    source = "### BEGIN SOLUTION: print the answer\nprint(42)\n### END SOLUTION"

    assert build_lesson_notebook(notebook(new_code_cell(source))).cells[0].source == "# TODO: print the answer\n..."


def test_code_outputs_and_execution_counts_are_cleared():
    output = new_output("execute_result", data={"text/plain": "2"}, execution_count=3)
    cell = new_code_cell("1 + 1", execution_count=3, outputs=[output])

    lesson = build_lesson_notebook(notebook(cell))

    assert (lesson.cells[0].outputs, lesson.cells[0].execution_count) == ([], None)


def test_markdown_hints_metadata_and_code_without_markers_are_kept_as_they_are():
    solution = notebook(
        new_markdown_cell("# Hello\nWhat you will build."),
        new_code_cell(SETUP),
        hint("Which decorator answers GET /?", '`@app.get("/")`'),
        title="Hello World",
    )

    lesson = build_lesson_notebook(solution)

    assert lesson == solution


def test_the_solution_notebook_itself_is_not_changed():
    solution = notebook(new_code_cell(SOLVED_MAIN, execution_count=1))

    build_lesson_notebook(solution)

    assert solution.cells[0].source == SOLVED_MAIN and solution.cells[0].execution_count == 1


def test_building_twice_writes_the_same_bytes_with_a_trailing_newline(roots, without_kernel):
    save(notebook(new_code_cell(SETUP), new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")
    lesson_path = roots.lessons / "01_hello.ipynb"

    build(roots=roots)
    first = lesson_path.read_bytes()
    build(roots=roots)

    assert lesson_path.read_bytes() == first and first.endswith(b"}\n")
    assert first == builder.notebook_bytes(nbformat.read(str(lesson_path), as_version=4))


def test_cells_saved_without_ids_get_stable_ids(tmp_path):
    path = tmp_path / "01_hello.ipynb"
    path.write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "1"}],'
        ' "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        encoding="utf-8",
    )

    assert builder.render_lesson(path) == builder.render_lesson(path)


BAD_MARKERS = {
    "nested": ("x = 1\n### BEGIN SOLUTION: a\n### BEGIN SOLUTION: b\n### END SOLUTION\n", 3, "cannot nest"),
    "unclosed": ("### BEGIN SOLUTION: set x\nx = 1\n", 1, "never closed"),
    "stray END": ("x = 1\n### END SOLUTION\n", 2, "closes no region"),
    "without a prompt": ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "has no prompt"),
    "with an empty prompt": ("### BEGIN SOLUTION:\nx = 1\n### END SOLUTION\n", 1, "has no prompt"),
    "not on its own line": ("x = 1  ### BEGIN SOLUTION: set x\n", 1, "alone on its line"),
}


@pytest.mark.parametrize("kind", BAD_MARKERS)
def test_bad_markers_are_refused_naming_file_cell_and_line(kind):
    source, line, reason = BAD_MARKERS[kind]
    solution = notebook(new_markdown_cell("# Title"), new_code_cell(source))

    with pytest.raises(BuildError) as caught:
        build_lesson_notebook(solution, "solutions/01_hello.ipynb")

    assert f"solutions/01_hello.ipynb, cell 2, line {line}: " in str(caught.value)
    assert reason in str(caught.value)


def test_markers_in_markdown_cells_are_left_alone():
    text = "Solutions mark code with\n### BEGIN SOLUTION\n"

    assert build_lesson_notebook(notebook(new_markdown_cell(text))).cells[0].source == text


def test_strip_markers_keeps_the_solution_code():
    assert strip_markers(SOLVED_MAIN) == SOLVED_MAIN.replace(
        '    ### BEGIN SOLUTION: return {"message": "Hello World"}\n', ""
    ).replace("    ### END SOLUTION\n", "")


# --- Starting states -----------------------------------------------------------------------


def test_the_first_lesson_starts_from_an_empty_app_folder(roots, tmp_path):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")

    workspace = prepare_workspace("01", tmp_path / "workspace", roots)

    assert [path.name for path in workspace.rglob("*")] == ["app"]


def test_a_lesson_starts_from_the_previous_checkpoint_without_its_suite_or_ignored_files(roots, tmp_path):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")
    save(notebook(new_markdown_cell("No files written here.")), roots.solutions / "02_reading.ipynb")
    save(notebook(new_code_cell("%%writefile app/extra.py\nX = 1")), roots.solutions / "03_more.ipynb")
    checkpoint = roots.checkpoints / "01_hello"
    for name in ("app/main.py", "milestone/test_main.py", "app/__pycache__/main.pyc", "tasks.db", ".env"):
        (checkpoint / name).parent.mkdir(parents=True, exist_ok=True)
        (checkpoint / name).write_text(name)

    workspace = prepare_workspace("03_more", tmp_path / "workspace", roots)

    assert sorted(generated_files(workspace)) == [".env", "app/main.py"]
    assert not (workspace / "milestone").exists() and not (workspace / "tasks.db").exists()


def test_a_workspace_is_only_made_in_an_empty_folder(roots, tmp_path):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace/notes.txt").write_text("a learner's work")

    with pytest.raises(BuildError, match="workspace is not empty"):
        prepare_workspace("01", tmp_path / "workspace", roots)


def test_an_unknown_lesson_is_refused_naming_the_known_ones(roots):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")

    with pytest.raises(BuildError, match="no solution notebook for lesson '7'.*Use one of: 01_hello"):
        build(only="7", roots=roots)


def test_blank_state_applies_the_lesson_notebooks_writefile_cells_in_order(roots, tmp_path):
    solution = notebook(
        new_code_cell(SETUP),
        new_code_cell(SOLVED_MAIN),
        new_code_cell('from pathlib import Path\nPath("app/core").mkdir(exist_ok=True)'),
        new_code_cell("%%writefile app/core/config.py\nA = 1"),
        new_code_cell("%%writefile -a app/core/config.py\n### BEGIN SOLUTION: set B to 2\nB = 2\n### END SOLUTION"),
    )
    save(solution, roots.solutions / "01_hello.ipynb")
    build_lesson = build_lesson_notebook(read_notebook(roots.solutions / "01_hello.ipynb"))
    save(build_lesson, roots.lessons / "01_hello.ipynb")

    workspace = blank_state("01", tmp_path / "blank", roots)

    assert (workspace / "app/main.py").read_text() == BLANK_MAIN
    assert (workspace / "app/core/config.py").read_text() == "A = 1\n# TODO: set B to 2\n...\n"
    assert sorted(generated_files(workspace)) == ["app/core/config.py", "app/main.py"]


# --- Checkpoints ---------------------------------------------------------------------------


def test_sync_deletes_stale_generated_files_but_keeps_the_suite(tmp_path):
    workspace, checkpoint = tmp_path / "workspace", tmp_path / "checkpoint"
    files = {
        workspace / "app/main.py": "new",
        checkpoint / "app/main.py": "old",
        checkpoint / "app/old/gone.py": "stale",
        checkpoint / "milestone/test_main.py": "suite",
        checkpoint / "milestone/conftest.py": "suite",
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    changed = sync_checkpoint(workspace, checkpoint)

    assert sorted(path.relative_to(checkpoint).as_posix() for path in changed) == ["app/main.py", "app/old/gone.py"]
    assert (checkpoint / "app/main.py").read_text() == "new" and not (checkpoint / "app/old").exists()
    assert sorted(p.name for p in (checkpoint / "milestone").iterdir()) == ["conftest.py", "test_main.py"]


def test_build_makes_a_checkpoint_only_for_lessons_that_write_files(roots, without_kernel):
    save(notebook(new_markdown_cell("# Setup")), roots.solutions / "00_setup.ipynb")
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")

    build(roots=roots)

    assert sorted(path.name for path in roots.checkpoints.iterdir()) == ["01_hello"]
    assert sorted(path.name for path in roots.lessons.iterdir()) == ["00_setup.ipynb", "01_hello.ipynb"]


def test_check_mode_reports_a_hand_edited_lesson_and_checkpoint_file_by_name(roots, without_kernel):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")
    build(roots=roots)
    (roots.lessons / "01_hello.ipynb").write_text("{}")
    (roots.checkpoints / "01_hello/app/main.py").write_text("edited by hand")
    (roots.checkpoints / "01_hello/app/extra.py").write_text("not generated")
    (roots.checkpoints / "01_hello/milestone").mkdir()
    (roots.checkpoints / "01_hello/milestone/test_main.py").write_text("the suite is not generated")

    drift = build(check=True, roots=roots)

    assert drift == ["lessons/01_hello.ipynb", "checkpoints/01_hello/app/extra.py", "checkpoints/01_hello/app/main.py"]
    assert (roots.checkpoints / "01_hello/app/main.py").read_text() == "edited by hand"


def test_check_mode_reports_nothing_after_a_build(roots, without_kernel):
    save(notebook(new_code_cell(SOLVED_MAIN)), roots.solutions / "01_hello.ipynb")
    save(notebook(new_code_cell("%%writefile app/extra.py\nX = 1")), roots.solutions / "02_more.ipynb")

    build(roots=roots)

    assert build(check=True, roots=roots) == []
    assert sorted(generated_files(roots.checkpoints / "02_more")) == ["app/extra.py", "app/main.py"]


def test_a_lesson_notebook_without_a_solution_is_stale(roots, without_kernel):
    save(notebook(new_code_cell("1")), roots.lessons / "09_removed.ipynb")

    assert build(check=True, roots=roots) == ["lessons/09_removed.ipynb"]
    build(roots=roots)
    assert not (roots.lessons / "09_removed.ipynb").exists()


# --- Executing solutions (these start a kernel) ---------------------------------------------

# What begin() does in a real lesson: change into the workspace, drop marker lines.
KERNEL_SETUP = """import os
from workbook.builder import strip_markers
os.chdir(os.environ["WORKBOOK_WORKSPACE"])
get_ipython().input_transformers_cleanup.append(lambda lines: strip_markers("".join(lines)).splitlines(True))"""


def test_executing_a_solution_writes_the_files_its_writefile_cells_say(roots, tmp_path):
    solution = notebook(new_code_cell(KERNEL_SETUP), new_code_cell(SOLVED_MAIN))
    save(solution, roots.solutions / "01_hello.ipynb")

    executed = builder.execute_solution("01", tmp_path / "workspace", roots)

    expected = apply_writefile_cells(solution, tmp_path / "expected")[0].read_text()
    assert (tmp_path / "workspace/app/main.py").read_text() == expected
    assert "### BEGIN" not in expected and executed.cells[1].outputs[0].text.startswith("Writing")


def test_a_failing_cell_is_named_without_a_traceback(roots, tmp_path):
    save(notebook(new_markdown_cell("# Oops"), new_code_cell("1 / 0")), roots.solutions / "01_hello.ipynb")

    with pytest.raises(BuildError) as caught:
        builder.execute_solution("01", tmp_path / "workspace", roots)

    assert str(caught.value).startswith("solutions/01_hello.ipynb, cell 2: ZeroDivisionError: division by zero.")
    assert "Traceback" not in str(caught.value)
