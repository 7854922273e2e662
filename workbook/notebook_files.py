"""Reading and writing notebooks, and turning a solution notebook into the learner's lesson."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import TYPE_CHECKING

from workbook.lessons import WRITEFILE
from workbook.markers import blank_exercises, strip_markers

if TYPE_CHECKING:
    from nbformat import NotebookNode


def read_notebook(path: Path) -> NotebookNode:
    """The notebook at `path`, as nbformat v4; cells saved without an id get a stable one."""
    import nbformat

    notebook = nbformat.reader.reads(Path(path).read_text(encoding="utf-8"))
    if notebook.get("nbformat") != 4:
        notebook = nbformat.convert(notebook, 4)
    if notebook.get("nbformat_minor", 0) >= 5:
        for number, cell in enumerate(notebook.cells, 1):
            cell.setdefault("id", f"cell-{number}")  # nbformat would invent a random one
    nbformat.validate(notebook)
    return notebook


def notebook_bytes(notebook: NotebookNode) -> bytes:
    """Exactly the bytes nbformat.write puts in a file (sorted keys, trailing newline)."""
    import nbformat

    text = nbformat.writes(notebook)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def write_notebook(notebook: NotebookNode, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))


def build_lesson_notebook(solution_nb: NotebookNode, name: str = "the notebook") -> NotebookNode:
    """The learner's notebook: exercise regions blanked, code outputs cleared, the rest kept.

    `name` (e.g. "solutions/02_requests_and_validation.ipynb") is used in error messages.
    """
    lesson_nb = copy.deepcopy(solution_nb)
    for number, cell in enumerate(lesson_nb.cells, 1):
        if cell.cell_type == "code":
            cell.source = blank_exercises(cell.source, f"{name}, cell {number}")
            cell.outputs = []
            cell.execution_count = None
    return lesson_nb


def writefile_cells(notebook: NotebookNode) -> list[tuple[str, bool, str]]:
    """(path, append, content) for each `%%writefile [-a] PATH` code cell, in order.

    The content is what IPython writes: the cell after its first line, marker lines
    dropped, ending with a newline.
    """
    found = []
    for cell in notebook.cells:
        first, _, body = cell.source.lstrip().partition("\n")
        match = WRITEFILE.match(first) if cell.cell_type == "code" else None
        if match:
            body = strip_markers(body)
            content = body if not body or body.endswith("\n") else body + "\n"
            found.append((match["path"].strip("'\""), bool(match["append"]), content))
    return found


def apply_writefile_cells(notebook: NotebookNode, dest: Path) -> list[Path]:
    """Write (or append) each `%%writefile` cell's content under `dest`; the files touched."""
    touched = []
    for relative, append, content in writefile_cells(notebook):
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a" if append else "w", encoding="utf-8") as file:
            file.write(content)
        touched.append(target)
    return touched
