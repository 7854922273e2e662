"""A milestone failure told in the learner's terms: the assertion's sentence, or what their app raised and where,
then the diagnosis of a known mistake (workbook.diagnoses) when one fits, and how basic the failure is.

What a sandboxed app raised reaches this process as data (workbook.sandbox_errors.AppFailed.outcome), and the
clients record each request they sent (workbook.sandbox_client.AppClient.exchanges): workbook.evidence turns both
into the Evidence the diagnoses read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbook.diagnoses import diagnose, kind_of, short_message
from workbook.evidence import Evidence, from_report, in_a_copy, in_learner_terms

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
KIND_PROPERTY = "workbook_kind"  # the user property a milestone failure's kind travels in (workbook.diagnoses.KINDS)


def explain_failure(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    """The assertion's own sentence, or what the app raised and where in the learner's files."""
    return explained(item, excinfo)[0]


def explained(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> tuple[str, str]:
    """(the failure in the learner's terms, how basic it is: "route", "crash" or "answer")."""
    location = _test_location(item, excinfo)
    error = excinfo.value
    exchanges = _exchanges(item)
    if isinstance(error, AssertionError) or excinfo.typename in ("Failed", "Skipped"):
        text = _ANSI.sub("", str(error))
        cut = text.find("\nassert ")  # pytest's rewritten operands repeat what the message says
        if cut > 0:
            text = text[:cut]
        text = in_learner_terms(text)
        raised = excinfo.typename if excinfo.typename == "RequestTimedOut" else ""
        evidence = Evidence(error=raised, message=text, exchanges=exchanges)
        found = diagnose(evidence)
        if found and raised:  # the diagnosis says where it waits: the generic advice would mislead
            text = text.split(" Look for an endless loop", 1)[0]
        said = f"{text}\nDiagnosis: {found.text}" if found else text
        return (f"{said}\n  (in {location})" if said else location), kind_of(evidence)
    if isinstance(getattr(error, "outcome", None), dict):  # raised in the sandbox: the child's report, as data
        return _explain_reported(error, location, exchanges)
    from workbook.evidence_live import from_exception

    evidence = from_exception(error, in_a_copy, exchanges)
    return _told(evidence, excinfo.typename, location)


def _explain_reported(error, location: str, exchanges: tuple) -> tuple[str, str]:
    """What the app raised in the sandbox (workbook.sandbox_errors.AppFailed): its type, message and frames."""
    request = getattr(error, "exchange", None)
    evidence = from_report(error.outcome, request, exchanges)
    if not hasattr(error, "request"):  # it could not load or start: the preflight's sentence says it
        found = diagnose(evidence) if evidence.error else None
        said = in_learner_terms(str(error)) + (f"\nDiagnosis: {found.text}" if found else "")
        return f"{said}\n  (in {location})", "crash"
    return _told(evidence, error.type_name, location)


def _told(evidence: Evidence, type_name: str, location: str) -> tuple[str, str]:
    found = diagnose(evidence)
    frames = [f"  {frame.file}, line {frame.line}, in {frame.function}" + (f"\n    {frame.code}" if frame.code else "")
              for frame in evidence.mine]  # fmt: skip
    message = short_message(evidence.error, evidence.message, evidence.problems)
    head = f"The app raised {type_name}: {message}" if frames or evidence.request else f"{type_name}: {message}"
    if evidence.problems and evidence.error == "ResponseValidationError":
        head = f"The app's answer does not match its response_model ({type_name}): {message}"
    lines = [head, *frames] + ([f"Diagnosis: {found.text}"] if found else [])
    return "\n".join(lines) + f"\n  (in {location})", kind_of(evidence)


def _exchanges(item: pytest.Item) -> tuple:
    """The requests the test's clients sent (each AppClient records them; make_client keeps its clients), in order."""
    found = []
    values = list(getattr(item, "funcargs", {}).values())
    for value in values + [client for each in values for client in getattr(each, "clients", ())]:
        exchanges = getattr(value, "exchanges", None)
        if isinstance(exchanges, list) and not any(each is exchanges for each in found):
            found.append(exchanges)
    return tuple(exchange for each in found for exchange in each)


def _test_location(item: pytest.Item, excinfo: pytest.ExceptionInfo) -> str:
    line = item.location[1] + 1 if item.location[1] is not None else 0
    for entry in excinfo.traceback:
        if Path(entry.path) == Path(item.path):
            line = entry.lineno + 1
    return f"{item.location[0]}:{line}"
