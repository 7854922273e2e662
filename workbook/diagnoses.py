"""The mistakes everyone makes, each told as its cause and its fix: one table, used wherever an app is run.

`diagnose(evidence)` is a pure function over plain data (workbook.evidence defines it and reads it from a
sandboxed load's report and the requests its client sent; workbook.evidence_live gathers it from a live
exception in this process): what the app raised (the exception's type name, its
message, the module that defines it, the frames), and what it answered. It never looks at a live
object, so the evidence may come from this process or, as JSON, from a child process. `workbook check`,
the inline check (`lesson.check()`), the preflight and the notebook's error view all use it.

Each rule is a function from Evidence to a sentence or None, registered in RULES in order; the
first that speaks wins. Their ids are stable (tests and the ordering of failures use them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import get_close_matches

from workbook.evidence import Evidence, Exchange, Problem


@dataclass(frozen=True)
class Diagnosis:
    id: str  # the rule's id: "no_commit_after_add"
    kind: str  # "route" (a missing route or prefix), "crash" (the app raised or hung), "answer" (a wrong answer)
    text: str  # the sentence: the cause, then the fix


# --- the table -----------------------------------------------------------------------------------------

RULES: list[tuple[str, str, Callable[[Evidence], str | None]]] = []


def rule(id: str, kind: str = "crash"):
    def register(function: Callable[[Evidence], str | None]):
        RULES.append((id, kind, function))
        return function

    return register


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
    if unrouted(evidence) is not None:
        return "route"
    if evidence.error and evidence.error not in ("AssertionError", "Failed"):
        return "crash"
    return "answer"


KINDS = ("route", "crash", "answer")  # the most basic first


def _call_in_code(evidence: Evidence, method: str) -> tuple[str, str] | None:
    """("session", "task") from a learner's line such as `session.refresh(task)`."""
    for frame in reversed(evidence.mine):
        found = re.search(rf"(\w+)\.{method}\((\w+)", frame.code)
        if found:
            return found[1], found[2]
    return None


def _function(evidence: Evidence) -> str:
    """The learner's function that raised (the innermost of their frames), as `name()`; or "the route"."""
    mine = evidence.mine
    return f"`{mine[-1].function}()`" if mine else "the route"


@rule("import_name_typo")
def _import_name(evidence: Evidence) -> str | None:
    found = re.search(r"cannot import name '(?P<name>[^']+)' from '(?P<module>[^']+)'", evidence.message)
    if evidence.error != "ImportError" or not found:
        return None
    name, module = found["name"], found["module"]
    if "partially initialized module" in evidence.message or "circular import" in evidence.message:
        return (
            f"`{module}` and a module it imports import each other (a circular import), so `{name}` does not exist "
            f"yet when it is asked for. Move the shared code into a module both can import, or import inside the "
            "function that needs it."
        )
    nearest = get_close_matches(name, [each for each in evidence.names if not each.startswith("_")], n=1, cutoff=0.6)
    if nearest:
        return f"`{module}` has no `{name}`: did you mean `{nearest[0]}`? Fix the name in the import."
    if evidence.names:
        return (
            f"`{module}` defines no `{name}`: check the spelling, or define `{name}` in {module.replace('.', '/')}.py."
        )
    return None


@rule("pool_exhausted")
def _pool_exhausted(evidence: Evidence) -> str | None:
    stuck = [frame for exchange in [*evidence.exchanges, evidence.request] if exchange for frame in exchange.stuck]
    waited = any("sqlalchemy" in frame.file and "pool" in frame.file for frame in stuck)
    if not waited and not re.search(r"QueuePool limit of size \d+ overflow \d+ reached", evidence.text):
        return None
    return (
        "Every request took a database connection and never gave it back, so the pool ran out and this request "
        "waited for one. The session dependency must `yield session` inside `with Session(engine) as session:`, "
        "not `return session`: with `yield`, the session is closed once the response is sent."
    )


