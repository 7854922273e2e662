"""Evidence (workbook.evidence) gathered in this process: from a live exception, and from the requests an app
imported here answered (the notebook's `lesson.client()`, through workbook.loader.with_time_limit).

The grader never imports a learner's app: there, the sandboxed load describes what it raised as data and
workbook.evidence.from_report reads it. Standard library only; FastAPI and pydantic are read duck-typed.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable

from workbook.evidence import Evidence, Exchange, Frame, Problem, in_a_copy, in_learner_terms


def frames_of(summary: traceback.StackSummary, relative: Callable[[str | None], str | None]) -> tuple[Frame, ...]:
    shown = []
    for entry in summary:
        mine = relative(entry.filename)
        shown.append(
            Frame(mine or entry.filename, entry.lineno or 0, entry.name, (entry.line or "").strip(), bool(mine))
        )
    return tuple(shown)


def from_exception(
    error: BaseException, relative: Callable[[str | None], str | None] = in_a_copy, exchanges=()
) -> Evidence:
    """What the diagnoses need of an exception: its type, message, class's module, frames, and what it came from."""
    frames = frames_of(traceback.extract_tb(error.__traceback__), relative)
    endpoint = _endpoint_frame(error, relative)
    if endpoint is not None and endpoint not in frames:
        frames = (*frames, endpoint)
    chain, seen, cause = [], {id(error)}, error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen and len(chain) < 5:
        seen.add(id(cause))
        chain.append((type(cause).__name__, str(cause)))
        cause = cause.__cause__ or cause.__context__
    return Evidence(
        error=type(error).__name__,
        message=in_learner_terms(str(error)),
        module=type(error).__module__,
        frames=frames,
        problems=_problems(error),
        request=getattr(error, "workbook_request", None),
        exchanges=tuple(exchanges),
        names=_names_in(error),
        chain=tuple(chain),
    )


def _endpoint_frame(error: BaseException, relative) -> Frame | None:
    """FastAPI names the route of a ResponseValidationError (it is raised outside the learner's frames)."""
    file, line, function = (
        getattr(error, name, None) for name in ("endpoint_file", "endpoint_line", "endpoint_function")
    )
    mine = relative(file) if file else None
    if not (mine and line and function):
        return None
    return Frame(mine, int(line), str(function), "", True)


def _problems(error: BaseException) -> tuple[Problem, ...]:
    errors = getattr(error, "errors", None)
    if type(error).__name__ not in ("ResponseValidationError", "RequestValidationError") or not callable(errors):
        return ()
    found = []
    for each in errors():
        if isinstance(each, dict):
            found.append(
                Problem(
                    tuple(each.get("loc", ())),
                    str(each.get("type", "")),
                    str(each.get("msg", "")),
                    type(each.get("input")).__name__ if "input" in each else "",
                )
            )
    return tuple(found)


def _names_in(error: BaseException) -> tuple[str, ...]:
    """For `cannot import name X from M`: the public names M defines (M is loaded: it is what failed to have X)."""
    if not isinstance(error, ImportError) or not error.name or "cannot import name" not in str(error):
        return ()
    module = sys.modules.get(error.name)
    return tuple(sorted(name for name in vars(module) if not name.startswith("_"))) if module else ()


# --- the requests an app answered ----------------------------------------------------------------------


def routes_of(app) -> tuple[str, ...]:
    """Each documented route ("GET /tasks") of a FastAPI or Starlette app (none for anything else)."""
    shown = []
    for route in getattr(getattr(app, "router", None), "routes", None) or getattr(app, "routes", None) or ():
        if getattr(route, "include_in_schema", True) and getattr(route, "methods", None):
            shown.extend(f"{method} {route.path}" for method in sorted(route.methods - {"HEAD", "OPTIONS"}))
    return tuple(shown)


def _innermost_app(app):
    while hasattr(app, "app") and not hasattr(app, "router"):  # wrappers keep the app they wrap as .app
        app = app.app
    return app


def stuck_threads(relative: Callable[[str | None], str | None] = in_a_copy) -> tuple[Frame, ...]:
    """The frames of every other thread that is inside the learner's files or a database pool: where a request
    that did not answer is waiting."""
    found = []
    for ident, top in sys._current_frames().items():
        if ident == threading.get_ident():
            continue
        try:
            frames = frames_of(traceback.extract_stack(top), relative)
        except Exception:  # noqa: BLE001 - a running thread's frames change under the walk: skip it
            continue
        if any(frame.mine or ("sqlalchemy" in frame.file and "pool" in frame.file) for frame in frames):
            found.extend(frames[-12:])
    return tuple(found)


class Recording:
    """An ASGI app that records every HTTP request it passes on (an Exchange each, in `exchanges`) and notes
    on what the app raises the request it was answering (as `workbook_request`). unanswered(scope) records
    a request that did not answer in time, with where the threads still working on it wait."""

    def __init__(self, app, relative: Callable[[str | None], str | None] = in_a_copy, keep: int = 200):
        self.app, self.relative, self.keep = app, relative, keep
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status: list[int] = []

        async def noting(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        raised = ""
        try:
            return await self.app(scope, receive, noting)
        except Exception as error:
            raised = type(error).__name__
            try:
                error.workbook_request = Exchange(scope["method"], scope["path"], status[0] if status else None)
            except AttributeError:
                pass
            raise
        finally:
            self._note(scope, status[0] if status else None, raised)

    def unanswered(self, scope) -> Exchange:
        """Record a request that has not answered in time (call it before cancelling it)."""
        return self._note(scope, None, "", stuck_threads(self.relative))

    def _note(self, scope, status: int | None, raised: str, stuck=()) -> Exchange | None:
        if scope.get("workbook.recorded"):  # once: a request that timed out ends (cancelled) after it was recorded
            return None
        scope["workbook.recorded"] = True
        route = scope.get("route")
        template = getattr(route, "path", None) if route is not None else None
        routes = routes_of(_innermost_app(self.app)) if status == 404 and template is None else ()
        exchange = Exchange(scope["method"], scope["path"], status, template, raised, tuple(stuck), routes)
        self.exchanges.append(exchange)
        del self.exchanges[: -self.keep]
        return exchange
