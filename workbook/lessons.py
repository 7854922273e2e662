"""The course catalogue: which lessons exist, in what order, and where each one's parts live.

This is the only module that knows it. A lesson is defined by its solution notebook,
solutions/NN_slug.ipynb, and its metadata `workbook` (title, minutes, keeps, api_prefix, exercises).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

NOTEBOOK_NAME = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")
WRITEFILE = re.compile(r"^%%writefile(?P<append>\s+(?:-a|--append))?\s+(?P<path>\S.*?)\s*$")


def workspace_dir() -> Path:
    """The learner's workspace: $WORKBOOK_WORKSPACE, else workspace/ at the repo root."""
    configured = os.environ.get("WORKBOOK_WORKSPACE")
    return Path(configured).expanduser().resolve() if configured else REPO / "workspace"


class UnknownLesson(LookupError):
    pass


@dataclass(frozen=True)
class Course:
    """The lessons under one root folder: solutions/ (the source of truth), lessons/, checkpoints/."""

    root: Path

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def notebooks(self) -> Path:
        return self.root / "lessons"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def lessons(self) -> tuple[Lesson, ...]:
        """Every lesson, in order; a notebook is read again only when it has changed."""
        found = []
        for path in sorted(self.solutions.glob("*.ipynb")):
            if NOTEBOOK_NAME.match(path.name):
                stat = path.stat()
                found.append(_read_lesson(self, path, stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    def find(self, name: str | int) -> Lesson:
        """A lesson by number ("2", "02") or slug ("02_requests_and_validation")."""
        text = str(name).strip()
        if text.isdigit():
            text = f"{int(text):02d}"
        for lesson in self.lessons:
            if text in (lesson.number, lesson.slug):
                return lesson
        known = ", ".join(lesson.number for lesson in self.lessons) or "none yet"
        raise UnknownLesson(f"There is no lesson {name!r}. The lessons are {known}.")

    def of_checkpoint(self, folder: Path) -> Lesson | None:
        """The lesson whose checkpoint is `folder`, if any."""
        folder = Path(folder).resolve()
        return next((lesson for lesson in self.lessons if lesson.checkpoint.resolve() == folder), None)

    def creating(self, relative_path: str) -> Lesson | None:
        """The first lesson whose checkpoint contains `relative_path` (e.g. "app/core/__init__.py")."""
        return next((lesson for lesson in self.lessons if (lesson.checkpoint / relative_path).exists()), None)

    def show(self, path: Path) -> str:
        """`path` as a maintainer reads it: relative to the course's root."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Lesson:
    course: Course = field(repr=False)
    number: str  # "02"
    slug: str  # "02_requests_and_validation"
    title: str
    minutes: int = 0
    writes_files: bool = False  # its solution has %%writefile cells, so it has a checkpoint
    # Earlier suites this lesson's app still passes, with the extra pytest options they need.
    keeps: dict[str, list[str]] = field(default_factory=dict, hash=False, compare=False)
    own_api_prefix: str | None = None  # metadata `api_prefix`; None: the previous lesson's
    # Metadata `exercises`: each step's name, title and milestone tests (read through workbook.exercises).
    exercise_map: tuple = field(default=(), hash=False, compare=False)

    @property
    def solution(self) -> Path:
        return self.course.solutions / f"{self.slug}.ipynb"

    @property
    def notebook(self) -> Path:
        return self.course.notebooks / f"{self.slug}.ipynb"

    @property
    def checkpoint(self) -> Path:
        return self.course.checkpoints / self.slug

    @property
    def has_checkpoint(self) -> bool:
        return self.writes_files

    @property
    def suite(self) -> Path:
        return self.checkpoint / "milestone"

    @property
    def mutants(self) -> Path:
        """The planted bugs the milestone suite must catch, beside it."""
        return self.suite / "mutants.toml"

    @property
    def earlier(self) -> list[Lesson]:
        return [each for each in self.course.lessons if each.number < self.number]

    @property
    def previous(self) -> Lesson | None:
        """The latest earlier lesson that has a checkpoint: where this lesson starts from."""
        return next((each for each in reversed(self.earlier) if each.has_checkpoint), None)

    @property
    def starting_point(self) -> str:
        """Where the lesson starts, in words: "checkpoint 01_hello_world" or "an empty app/ folder"."""
        return f"checkpoint {self.previous.slug}" if self.previous else "an empty app/ folder"

    @property
    def api_prefix(self) -> str:
        """Where the lesson's API lives ("" or "/api/v1"): set by the lesson that moves it, kept after."""
        for each in [self, *reversed(self.earlier)]:
            if each.own_api_prefix is not None:
                return each.own_api_prefix.rstrip("/")
        return ""


@lru_cache(maxsize=256)
def _read_lesson(course: Course, path: Path, modified_ns: int, size: int) -> Lesson:  # cached until it changes
    notebook = json.loads(path.read_text(encoding="utf-8"))
    meta = notebook.get("metadata", {}).get("workbook", {})
    number, name = NOTEBOOK_NAME.match(path.name).groups()
    return Lesson(
        course=course,
        number=number,
        slug=path.stem,
        title=meta.get("title", name.replace("_", " ").capitalize()),
        minutes=int(meta.get("minutes", 0)),
        writes_files=any(_writes_a_file(cell) for cell in notebook.get("cells", [])),
        keeps=meta.get("keeps", {}),
        own_api_prefix=meta.get("api_prefix"),
        exercise_map=tuple(meta.get("exercises", ())),
    )


def _writes_a_file(cell: dict) -> bool:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return cell.get("cell_type") == "code" and bool(WRITEFILE.match(source.lstrip().partition("\n")[0]))


def current_course() -> Course:
    """The course being worked on: $WORKBOOK_COURSE (a maintainer's or a test's), else this repository."""
    configured = os.environ.get("WORKBOOK_COURSE")
    return Course(Path(configured).expanduser().resolve() if configured else REPO)


def all_lessons() -> tuple[Lesson, ...]:
    return current_course().lessons


def find_lesson(name: str | int) -> Lesson:
    return current_course().find(name)
