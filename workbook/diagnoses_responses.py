"""The diagnoses' rules for an answer its response_model refuses (a ResponseValidationError): None returned
(a forgotten `return`), an object not yet saved (its id is None), a dict or one object where a list is
declared, or a list where one object is.

Each rule is a function from Evidence to a sentence (the cause, then the fix) or None; workbook.diagnoses
lists them all, in the order they are tried.
"""

from __future__ import annotations

from workbook.evidence import Evidence, Problem


def _function(evidence: Evidence) -> str:
    """The learner's function that raised (the innermost of their frames), as `name()`; or "the route"."""
    mine = evidence.mine
    return f"`{mine[-1].function}()`" if mine else "the route"


def _response_problems(evidence: Evidence) -> tuple[Problem, ...]:
    return evidence.problems if evidence.raised("ResponseValidationError") else ()


def forgotten_return(evidence: Evidence) -> str | None:
    """Only when the route really returned None: the whole response, not one of its fields, is None."""
    if any(p.loc == ("response",) and p.input_type == "NoneType" for p in _response_problems(evidence)):
        return f"{_function(evidence)} returned None where its response_model expects data: did you forget `return`?"
    return None


def no_commit_after_add(evidence: Evidence) -> str | None:
    if not any(p.loc[-1:] == ("id",) and p.input_type == "NoneType" for p in _response_problems(evidence)):
        return None
    return (
        f"{_function(evidence)} returned an object whose id is None: the database gives the id when the row is saved, "
        "and it was not. Call `session.commit()` after `session.add(...)`, then `session.refresh(...)` to read the id."
    )


def dict_where_a_list_is_declared(evidence: Evidence) -> str | None:
    for p in _response_problems(evidence):
        if p.loc == ("response",) and p.kind == "list_type":
            got = "a dict" if p.input_type == "dict" else f"a {p.input_type}"
            return (
                f"{_function(evidence)} returned {got} where its response_model declares a list (list[...]): "
                'return the list itself (`return tasks`, not `{"tasks": tasks}`).'
            )
        if p.loc == ("response",) and p.input_type in ("list", "tuple") and p.kind.endswith(("_type", "dict_type")):
            return (
                f"{_function(evidence)} returned a list where its response_model declares one object: "
                "return the one item, or declare response_model=list[...]."
            )
    return None
