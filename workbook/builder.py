"""Build the learner's notebooks and the checkpoints from the solution notebooks, or check them.

solutions/NN_slug.ipynb is the source of truth. For each lesson the steps below say what its
generated files should hold: lessons/NN_slug.ipynb (exercises blanked, outputs cleared) and
checkpoints/NN_slug/'s app files (what the solution writes when it runs from the previous
checkpoint). `build()` writes what differs, lesson by lesson in order, since each lesson starts
from the checkpoint the one before it just made; `check()` runs the very same steps from the
committed checkpoints, in parallel, and lists what differs (as rustlings' `dev check` does).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbook.appfiles import app_files, read_app_files
from workbook.checkpoints import execute_solution
from workbook.lessons import NOTEBOOK_NAME, Course, Lesson
from workbook.markers import BuildError
from workbook.notebook_files import build_lesson_notebook, notebook_bytes, read_notebook

__all__ = ["BuildError", "build", "check", "render_lesson"]

PARALLEL_RUNS = 2  # kernels at once in check(): the machines have 2 cores


@dataclass(frozen=True)
class Planned:
    """What one generated path should hold (None: it should not exist)."""

    path: Path
    content: bytes | None
    top: Path | None = None  # emptied folders are removed up to here, after a deletion

    def differs(self) -> bool:
        if self.content is None:
            return self.path.exists()
        return not self.path.is_file() or self.path.read_bytes() != self.content

    def apply(self) -> None:
        if self.content is None:
            self.path.unlink()
            folder = self.path.parent
            while self.top and folder != self.top and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(self.content)


def render_lesson(lesson: Lesson) -> bytes:
    """The bytes lessons/NN_slug.ipynb should hold, made from the lesson's solution."""
    solution = read_notebook(lesson.solution)
    return notebook_bytes(build_lesson_notebook(solution, lesson.course.show(lesson.solution)))


def lesson_notebook(lesson: Lesson, store_outputs: bool = False) -> list[Planned]:
    """Step: the learner's notebook."""
    return [Planned(lesson.notebook, render_lesson(lesson))]


def checkpoint_and_outputs(lesson: Lesson, store_outputs: bool = False) -> list[Planned]:
    """Step: run the solution; its checkpoint's app files (and, if asked, the executed solution)."""
    if not (lesson.has_checkpoint or store_outputs):
        return []
    with _scratch(lesson, fixed=store_outputs) as scratch:
        executed = execute_solution(lesson, scratch)
        planned = []
        if lesson.has_checkpoint:
            made = read_app_files(scratch)
            planned += [Planned(lesson.checkpoint / relative, content) for relative, content in made.items()]
            planned += [
                Planned(path, None, top=lesson.checkpoint)
                for relative, path in app_files(lesson.checkpoint).items()
                if relative not in made
            ]
    if store_outputs:
        planned.append(Planned(lesson.solution, notebook_bytes(executed)))
    return planned


STEPS = [lesson_notebook, checkpoint_and_outputs]


@contextmanager
def _scratch(lesson: Lesson, fixed: bool) -> Iterator[Path]:
    """An empty workspace folder for a run, removed after it.

    Stored outputs may name it, so a run whose outputs are kept uses the same path every time.
    """
    if fixed:
        parent = Path(tempfile.gettempdir()) / "workbook-build" / lesson.slug
        shutil.rmtree(parent, ignore_errors=True)
    else:
        parent = Path(tempfile.mkdtemp(prefix=f"workbook-check-{lesson.slug}-"))
    try:
        yield parent / "workspace"
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def plan(lesson: Lesson, store_outputs: bool = False) -> list[Planned]:
    return [planned for step in STEPS for planned in step(lesson, store_outputs)]


def build(course: Course, only: Lesson | None = None, store_outputs: bool = False) -> list[str]:
    """Regenerate lessons/ and checkpoints/ from solutions/; the paths that changed."""
    changed = stale_lessons(course) if only is None else []
    for planned in changed:
        planned.apply()
    for lesson in [only] if only else course.lessons:
        for planned in plan(lesson, store_outputs):
            if planned.differs():
                planned.apply()
                changed.append(planned)
    return [course.show(planned.path) for planned in changed]


def check(course: Course, only: Lesson | None = None) -> list[str]:
    """Every lessons/ or checkpoints/ path that differs from what build() would make; nothing written."""
    lessons = [only] if only else list(course.lessons)
    drifted = stale_lessons(course) if only is None else []
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        for planned in pool.map(plan, lessons):
            drifted += [each for each in planned if each.differs()]
    return [course.show(planned.path) for planned in drifted]


def stale_lessons(course: Course) -> list[Planned]:
    """Lesson notebooks whose solution no longer exists: they should not exist either."""
    known = {lesson.slug for lesson in course.lessons}
    return [
        Planned(path, None)
        for path in sorted(course.notebooks.glob("*.ipynb"))
        if NOTEBOOK_NAME.match(path.name) and path.stem not in known
    ]