@rule("no_commit_before_refresh")
def _refresh_before_commit(evidence: Evidence) -> str | None:
    if not (evidence.raised("InvalidRequestError") and "is not persistent within this Session" in evidence.text):
        return None
    session, thing = _call_in_code(evidence, "refresh") or ("session", "task")
    return (
        f"`{session}.refresh({thing})` reads the row back from the database, but it was never saved: "
        f"call `{session}.commit()` after `{session}.add({thing})` and before `{session}.refresh({thing})`."
    )


def _response_problems(evidence: Evidence) -> tuple[Problem, ...]:
    return evidence.problems if evidence.raised("ResponseValidationError") else ()


@rule("forgotten_return")
def _returned_none(evidence: Evidence) -> str | None:
    """Only when the route really returned None: the whole response, not one of its fields, is None."""
    if any(p.loc == ("response",) and p.input_type == "NoneType" for p in _response_problems(evidence)):
        return f"{_function(evidence)} returned None where its response_model expects data: did you forget `return`?"
    return None


@rule("no_commit_after_add")
def _unsaved_id(evidence: Evidence) -> str | None:
    if not any(p.loc[-1:] == ("id",) and p.input_type == "NoneType" for p in _response_problems(evidence)):
        return None
    return (
        f"{_function(evidence)} returned an object whose id is None: the database gives the id when the row is saved, "
        "and it was not. Call `session.commit()` after `session.add(...)`, then `session.refresh(...)` to read the id."
    )


@rule("dict_where_a_list_is_declared")
def _dict_for_a_list(evidence: Evidence) -> str | None:
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


_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?P<table>\w+)\.(?P<column>\w+)")


@rule("patch_without_exclude_unset")
def _patch_sets_none(evidence: Evidence) -> str | None:
    found = _NOT_NULL.search(evidence.text)
    if not (evidence.raised("IntegrityError") and found):
        return None
    patching = (evidence.request and evidence.request.method == "PATCH") or any(
        re.search(r"update|patch", frame.function) for frame in evidence.mine
    )
    if not patching:
        return (
            f"The {found['table']} row was saved without a {found['column']}, which the table requires: "
            f"give `{found['column']}` a value (or a default) before `session.commit()`."
        )
    return (
        f"PATCH set `{found['column']}` to None because the request did not send it: apply only the fields sent, "
        "with `task_in.model_dump(exclude_unset=True)` (then `task.sqlmodel_update(...)`)."
    )


@rule("duplicate_row")
def _unique(evidence: Evidence) -> str | None:
    found = re.search(r"UNIQUE constraint failed: (?P<table>\w+)\.(?P<column>\w+)", evidence.text)
    if not (evidence.raised("IntegrityError") and found):
        return None
    return (
        f"A {found['table']} with this {found['column']} already exists, and the table allows only one: look it up "
        "before adding it and answer 409 Conflict (catch IntegrityError too, roll back, and answer 409)."
    )


@rule("tables_not_created")
def _no_table(evidence: Evidence) -> str | None:
    found = re.search(r"no such table: (?P<table>\w+)", evidence.text)
    if not (evidence.raised("OperationalError") and found):
        return None
    return (
        f"The table `{found['table']}` does not exist when the request runs: the tables must be created before the "
        "app serves requests. Call `SQLModel.metadata.create_all(engine)` in the lifespan before `yield` (and import "
        "the module that defines the table first)."
    )


@rule("stale_database")
def _stale_database(evidence: Evidence) -> str | None:
    found = re.search(r"no such column: (?P<table>\w+)\.(?P<column>\w+)", evidence.text) or re.search(
        r"table (?P<table>\w+) has no column named (?P<column>\w+)", evidence.text
    )
    if not (evidence.raised("OperationalError") and found):
        return None
    return (
        f"The database file was made by an earlier version of the app, before `{found['table']}` had the column "
        f"`{found['column']}`: create_all() creates missing tables but never changes one that exists. Delete the "
        "database file (tasks.db, unless DATABASE_URL names another) and run again: it is made anew, with every column."
    )


@rule("table_defined_twice")
def _table_twice(evidence: Evidence) -> str | None:
    found = re.search(r"Table '(?P<table>[^']+)' is already defined for this MetaData instance", evidence.text)
    if not found:
        return None
    return (
        f"The table `{found['table']}` is defined a second time in this kernel (its cell ran again): SQLModel keeps "
        "every table it has seen. Restart the kernel (Kernel > Restart Kernel), then run the cells from the top."
    )


