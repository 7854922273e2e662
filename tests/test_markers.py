"""Solution markers: how an exercise region is found, refused when malformed, and dropped in the kernel."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from workbook import markers
from workbook.markers import BuildError, blank_exercises, strip_markers

SOLVED = """@app.get("/")
def read_root():
    ### BEGIN SOLUTION: return {"message": "Hello World"}
    return {"message": "Hello World"}
    ### END SOLUTION
"""


def test_an_exercise_region_becomes_a_todo_prompt_at_its_indentation():
    assert (
        blank_exercises(SOLVED)
        == '@app.get("/")\ndef read_root():\n    # TODO: return {"message": "Hello World"}\n    ...\n'
    )


def test_a_region_on_the_last_line_keeps_the_cell_without_a_trailing_newline():
    source = "### BEGIN SOLUTION: print the answer\nprint(42)\n### END SOLUTION"

    assert blank_exercises(source) == "# TODO: print the answer\n..."


BAD_MARKERS = {
    "nested": ("x = 1\n### BEGIN SOLUTION: a\n### BEGIN SOLUTION: b\n### END SOLUTION\n", 3, "cannot nest"),
    "unclosed": ("### BEGIN SOLUTION: set x\nx = 1\n", 1, "never closed"),
    "stray END": ("x = 1\n### END SOLUTION\n", 2, "closes no region"),
    "without a prompt": ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", 1, "has no prompt"),
    "with an empty prompt": ("### BEGIN SOLUTION:\nx = 1\n### END SOLUTION\n", 1, "has no prompt"),
    "not on its own line": ("x = 1  ### BEGIN SOLUTION: set x\n", 1, "alone on its line"),
}


@pytest.mark.parametrize("kind", BAD_MARKERS)
def test_bad_markers_are_refused_naming_where_and_why(kind):
    source, line, reason = BAD_MARKERS[kind]

    with pytest.raises(BuildError) as caught:
        blank_exercises(source, "solutions/01_hello.ipynb, cell 2")

    assert f"solutions/01_hello.ipynb, cell 2, line {line}: " in str(caught.value)
    assert reason in str(caught.value)


def test_strip_markers_keeps_the_solution_code():
    assert strip_markers(SOLVED) == '@app.get("/")\ndef read_root():\n    return {"message": "Hello World"}\n'


def test_the_module_the_kernel_imports_needs_only_the_standard_library():
    """The kernel imports it in every lesson: it must not pull in nbformat, nbclient or the web stack."""
    tree = ast.parse(Path(markers.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }

    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, f"workbook/markers.py imports {sorted(imported)}"
