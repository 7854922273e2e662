"""Build the learner's notebooks and the checkpoints from the solution notebooks.

solutions/NN_slug.ipynb is the source of truth. From it the builder makes:

- lessons/NN_slug.ipynb: the same notebook with every exercise region
  (`### BEGIN SOLUTION: <prompt>` ... `### END SOLUTION`) replaced by
  `# TODO: <prompt>` and `...`, and every code output cleared;
- checkpoints/NN_slug/: the files the solution writes when it runs in a workspace
  that starts as the previous checkpoint (checkpoints/NN_slug/milestone/ is hand-written
  and never touched).

`strip_markers` is imported inside the kernel by workbook.notebook, so this module
imports only the standard library at the top; nbformat and nbclient load on first use.
"""

from __future__ import annotations

import copy

import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from workbook import loader
from workbook.lessons import CHECKPOINTS, LESSONS, NOTEBOOK_NAME, SOLUTIONS

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from workbook.lessons import Lesson

CELL_TIMEOUT = 180  # seconds a solution cell may run
PARALLEL_RUNS = 2  # kernels at once in check mode (the machines have 2 cores)

SUITE_FOLDER = "milestone"  # checkpoints/NN_slug/milestone/: the hand-written milestone suite and its mutants


class BuildError(Exception):
    """A solution notebook cannot be turned into a lesson or a checkpoint."""


# --- Solution markers (standard library only: used inside the kernel) -------------------

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<prompt>.*?))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
ANY_MARKER = re.compile(r"### (?:BEGIN|END) SOLUTION")


def is_marker(line: str) -> bool:
    """Whether `line` is a whole-line BEGIN or END SOLUTION marker."""
    text = line.rstrip("\r\n")
    return bool(BEGIN.match(text) or END.match(text))


def strip_markers(source: str) -> str:
    """`source` without its marker lines: the solution code as the kernel should run it."""
    return "".join(line for line in source.splitlines(keepends=True) if not is_marker(line))


# --- Where things are ------------------------------------------------------------------


@dataclass(frozen=True)
class Roots:
    """The three folders the builder works on (the repository's, unless a test says otherwise)."""

    solutions: Path = SOLUTIONS
    lessons: Path = LESSONS
    checkpoints: Path = CHECKPOINTS

    @classmethod
    def under(cls, repo: Path) -> Roots:
        """solutions/, lessons/ and checkpoints/ inside `repo`."""
        return cls(repo / "solutions", repo / "lessons", repo / "checkpoints")

    def show(self, path: Path) -> str:
        """`path` as a maintainer reads it: relative to the repository holding the roots."""
        try:
            return path.relative_to(self.checkpoints.parent).as_posix()
        except ValueError:
            return str(path)


DEFAULT_ROOTS = Roots()


def lesson_slugs(roots: Roots = DEFAULT_ROOTS) -> list[str]:
    """Every lesson's slug, in order, as the solution notebooks define them."""
    return sorted(path.stem for path in roots.solutions.glob("*.ipynb") if NOTEBOOK_NAME.match(path.name))


def slug_of(lesson: Lesson | str, roots: Roots = DEFAULT_ROOTS) -> str:
    """The slug of a Lesson, or of a lesson named by number ("2", "02") or slug."""
    if not isinstance(lesson, str):
        return lesson.slug
    text = f"{int(lesson):02d}" if lesson.strip().isdigit() else lesson.strip()
    for slug in lesson_slugs(roots):
        if text in (slug, slug[:2]):
            return slug
    raise BuildError(
        f"There is no solution notebook for lesson {lesson!r} in {roots.show(roots.solutions)}/. "
        f"Use one of: {', '.join(lesson_slugs(roots)) or 'none yet'}."
    )


# --- Reading and writing notebooks -----------------------------------------------------


def read_notebook(path: Path) -> NotebookNode:
    """The notebook at `path`, as nbformat v4; cells saved without an id get a stable one."""
    import nbformat

    notebook = nbformat.reader.reads(path.read_text(encoding="utf-8"))
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


# --- Solution notebook -> lesson notebook -----------------------------------------------


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


