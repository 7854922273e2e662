"""A milestone failure told in the learner's terms: the assertion's sentence, or what their app raised and where."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbook.loader import COPY_NAME

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def explain_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    """The assertion's own sentence, or what the app raised and where in the learner's files."""
    location = _test_location(item, excinfo)
    error = excinfo.value
    if isinstance(error, AssertionError) or excinfo.typename in ("Failed", "Skipped"):
        text = _ANSI.sub("", str(error))
        cut = text.find("\nassert ")  # pytest's rewritten operands repeat what the message says
        if cut > 0:
            text = text[:cut]
        return f"{text}\n  (in {location})" if text else location
    if isinstance(getattr(error, "outcome", None), dict):  # raised in the sandbox: the child's report, as data
        return _explain_reported(error, location)
    frames = _learner_frames(excinfo)
    raised = f"{excinfo.typename}: {_in_learner_terms(str(error))}"
    if _returned_nothing(error):
        raised += "\nThe route returned None where its response_model expects data: did you forget `return`?"
    if frames:
        return f"The app raised {raised}\n" + "\n".join(frames) + f"\n  (in {location})"
    return f"{raised}\n  (in {location})"


def _explain_reported(error, location: str) -> str:
    """What the app raised in the sandbox (workbook.sandbox_apps.AppFailed): its type, message and frames."""
    if not hasattr(error, "request"):  # it could not load or start
        return f"{_in_learner_terms(str(error))}\n  (in {location})"
    frames = [f"  {file}, line {line}, in {name}\n    {code.strip()}" for file, line, name, code in error.frames]
    raised = f"{error.type_name}: {_in_learner_terms(error.message)}"
    if error.outcome.get("returned_nothing"):
        raised += "\nThe route returned None where its response_model expects data: did you forget `return`?"
    if frames:
        return f"The app raised {raised}\n" + "\n".join(frames) + f"\n  (in {location})"
    return f"{raised}\n  (in {location})"


def _in_learner_terms(text: str) -> str:
    """Colour codes stripped, and paths inside a graded copy shown relative to the learner's folder."""
    return _INSIDE_A_COPY.sub("", _ANSI.sub("", text))


_INSIDE_A_COPY = re.compile(rf"[^\s'\"]*[/\\]{re.escape(COPY_NAME)}[/\\]")


def _returned_nothing(error: BaseException) -> bool:
    """A response validation error whose input is None at the top of the response: a missing return."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ != "ResponseValidationError" or not callable(errors):
        return False
    return any(e.get("input", ...) is None and tuple(e.get("loc", ()))[:1] == ("response",) for e in errors())


def _test_location(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    line = item.location[1] + 1 if item.location[1] is not None else 0
    for entry in excinfo.traceback:
        if Path(entry.path) == Path(item.path):
            line = entry.lineno + 1
    return f"{item.location[0]}:{line}"


def _learner_frames(excinfo: pytest.ExceptionInfo) -> list[str]:
    """The frames in the learner's files: in any copy of the graded folder (a fixture may load its own)."""
    shown = []
    for entry in excinfo.traceback:
        parts = Path(entry.path).parts
        if COPY_NAME not in parts:
            continue
        relative = Path(*parts[len(parts) - parts[::-1].index(COPY_NAME) :])
        code = str(entry.statement).strip()
        shown.append(f"  {relative}, line {entry.lineno + 1}, in {entry.name}\n    {code}")
    return shown