@rule("handler_not_registered")
def _unhandled_own_exception(evidence: Evidence) -> str | None:
    if not (evidence.module == "app" or evidence.module.startswith("app.")) or evidence.request is None:
        return None
    return (
        f"{evidence.error} is your own exception, and no handler is registered for it, so it became a 500: "
        f"register one with `app.add_exception_handler({evidence.error}, handler)` "
        f"(or `@app.exception_handler({evidence.error})`) where the app is made."
    )


@rule("no_commit_after_delete", kind="answer")
def _delete_not_saved(evidence: Evidence) -> str | None:
    exchanges = evidence.exchanges
    for place, deleted in enumerate(exchanges):
        if deleted.method != "DELETE" or not (deleted.status or 0) // 100 == 2:
            continue
        if any(
            later.method == "GET" and later.path == deleted.path and later.status == 200
            for later in exchanges[place + 1 :]
        ):
            return (
                f"DELETE {deleted.path} answered {deleted.status}, yet GET {deleted.path} still finds it: the deletion "
                "was never saved. Call `session.commit()` after `session.delete(...)`."
            )
    return None


_TEMPLATE_PART = re.compile(r"\{[^}]+\}")


def _matches(template: str, path: str) -> bool:
    pattern = "".join(
        "[^/]+" if _TEMPLATE_PART.fullmatch(part) else re.escape(part) for part in re.split(r"(\{[^}]+\})", template)
    )
    return re.fullmatch(pattern, path) is not None


def unrouted(evidence: Evidence) -> Exchange | None:
    """The first request no route took (a 404 for its path, a 405 for its method), unless the test made its path
    up to be unknown (it holds "no-such")."""
    for exchange in evidence.exchanges:
        if "no-such" in exchange.path:
            continue
        if (exchange.status == 404 and exchange.route is None) or exchange.status == 405:
            return exchange
    return None


@rule("route_under_another_prefix", kind="route")
def _prefix(evidence: Evidence) -> str | None:
    """A request no route took, whose path the app does serve under another prefix (or none)."""
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 404:
        return None
    parts = exchange.path.rstrip("/").split("/")
    for shown in exchange.routes:
        method, _, template = shown.partition(" ")
        if method != exchange.method:
            continue
        for cut in range(2, len(parts)):  # a longer request path: the app lacks the prefix
            if _matches(template, "/".join(["", *parts[cut:]])):
                prefix = "/".join(parts[:cut])
                return (
                    f"No route answers {exchange.method} {exchange.path}, but the app has {method} {template}: its "
                    f"routes are not under {prefix}. Include the router with "
                    f'`app.include_router(router, prefix="{prefix}")`.'
                )
        template_parts = template.rstrip("/").split("/")
        for cut in range(2, len(template_parts)):  # a longer route: the app has a prefix the contract does not
            if _matches("/".join(["", *template_parts[cut:]]), exchange.path):
                prefix = "/".join(template_parts[:cut])
                return (
                    f"No route answers {exchange.method} {exchange.path}, but the app has {method} {template}: "
                    f"{prefix} should not be part of this path."
                )
    return None


@rule("route_missing", kind="route")
def _no_route(evidence: Evidence) -> str | None:
    """A request no route took, and the app has nothing like it: name what it has."""
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 404 or not exchange.routes:
        return None
    has = ", ".join(exchange.routes[:8]) + (" ..." if len(exchange.routes) > 8 else "")
    return (
        f"No route answers {exchange.method} {exchange.path}: the app's routes are {has}. Add that route, or "
        "include the router that has it (`app.include_router(...)`, with the prefix the lesson gives)."
    )


@rule("route_without_method", kind="route")
def _method(evidence: Evidence) -> str | None:
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 405:
        return None
    return (
        f"{exchange.path} exists, but not for {exchange.method} (405 Method Not Allowed): add a route with "
        f"`@router.{exchange.method.lower()}(...)` for that path, or check its decorator's method."
    )


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