def blank_exercises(source: str, where: str = "cell") -> str:
    """`source` with each exercise region replaced by `# TODO: <prompt>` and `...`."""
    lines = source.splitlines(keepends=True)
    kept: list[str] = []
    region: tuple[int, str, str] | None = None  # (line number, indent, prompt) of the open BEGIN
    for number, line in enumerate(lines, 1):
        text = line.rstrip("\r\n")
        begin, end = BEGIN.match(text), END.match(text)
        check_marker_line(text, begin, end, region, f"{where}, line {number}")
        if begin:
            region = (number, begin["indent"], begin["prompt"])
        elif end:
            newline = "\n" if line.endswith("\n") else ""
            kept.append(f"{region[1]}# TODO: {region[2]}\n{region[1]}...{newline}")
            region = None
        elif region is None:
            kept.append(line)
    if region is not None:
        raise BuildError(
            f"{where}, line {region[0]}: this `### BEGIN SOLUTION` is never closed. "
            "Add a `### END SOLUTION` line after the last line of the solution."
        )
    return "".join(kept)


def check_marker_line(
    text: str, begin: re.Match | None, end: re.Match | None, region: tuple | None, where: str
) -> None:
    """Refuse a marker that is misplaced, prompt-less, nested, or closes nothing."""
    if not (begin or end) and ANY_MARKER.search(text):
        raise BuildError(
            f"{where}: a solution marker must stand alone on its line. "
            "Put `### BEGIN SOLUTION: <prompt>` or `### END SOLUTION` on a line of its own."
        )
    if begin and not begin["prompt"]:
        raise BuildError(
            f"{where}: `### BEGIN SOLUTION` has no prompt. Say what the learner should do "
            "after a colon: `### BEGIN SOLUTION: return the task, or raise HTTPException(404)`."
        )
    if begin and region is not None:
        raise BuildError(
            f"{where}: a `### BEGIN SOLUTION` inside the region opened on line {region[0]}. "
            "Regions cannot nest: close the first one with `### END SOLUTION` before opening another."
        )
    if end and region is None:
        raise BuildError(
            f"{where}: `### END SOLUTION` closes no region. "
            "Remove it, or add the missing `### BEGIN SOLUTION: <prompt>` above it."
        )


def render_lesson(solution_path: Path, roots: Roots = DEFAULT_ROOTS) -> bytes:
    """The bytes lessons/NN_slug.ipynb should hold, made from the solution at `solution_path`."""
    lesson_nb = build_lesson_notebook(read_notebook(solution_path), roots.show(solution_path))
    return notebook_bytes(lesson_nb)


# --- %%writefile cells -------------------------------------------------------------------

WRITEFILE = re.compile(r"^%%writefile(?P<append>\s+(?:-a|--append))?\s+(?P<path>\S.*?)\s*$")


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


def writes_files(notebook: NotebookNode) -> bool:
    return bool(writefile_cells(notebook))


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


# --- Checkpoint files --------------------------------------------------------------------


def is_ignored(relative: Path) -> bool:
    """Whether a path inside a workspace or checkpoint is never part of a checkpoint."""
    if relative.parts[:1] == (SUITE_FOLDER,):
        return True
    return loader.is_ignored(relative)


