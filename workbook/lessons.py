"""Where things live, and the lessons as the solution notebooks define them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
LESSONS = REPO / "lessons"
CHECKPOINTS = REPO / "checkpoints"
STATE_DIR = REPO / ".workbook"

NOTEBOOK_NAME = re.compile(r"^(\d\d)_([a-z0-9_]+)\.ipynb$")


def workspace_dir() -> Path:
    """The learner's workspace: $WORKBOOK_WORKSPACE, else workspace/ at the repo root."""
    configured = os.environ.get("WORKBOOK_WORKSPACE")
    return Path(configured).expanduser().resolve() if configured else REPO / "workspace"


@dataclass(frozen=True)
class Lesson:
    number: str  # "02"
    slug: str  # "02_requests_and_validation"
    title: str
    minutes: int = 0
    # Earlier suites this lesson's app still passes, with the extra pytest options they need.
    keeps: dict[str, list[str]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def solution(self) -> Path:
        return SOLUTIONS / f"{self.slug}.ipynb"

    @property
    def notebook(self) -> Path:
        return LESSONS / f"{self.slug}.ipynb"

    @property
    def checkpoint(self) -> Path:
        return CHECKPOINTS / self.slug

    @property
    def has_checkpoint(self) -> bool:
        return (self.checkpoint / "app").is_dir()

    @property
    def suite(self) -> Path:
        return self.checkpoint / "milestone"

    @property
    def mutants(self) -> Path:
        """The planted bugs the milestone suite must catch, beside it."""
        return self.suite / "mutants.toml"

    @property
    def previous(self) -> Lesson | None:
        """The latest earlier lesson that has a checkpoint: where this lesson starts from."""
        earlier = [each for each in all_lessons() if each.number < self.number and each.has_checkpoint]
        return earlier[-1] if earlier else None


@cache
def all_lessons() -> tuple[Lesson, ...]:
    found = []
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        match = NOTEBOOK_NAME.match(path.name)
        if not match:
            continue
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {}).get("workbook", {})
        found.append(
            Lesson(
                number=match.group(1),
                slug=path.stem,
                title=meta.get("title", match.group(2).replace("_", " ").capitalize()),
                minutes=int(meta.get("minutes", 0)),
                keeps=meta.get("keeps", {}),
            )
        )
    return tuple(found)


class UnknownLesson(LookupError):
    pass


def find_lesson(name: str | int) -> Lesson:
    """A lesson by number ("2", "02") or slug ("02_requests_and_validation")."""
    text = str(name).strip()
    if text.isdigit():
        text = f"{int(text):02d}"
    for lesson in all_lessons():
        if text in (lesson.number, lesson.slug):
            return lesson
    known = ", ".join(lesson.number for lesson in all_lessons())
    raise UnknownLesson(f"There is no lesson {name!r}. The lessons are {known}.")


def lesson_of_checkpoint(folder: Path) -> Lesson | None:
    """The lesson whose checkpoint is `folder`, if any."""
    folder = folder.resolve()
    for lesson in all_lessons():
        if lesson.checkpoint.resolve() == folder:
            return lesson
    return None


def lesson_creating(relative_path: str) -> Lesson | None:
    """The first lesson whose checkpoint contains `relative_path` (e.g. "app/core/__init__.py")."""
    for lesson in all_lessons():
        if (lesson.checkpoint / relative_path).exists():
            return lesson
    return None
