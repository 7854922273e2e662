"""A lesson's hints, read from its solution notebook: a question first, the answer after."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from workbook.lessons import Lesson

_DETAILS = re.compile(r"<details>(?P<inside>.*?)(?:</details>|\Z)", re.DOTALL | re.IGNORECASE)
_SUMMARY = re.compile(r"<summary>.*?</summary>", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Hint:
    question: str
    answer: str
    exercise: str = ""  # the exercise it helps with: the cell's metadata `workbook.exercise` (workbook.exercises)


def parse_hint(markdown: str) -> Hint:
    """Split a hint cell: the text before <details> asks, the inside of <details> answers."""
    found = _DETAILS.search(markdown)
    if not found:
        return Hint(question=markdown.strip(), answer="")
    answer = _SUMMARY.sub("", found["inside"], count=1)
    return Hint(question=markdown[: found.start()].strip(), answer=answer.strip())


def hints(lesson: Lesson, exercise: str | None = None) -> list[Hint]:
    """The lesson's hints in notebook order (or only those of one exercise): markdown cells tagged `hint`
    (none if there is no notebook)."""
    path = lesson.solution if lesson.solution.exists() else lesson.notebook
    if not path.exists():
        return []
    cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    found = [
        replace(parse_hint(_source(cell)), exercise=cell["metadata"].get("workbook", {}).get("exercise", ""))
        for cell in cells
        if cell.get("cell_type") == "markdown" and "hint" in cell.get("metadata", {}).get("tags", [])
    ]
    return found if exercise is None else [hint for hint in found if hint.exercise == exercise]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source
