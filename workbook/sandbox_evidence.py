"""Inside the sandbox: what workbook.diagnoses reads of an exception besides its type and message (the module of
its class, a validation's problems, what it was raised from, the names a module lacking one defines), the routes
an app has, and where the threads of a request that does not answer wait. All plain data
(workbook.evidence.from_report makes it Evidence on the grader's side).

One of the pieces of workbook/sandbox_app.py (the zygote), imported by its bare name in the sandbox child:
standard library only, nothing of workbook.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

MESSAGE_CHARACTERS = 1500


def as_text(value, limit: int = MESSAGE_CHARACTERS) -> str:
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails
        text = f"<{type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else text[:limit] + " ..."


def relative_to(filename, root: str) -> str | None:
    if not filename:
        return None
    path = os.path.abspath(filename)
    return path[len(root) + 1 :] if path.startswith(root + os.sep) else None


def add_evidence(report: dict, error: BaseException, root: str) -> None:
    try:
        report["module"] = as_text(type(error).__module__, 200)
        problems = _problems(error)
        if problems:
            report["problems"] = problems
        chain, seen, cause = [], {id(error)}, error.__cause__ or error.__context__
        while cause is not None and id(cause) not in seen and len(chain) < 5:
            seen.add(id(cause))
            chain.append([type(cause).__name__, as_text(cause, 600)])
            cause = cause.__cause__ or cause.__context__
        if chain:
            report["chain"] = chain
        names = _names_in(error)
        if names:
            report["names"] = names
        endpoint = _endpoint_frame(error, root)
        if endpoint is not None and endpoint not in report.get("frames", []):
            report.setdefault("frames", []).append(endpoint)
    except Exception:  # noqa: BLE001 - an exception that will not be read: the report without the extras
        pass


def _problems(error: BaseException) -> list[list]:
    """[loc, pydantic's type, message, the input's type name] of each error of a (response) validation."""
    errors = getattr(error, "errors", None)
    if type(error).__name__ not in ("ResponseValidationError", "RequestValidationError") or not callable(errors):
        return []
    found = []
    for each in list(errors())[:10]:
        if isinstance(each, dict):
            found.append([
                [as_text(part, 100) for part in each.get("loc", ())][:10], as_text(each.get("type", ""), 100),
                as_text(each.get("msg", ""), 300), type(each.get("input")).__name__ if "input" in each else "",
            ])  # fmt: skip
    return found


def _names_in(error: BaseException) -> list[str]:
    """For `cannot import name X from M`: the public names M defines (M is loaded: it is what lacked X)."""
    if not isinstance(error, ImportError) or not error.name or "cannot import name" not in str(error):
        return []
    module = sys.modules.get(error.name)
    return sorted(name for name in vars(module) if not name.startswith("_"))[:300] if module else []


def _endpoint_frame(error: BaseException, root: str) -> list | None:
    """FastAPI names the route of a ResponseValidationError (it is raised outside the learner's frames)."""
    file, line, function = (
        getattr(error, name, None) for name in ("endpoint_file", "endpoint_line", "endpoint_function")
    )
    relative = relative_to(file, root) if isinstance(file, str) else None
    if not (relative and isinstance(line, int) and function):
        return None
    return [relative, line, as_text(function, 100), ""]


def routes_of(app) -> list[str]:
    """Each documented route ("GET /tasks") of a FastAPI or Starlette app (none for anything else)."""
    shown = []
    try:
        while hasattr(app, "app") and not hasattr(app, "router"):  # middleware keeps the app it wraps as .app
            app = app.app
        for route in getattr(getattr(app, "router", None), "routes", None) or getattr(app, "routes", None) or ():
            if getattr(route, "include_in_schema", True) and getattr(route, "methods", None):
                shown.extend(f"{method} {route.path}" for method in sorted(route.methods - {"HEAD", "OPTIONS"}))
    except Exception:  # noqa: BLE001
        return shown
    return shown[:60]


def stuck_frames(root: str) -> list[list]:
    """[file, line, function, code, mine] of every other thread inside the learner's files or a database pool:
    where a request that did not answer waits."""
    found = []
    for ident, top in list(sys._current_frames().items()):
        if ident == threading.get_ident():
            continue
        try:
            frames = [
                [relative_to(f.filename, root) or f.filename, f.lineno or 0, f.name, as_text(f.line or "", 300),
                 relative_to(f.filename, root) is not None]
                for f in traceback.extract_stack(top)
            ]  # fmt: skip
        except Exception:  # noqa: BLE001 - a running thread's frames change under the walk
            continue
        if any(frame[4] or ("sqlalchemy" in frame[0] and "pool" in frame[0]) for frame in frames):
            found.extend(frames[-12:])
    return found[-40:]


def returned_nothing(error: BaseException) -> bool:
    """A response validation error whose input is None at the top of the response: a missing `return`."""
    try:
        return any(e.get("input", ...) is None and tuple(e.get("loc", ()))[:1] == ("response",) for e in error.errors())
    except Exception:  # noqa: BLE001
        return False
