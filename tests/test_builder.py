"""How `workbook build` regenerates lessons/ and checkpoints/ from solutions/, and how --check compares.

Every test works on a small course in tmp_path; the solutions run without a kernel: their
%%writefile cells are applied, which is what the kernel would write.
"""

from __future__ import annotations

import pytest
from nbformat.v4 import new_output

from workbook import builder
from workbook.notebook_files import apply_writefile_cells, read_notebook
from workbook.workspace import write_starting_files


@pytest.fixture(autouse=True)
def without_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run solutions by applying their %%writefile cells instead of starting a kernel."""

    def execute(lesson, workspace, timeout=0):
        solution = read_notebook(lesson.solution)
        write_starting_files(lesson, workspace)
        apply_writefile_cells(solution, workspace)
        return solution

    monkeypatch.setattr(builder, "execute_solution", execute)


def test_building_twice_writes_the_same_bytes_with_a_trailing_newline(maker):
    lesson = maker.solution("01_hello", maker.solved_main)

    builder.build(maker.course)
    first = lesson.notebook.read_bytes()

    assert builder.build(maker.course) == []
    assert lesson.notebook.read_bytes() == first and first.endswith(b"}\n")


def test_build_makes_a_checkpoint_only_for_lessons_that_write_files(maker):
    maker.solution("00_setup", "# Setup")
    maker.solution("01_hello", maker.solved_main)

    changed = builder.build(maker.course)

    assert changed == ["lessons/00_setup.ipynb", "lessons/01_hello.ipynb", "checkpoints/01_hello/app/main.py"]
    assert sorted(path.name for path in maker.course.checkpoints.iterdir()) == ["01_hello"]


def test_each_lesson_builds_on_the_checkpoint_the_one_before_just_made(maker):
    maker.solution("01_hello", maker.solved_main)
    maker.solution("02_more", "%%writefile app/extra.py\nX = 1")

    builder.build(maker.course)

    assert sorted(p.relative_to(maker.course.checkpoints).as_posix() for p in maker.course.checkpoints.rglob("*.py")) == [
        "01_hello/app/main.py", "02_more/app/extra.py", "02_more/app/main.py",
    ]  # fmt: skip


def test_a_stale_checkpoint_file_is_removed_and_the_suite_is_kept(maker):
    maker.solution("01_hello", maker.solved_main)
    checkpoint = maker.course.checkpoints / "01_hello"
    for name in ("app/old/gone.py", "milestone/test_main.py"):
        (checkpoint / name).parent.mkdir(parents=True, exist_ok=True)
        (checkpoint / name).write_text("x")

    changed = builder.build(maker.course)

    assert "checkpoints/01_hello/app/old/gone.py" in changed and not (checkpoint / "app/old").exists()
    assert (checkpoint / "milestone/test_main.py").exists()


def test_check_reports_a_hand_edited_lesson_and_checkpoint_file_by_name_and_writes_nothing(maker):
    maker.solution("01_hello", maker.solved_main)
    builder.build(maker.course)
    checkpoint = maker.course.checkpoints / "01_hello"
    (maker.course.notebooks / "01_hello.ipynb").write_text("{}")
    (checkpoint / "app/main.py").write_text("edited by hand")
    (checkpoint / "app/extra.py").write_text("not generated")
    (checkpoint / "milestone").mkdir()
    (checkpoint / "milestone/test_main.py").write_text("the suite is not generated")

    drift = builder.check(maker.course)

    assert drift == ["lessons/01_hello.ipynb", "checkpoints/01_hello/app/main.py", "checkpoints/01_hello/app/extra.py"]
    assert (checkpoint / "app/main.py").read_text() == "edited by hand"


def test_check_reports_nothing_after_a_build(maker):
    maker.solution("01_hello", maker.solved_main)
    maker.solution("02_more", "%%writefile app/extra.py\nX = 1")

    builder.build(maker.course)

    assert builder.check(maker.course) == []


def test_a_lesson_notebook_without_a_solution_is_stale(maker):
    (maker.course.notebooks / "09_removed.ipynb").write_text("{}")

    assert builder.check(maker.course) == ["lessons/09_removed.ipynb"]
    builder.build(maker.course)
    assert not (maker.course.notebooks / "09_removed.ipynb").exists()


def test_build_with_outputs_stores_the_executed_solution(maker, monkeypatch):
    lesson = maker.solution("01_hello", maker.solved_main)
    run_without_kernel = builder.execute_solution

    def execute_and_print(lesson, workspace, timeout=0):
        executed = run_without_kernel(lesson, workspace)
        executed.cells[0].outputs = [new_output("stream", name="stdout", text="Writing app/main.py\n")]
        return executed

    monkeypatch.setattr(builder, "execute_solution", execute_and_print)

    changed = builder.build(maker.course, only=lesson, store_outputs=True)

    assert changed == ["lessons/01_hello.ipynb", "checkpoints/01_hello/app/main.py", "solutions/01_hello.ipynb"]
    assert "Writing app/main.py" in lesson.solution.read_text()
