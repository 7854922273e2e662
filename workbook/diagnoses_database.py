"""The diagnoses' rules for database and session mistakes: a connection never given back, a row read back or
deleted without a commit, a PATCH that sets what was not sent, a duplicate row, tables missing or made by an
earlier version of the app, a table defined twice in one kernel.

Each rule is a function from Evidence to a sentence (the cause, then the fix) or None; workbook.diagnoses
lists them all, in the order they are tried.
"""

from __future__ import annotations

import re

from workbook.evidence import Evidence


def _call_in_code(evidence: Evidence, method: str) -> tuple[str, str] | None:
    """("session", "task") from a learner's line such as `session.refresh(task)`."""
    for frame in reversed(evidence.mine):
        found = re.search(rf"(\w+)\.{method}\((\w+)", frame.code)
        if found:
            return found[1], found[2]
    return None


def pool_exhausted(evidence: Evidence) -> str | None:
    stuck = [frame for exchange in [*evidence.exchanges, evidence.request] if exchange for frame in exchange.stuck]
    waited = any("sqlalchemy" in frame.file and "pool" in frame.file for frame in stuck)
    if not waited and not re.search(r"QueuePool limit of size \d+ overflow \d+ reached", evidence.text):
        return None
    return (
        "Every request took a database connection and never gave it back, so the pool ran out and this request "
        "waited for one. The session dependency must `yield session` inside `with Session(engine) as session:`, "
        "not `return session`: with `yield`, the session is closed once the response is sent."
    )


def no_commit_before_refresh(evidence: Evidence) -> str | None:
    if not (evidence.raised("InvalidRequestError") and "is not persistent within this Session" in evidence.text):
        return None
    session, thing = _call_in_code(evidence, "refresh") or ("session", "task")
    return (
        f"`{session}.refresh({thing})` reads the row back from the database, but it was never saved: "
        f"call `{session}.commit()` after `{session}.add({thing})` and before `{session}.refresh({thing})`."
    )


_NOT_NULL = re.compile(r"NOT NULL constraint failed: (?P<table>\w+)\.(?P<column>\w+)")


def patch_without_exclude_unset(evidence: Evidence) -> str | None:
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


def duplicate_row(evidence: Evidence) -> str | None:
    found = re.search(r"UNIQUE constraint failed: (?P<table>\w+)\.(?P<column>\w+)", evidence.text)
    if not (evidence.raised("IntegrityError") and found):
        return None
    return (
        f"A {found['table']} with this {found['column']} already exists, and the table allows only one: look it up "
        "before adding it and answer 409 Conflict (catch IntegrityError too, roll back, and answer 409)."
    )


def tables_not_created(evidence: Evidence) -> str | None:
    found = re.search(r"no such table: (?P<table>\w+)", evidence.text)
    if not (evidence.raised("OperationalError") and found):
        return None
    return (
        f"The table `{found['table']}` does not exist when the request runs: the tables must be created before the "
        "app serves requests. Call `SQLModel.metadata.create_all(engine)` in the lifespan before `yield` (and import "
        "the module that defines the table first)."
    )


def stale_database(evidence: Evidence) -> str | None:
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


def table_defined_twice(evidence: Evidence) -> str | None:
    found = re.search(r"Table '(?P<table>[^']+)' is already defined for this MetaData instance", evidence.text)
    if not found:
        return None
    return (
        f"The table `{found['table']}` is defined a second time in this kernel (its cell ran again): SQLModel keeps "
        "every table it has seen. Restart the kernel (Kernel > Restart Kernel), then run the cells from the top."
    )


def no_commit_after_delete(evidence: Evidence) -> str | None:
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
