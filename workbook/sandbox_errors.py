"""What the grader makes of a sandboxed app gone wrong: the errors a test fails with, and the child's text made
safe to show.

What the child reports is data (see workbook/sandbox_report.py `describe`): a kind, a type, a message, the frames
in the learner's files. Each error keeps it cleaned (no control characters, bounded), and says it as the
preflight does (workbook.preflight.explain_outcome).
"""

from __future__ import annotations

import re
from pathlib import Path

RESPONSE_BYTES = 32 * 2**20
RAISED_HEADER = "x-workbook-raised"
ROUTING_HEADER = "x-workbook-routing"  # sandbox_report.ROUTING_HEADER: on a 404 or 405, which route took it
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text, limit: int = 2000) -> str:
    """Text from the child made safe to show: no control characters (but newlines and tabs), at most `limit`."""
    text = _CONTROL.sub("", str(text))
    return text if len(text) <= limit else text[:limit] + " ..."


def one_line(text, limit: int) -> str:
    """A name from the child (a file, a function, a source line) on one line: a name cannot add lines of output."""
    return clean(text, limit).replace("\r", "\\r").replace("\n", "\\n").replace("\t", " ")


def _clean_outcome(outcome) -> dict:
    if not isinstance(outcome, dict):
        return {"kind": "unreadable"}
    safe: dict = {}
    for key, value in list(outcome.items())[:20]:
        key = one_line(key, 40)
        if key == "frames" and isinstance(value, list):
            safe[key] = [_clean_frame(frame) for frame in value[:26] if isinstance(frame, list) and len(frame) == 4]
        elif key in ("problems", "chain", "names") and isinstance(value, list):  # what the diagnoses read
            safe[key] = clean_data(value)
        elif isinstance(value, bool | int | float) or value is None:
            safe[key] = value
        else:  # only an exception's message may span lines
            safe[key] = clean(value) if key == "message" else one_line(value, 2000)
    return safe


def clean_data(value, depth: int = 0):
    """A list of lists of names and messages from the child (sandbox_evidence's), each string cleaned."""
    if isinstance(value, list) and depth < 3:
        return [clean_data(each, depth + 1) for each in value[:300]]
    if isinstance(value, bool | int | float) or value is None:
        return value
    return clean(value, 600) if depth > 1 else one_line(value, 300)


def _clean_frame(frame: list) -> list:
    file, line, name, code = frame
    return [one_line(file, 300), line if isinstance(line, int) else 0, one_line(name, 100), one_line(code, 300)]


# --- what the app did wrong --------------------------------------------------------------------


class AppFailed(Exception):
    """The learner's app raised, or its load ended badly; `outcome` says how, as data (see sandbox_report.describe)."""

    def __init__(self, outcome: dict, log: str = "", workdir: Path | None = None, snapshot: Path | None = None):
        self.outcome = _clean_outcome(outcome)
        self.log, self.workdir, self.snapshot = log, workdir, snapshot
        super().__init__(self.summary())

    @property
    def type_name(self) -> str:
        return self.outcome.get("type") or {"exit": "SystemExit", "syntax": "SyntaxError"}.get(
            self.outcome.get("kind"), "Error"
        )

    @property
    def message(self) -> str:
        return self.outcome.get("message") or ""

    @property
    def frames(self) -> list[list]:
        return self.outcome.get("frames") or []

    @property
    def out_of_memory(self) -> bool:
        return bool(self.outcome.get("out_of_memory")) or "MemoryError" in self.log[-4000:]

    def summary(self) -> str:
        from workbook.preflight import explain_outcome

        return clean(explain_outcome(self.outcome, "", self.log, self.workdir, self.snapshot) or "the app failed", 4000)


class AppRaised(AppFailed):
    """The app raised while answering a request (what Starlette's TestClient raises in the test)."""

    def __init__(self, outcome: dict, request: str):
        self.request = request
        super().__init__(outcome)

    def summary(self) -> str:
        return f"{self.type_name}: {self.message}"


class LoadFailed(AppFailed):
    """The app could not be imported or started (or the load died, or hung, meanwhile)."""


class AppStopped(AssertionError):
    """The app's process ended, or dropped the connection, while a request was under way."""


class ResponseTooLarge(AssertionError):
    pass


class GraderError(RuntimeError):
    """The grading machinery itself failed (not the learner's app)."""