def generated_files(folder: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file of `folder` that belongs to a checkpoint."""
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not is_ignored(path.relative_to(folder))
    }


def has_checkpoint(lesson: Lesson | str, roots: Roots = DEFAULT_ROOTS) -> bool:
    """A lesson has a checkpoint when its solution writes files."""
    path = roots.solutions / f"{slug_of(lesson, roots)}.ipynb"
    stat = path.stat()
    return _solution_writes_files(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _solution_writes_files(path: Path, modified_ns: int, size: int) -> bool:  # cached until the file changes
    return writes_files(read_notebook(path))


def previous_checkpoint(lesson: Lesson | str, roots: Roots = DEFAULT_ROOTS) -> Path | None:
    """The checkpoint this lesson starts from: the latest earlier lesson that has one."""
    slug = slug_of(lesson, roots)
    earlier = [each for each in lesson_slugs(roots) if each < slug and has_checkpoint(each, roots)]
    return roots.checkpoints / earlier[-1] if earlier else None


def prepare_workspace(lesson: Lesson | str, dest: Path, roots: Roots = DEFAULT_ROOTS) -> Path:
    """Make `dest` the lesson's starting workspace: a copy of the previous checkpoint's files
    (its milestone/ and ignored names left out), or an empty app/ folder for the first lesson."""
    if dest.exists() and any(dest.iterdir()):
        raise BuildError(f"{dest} is not empty. Give an empty or new folder for the workspace.")
    source = previous_checkpoint(lesson, roots)
    (dest / "app").mkdir(parents=True, exist_ok=True)
    for relative, path in generated_files(source).items() if source else ():
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / relative)
    return dest


def blank_state(lesson: Lesson | str, dest: Path, roots: Roots = DEFAULT_ROOTS) -> Path:
    """The workspace a learner has before solving the lesson, made without a kernel:
    the previous checkpoint, then every `%%writefile` cell of the lesson notebook, in order."""
    slug = slug_of(lesson, roots)
    notebook_path = roots.lessons / f"{slug}.ipynb"
    if notebook_path.exists():
        lesson_nb = read_notebook(notebook_path)
    else:
        solution_path = roots.solutions / f"{slug}.ipynb"
        lesson_nb = build_lesson_notebook(read_notebook(solution_path), roots.show(solution_path))
    prepare_workspace(slug, dest, roots)
    apply_writefile_cells(lesson_nb, dest)
    return dest


def checkpoint_drift(workspace: Path, checkpoint: Path) -> list[Path]:
    """Checkpoint files that are missing, extra, or different from the workspace's."""
    made, kept = generated_files(workspace), generated_files(checkpoint)
    return [
        checkpoint / relative
        for relative in sorted(made.keys() | kept.keys())
        if relative not in made or relative not in kept or made[relative].read_bytes() != kept[relative].read_bytes()
    ]


def sync_checkpoint(workspace: Path, checkpoint: Path) -> list[Path]:
    """Make the checkpoint's generated files those of the workspace (milestone/ untouched)."""
    made = generated_files(workspace)
    changed = checkpoint_drift(workspace, checkpoint)
    for target in changed:
        relative = target.relative_to(checkpoint).as_posix()
        if relative in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(made[relative], target)
        else:
            target.unlink()
            remove_empty_folders(target.parent, checkpoint)
    return changed


def remove_empty_folders(folder: Path, top: Path) -> None:
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


# --- Executing a solution ----------------------------------------------------------------


def execute_solution(
    lesson: Lesson | str, workspace: Path, roots: Roots = DEFAULT_ROOTS, timeout: int = CELL_TIMEOUT
) -> NotebookNode:
    """Run the solution notebook in a kernel, in `workspace` prepared as the lesson's start.

    The kernel runs in solutions/ with WORKBOOK_WORKSPACE=<workspace> (begin() changes into
    it). Returns the executed notebook; a failing cell raises BuildError.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellControlSignal, DeadKernelError

    slug = slug_of(lesson, roots)
    path = roots.solutions / f"{slug}.ipynb"
    notebook = read_notebook(path)
    prepare_workspace(slug, workspace, roots)
    started: list[int] = []  # index of each cell as it starts: the last one is the culprit
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",  # its kernel.json says "python": jupyter_client runs sys.executable
        resources={"metadata": {"path": str(roots.solutions)}},
        record_timing=False,
        on_cell_start=lambda cell, cell_index: started.append(cell_index),
    )
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace)}
    try:
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except (CellControlSignal, DeadKernelError) as error:
        where = f"{roots.show(path)}, cell {started[-1] + 1}" if started else roots.show(path)
        raise BuildError(execution_failure(where, error, timeout)) from None
    return notebook


def execution_failure(where: str, error: Exception, timeout: int) -> str:
    """One paragraph on why a solution did not run: the cell and the error, no traceback."""
    if isinstance(error, TimeoutError):
        what = f"the cell did not finish within {timeout} s"
    elif hasattr(error, "ename"):
        what = f"{error.ename}: {error.evalue}"
    else:
        what = f"the kernel died ({error})"
    return f"{where}: {what}. Run the notebook in Jupyter to see the whole error, fix it, then build again."


# --- The build ---------------------------------------------------------------------------


def build(
    check: bool = False,
    store_outputs: bool = False,
    only: Lesson | str | None = None,
    roots: Roots = DEFAULT_ROOTS,
) -> list[str]:
    """Regenerate lessons/ and checkpoints/ from solutions/, lesson by lesson, in order.

    check=True writes nothing and returns every drifted path (relative to the repository).
    store_outputs=True also saves the executed outputs into the solution notebooks.
    only names one lesson (number or slug); by default every lesson is built.
    """
    slugs = [slug_of(only, roots)] if only is not None else lesson_slugs(roots)
    if check:
        return check_drift(slugs, roots, whole=only is None)
    changed = remove_stale_lessons(roots) if only is None else []
    for slug in slugs:
        for step in BUILD_STEPS:
            changed += step(slug, roots, store_outputs)
    return changed


def write_lesson(slug: str, roots: Roots, store_outputs: bool = False) -> list[str]:
    """Step: lessons/NN_slug.ipynb from the solution."""
    solution_path, target = roots.solutions / f"{slug}.ipynb", roots.lessons / f"{slug}.ipynb"
    lesson_nb = build_lesson_notebook(read_notebook(solution_path), roots.show(solution_path))
    if target.exists() and target.read_bytes() == notebook_bytes(lesson_nb):
        return []
    write_notebook(lesson_nb, target)
    return [roots.show(target)]


def run_solution(slug: str, roots: Roots, store_outputs: bool = False) -> list[str]:
    """Step: execute the solution; sync its checkpoint; save its outputs if asked."""
    if not (store_outputs or has_checkpoint(slug, roots)):
        return []
    # A fixed folder, so that stored outputs naming it do not change from one build to the next.
    temp = Path(tempfile.gettempdir()) / "workbook-build" / slug
    shutil.rmtree(temp, ignore_errors=True)
    try:
        executed = execute_solution(slug, temp / "workspace", roots)
        checkpoint = roots.checkpoints / slug
        changed = sync_checkpoint(temp / "workspace", checkpoint) if has_checkpoint(slug, roots) else []
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    if store_outputs:
        write_notebook(executed, roots.solutions / f"{slug}.ipynb")
    return [roots.show(path) for path in changed]


BUILD_STEPS = [write_lesson, run_solution]


def check_drift(slugs: list[str], roots: Roots, whole: bool = True) -> list[str]:
    """Every lessons/ or checkpoints/ path that differs from what the build would make."""
    drifted = [roots.show(path) for path in stale_lessons(roots)] if whole else []
    for slug in slugs:
        target = roots.lessons / f"{slug}.ipynb"
        expected = render_lesson(roots.solutions / f"{slug}.ipynb", roots)
        if not target.exists() or target.read_bytes() != expected:
            drifted.append(roots.show(target))
    with_checkpoint = [slug for slug in slugs if has_checkpoint(slug, roots)]
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        for paths in pool.map(lambda slug: checkpoint_drift_of(slug, roots), with_checkpoint):
            drifted += [roots.show(path) for path in paths]
    return drifted


def checkpoint_drift_of(slug: str, roots: Roots) -> list[Path]:
    """Run the solution from the committed previous checkpoint; compare with its checkpoint."""
    with tempfile.TemporaryDirectory(prefix=f"workbook-check-{slug}-") as temp:
        workspace = Path(temp) / "workspace"
        execute_solution(slug, workspace, roots)
        return checkpoint_drift(workspace, roots.checkpoints / slug)


def stale_lessons(roots: Roots) -> list[Path]:
    """Lesson notebooks whose solution no longer exists."""
    known = set(lesson_slugs(roots))
    return sorted(
        path for path in roots.lessons.glob("*.ipynb") if NOTEBOOK_NAME.match(path.name) and path.stem not in known
    )


def remove_stale_lessons(roots: Roots) -> list[str]:
    stale = stale_lessons(roots)
    for path in stale:
        path.unlink()
    return [roots.show(path) for path in stale]
