"""The mistakes everyone makes, each told as its cause and its fix: one table, used wherever an app is run.

`diagnose(evidence)` is a pure function over plain data (workbook.evidence defines it and reads it from a
sandboxed load's report and the requests its client sent; workbook.evidence_live gathers it from a live
exception in this process): what the app raised (the exception's type name, its
message, the module that defines it, the frames), and what it answered. It never looks at a live
object, so the evidence may come from this process or, as JSON, from a child process. `workbook check`,
the inline check (`lesson.check()`), the preflight and the notebook's error view all use it.

Each rule is a function from Evidence to a sentence or None, listed in RULES in the order they are tried; the
first that speaks wins. Their ids are stable (tests and the ordering of failures use them). The rules themselves
are by kind of mistake: workbook.diagnoses_code (imports, handlers), workbook.diagnoses_database (the database
and its session), workbook.diagnoses_responses (an answer its response_model refuses) and
workbook.diagnoses_routes (a request no route took). This module holds the table, `diagnose`, `kind_of`, and
`short_message` (an exception's message without its noise).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from workbook import diagnoses_code as code
from workbook import diagnoses_database as database
from workbook import diagnoses_responses as responses
from workbook import diagnoses_routes as routes
from workbook.evidence import Evidence, Problem


@dataclass(frozen=True)
class Diagnosis:
    id: str  # the rule's id: "no_commit_after_add"
    kind: str  # "route" (a missing route or prefix), "crash" (the app raised or hung), "answer" (a wrong answer)
    text: str  # the sentence: the cause, then the fix


# --- the table -----------------------------------------------------------------------------------------

# (id, kind, rule), in the order they are tried: the first that speaks wins.
RULES: list[tuple[str, str, Callable[[Evidence], str | None]]] = [
    ("import_name_typo", "crash", code.import_name_typo),
    ("pool_exhausted", "crash", database.pool_exhausted),
    ("no_commit_before_refresh", "crash", database.no_commit_before_refresh),
    ("forgotten_return", "crash", responses.forgotten_return),
    ("no_commit_after_add", "crash", responses.no_commit_after_add),
    ("dict_where_a_list_is_declared", "crash", responses.dict_where_a_list_is_declared),
    ("patch_without_exclude_unset", "crash", database.patch_without_exclude_unset),
    ("duplicate_row", "crash", database.duplicate_row),
    ("tables_not_created", "crash", database.tables_not_created),
    ("stale_database", "crash", database.stale_database),
    ("table_defined_twice", "crash", database.table_defined_twice),
    ("handler_not_registered", "crash", code.handler_not_registered),
    ("no_commit_after_delete", "answer", database.no_commit_after_delete),
    ("route_under_another_prefix", "route", routes.route_under_another_prefix),
    ("route_missing", "route", routes.route_missing),
    ("route_without_method", "route", routes.route_without_method),
]


def diagnose(evidence: Evidence) -> Diagnosis | None:
    """The first rule's sentence that fits the evidence, or None: no known mistake explains it."""
    for id, kind, explain in RULES:
        text = explain(evidence)
        if text:
            return Diagnosis(id, kind, text)
    return None


def kind_of(evidence: Evidence) -> str:
    """How basic a failure is, for choosing which to show first: "route", then "crash", then "answer"."""
    found = diagnose(evidence)
    if found is not None:
        return found.kind
    if routes.unrouted(evidence) is not None:
        return "route"
    if evidence.error and evidence.error not in ("AssertionError", "Failed"):
        return "crash"
    return "answer"


KINDS = ("route", "crash", "answer")  # the most basic first


# --- the raw message, shortened --------------------------------------------------------------------------

_SQLALCHEMY_NOISE = re.compile(r"\n\s*(?:\[SQL: |\[parameters: |\(Background on this error at: )")  # all after it


def short_message(error: str, message: str, problems: tuple[Problem, ...] = ()) -> str:
    """The exception's message without the noise a learner need not read: SQLAlchemy's statement and links,
    pydantic's inputs (a ResponseValidationError gives where and what was wrong, and the type it got)."""
    if problems:
        shown = [
            f"{'.'.join(str(part) for part in p.loc)}: {p.message}" + (f" (got {p.input_type})" if p.input_type else "")
            for p in problems[:3]
        ]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        return "; ".join(shown) + more
    return _SQLALCHEMY_NOISE.split(message, maxsplit=1)[0].rstrip()
