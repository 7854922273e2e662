"""Solution markers: `### BEGIN SOLUTION: <prompt>` ... `### END SOLUTION` (nbgrader's convention).

The notebook kernel imports this module to drop marker lines from the cells it runs, so it
imports only the standard library (tests/test_builder.py keeps it so).
"""

from __future__ import annotations

import re

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<prompt>.*?))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
ANY_MARKER = re.compile(r"### (?:BEGIN|END) SOLUTION")


class BuildError(Exception):
    """A solution notebook cannot be turned into a lesson or a checkpoint."""


def is_marker(line: str) -> bool:
    """Whether `line` is a whole-line BEGIN or END SOLUTION marker."""
    text = line.rstrip("\r\n")
    return bool(BEGIN.match(text) or END.match(text))


def strip_markers(source: str) -> str:
    """`source` without its marker lines: the solution code as the kernel should run it."""
    return "".join(line for line in source.splitlines(keepends=True) if not is_marker(line))


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
