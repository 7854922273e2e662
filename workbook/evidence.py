"""The plain data workbook.diagnoses reads (Evidence), and Evidence made of what a sandboxed load reported.

A graded app runs in the sandbox: what it raised comes back as data (workbook/sandbox_report.py `describe`, with
workbook/sandbox_evidence.py's extras), and the client records each request it sent (workbook.sandbox_client:
an Exchange each). from_report turns both into Evidence. In this process (the notebook's kernel),
workbook.evidence_live gathers the same Evidence from a live exception. So a diagnosis never depends on how the
exception reached the grader. Standard library only (and workbook.loader's name for a copy).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbook.loader import COPY_NAME  # every copy of a graded folder is named so: its frames are the learner's

# --- the evidence: plain data -------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    file: str  # the learner's path ("app/main.py") when `mine`, else the library file as Python names it
    line: int
    function: str
    code: str = ""
    mine: bool = False


@dataclass(frozen=True)
class Problem:
    """One error of a (response) validation: where, pydantic's error type, and what type the value had."""

    loc: tuple = ()
    kind: str = ""  # pydantic's error type: "int_type", "list_type", "missing"
    message: str = ""
    input_type: str = ""  # type(input).__name__: "NoneType", "dict"


@dataclass(frozen=True)
class Exchange:
    """One request a client sent to the app, and what came of it."""

    method: str
    path: str
    status: int | None = None  # None: no answer (it raised first, or did not answer in time)
    route: str | None = None  # the path template of the route that took it; None: no route matched the path
    raised: str = ""  # the type name of what the app raised while answering it
    stuck: tuple[Frame, ...] = ()  # where the threads still working on it waited, when it did not answer in time
    routes: tuple[str, ...] = ()  # "GET /tasks" for each route the app has, kept for a request no route took


@dataclass(frozen=True)
class Evidence:
    error: str = ""  # the exception's type name; "" when nothing was raised (a wrong answer)
    message: str = ""
    module: str = ""  # the module that defines the exception's class ("app.core.errors")
    frames: tuple[Frame, ...] = ()  # the traceback, innermost last
    problems: tuple[Problem, ...] = ()  # a ResponseValidationError's errors
    request: Exchange | None = None  # the request the app was answering when it raised
    exchanges: tuple[Exchange, ...] = ()  # every request of the test (or the cell), in order
    names: tuple[str, ...] = ()  # for `cannot import name`: the names that module does define
    chain: tuple[tuple[str, str], ...] = field(default=())  # (type, message) of what it was raised from

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Evidence:
        def frames(items) -> tuple[Frame, ...]:
            return tuple(Frame(**each) for each in items or ())

        def exchange(item) -> Exchange:
            return Exchange(**{**item, "stuck": frames(item.get("stuck")), "routes": tuple(item.get("routes") or ())})

        return cls(
            error=data.get("error", ""),
            message=data.get("message", ""),
            module=data.get("module", ""),
            frames=frames(data.get("frames")),
            problems=tuple(
                Problem(**{**each, "loc": tuple(each.get("loc") or ())}) for each in data.get("problems") or ()
            ),
            request=exchange(data["request"]) if data.get("request") else None,
            exchanges=tuple(exchange(each) for each in data.get("exchanges") or ()),
            names=tuple(data.get("names") or ()),
            chain=tuple(tuple(each) for each in data.get("chain") or ()),
        )

    @property
    def mine(self) -> tuple[Frame, ...]:
        return tuple(frame for frame in self.frames if frame.mine)

    def raised(self, *types: str) -> bool:
        """Whether the error, or one it was raised from, is of one of these types (by name)."""
        return any(name in types for name in [self.error, *(each[0] for each in self.chain)])

    @property
    def text(self) -> str:
        """The message, and those of the exceptions it was raised from."""
        return "\n".join([self.message, *(each[1] for each in self.chain)])


# --- gathering it ------------------------------------------------------------------------------------

_INSIDE_A_COPY = re.compile(rf"[^\s'\"()]*[/\\]{re.escape(COPY_NAME)}[/\\]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def in_learner_terms(text: str) -> str:
    """Colour codes stripped, and paths inside a graded copy shown relative to the learner's folder."""
    return _INSIDE_A_COPY.sub("", _ANSI.sub("", text))


def in_a_copy(filename: str | None) -> str | None:
    """The path inside a graded copy ("app/main.py") of a file in one (any copy: a fixture may load its own), else None."""
    if not filename:
        return None
    parts = Path(filename).parts
    if COPY_NAME not in parts:
        return None
    return Path(*parts[len(parts) - parts[::-1].index(COPY_NAME) :]).as_posix()


def under(folder: Path) -> Callable[[str | None], str | None]:
    """relative(filename) -> the path inside folder (a workspace), or None for a file outside it."""
    folder = Path(folder).resolve()

    def relative(filename: str | None) -> str | None:
        if not filename or filename.startswith("<"):
            return None
        try:
            return Path(filename).resolve().relative_to(folder).as_posix()
        except (ValueError, OSError):
            return None

    return relative


def exchange_of(method: str, path: str, status, report: dict | None = None, routing=None, stuck=()) -> Exchange:
    """An Exchange of a request to a sandboxed load: its answer's status, the type of what the app raised (the
    report), the routing a 404 or 405 came with (sandbox_report.ROUTING_HEADER), where it waited (stuck)."""
    from workbook.sandbox_errors import one_line

    route: str | None = ""  # known to be routed, or not known (a 404 that carries no routing): not "unrouted"
    routes: tuple[str, ...] = ()
    if isinstance(routing, dict) and status in (404, 405):
        route = one_line(routing["route"], 300) if isinstance(routing.get("route"), str) else None
        routes = tuple(one_line(each, 300) for each in (routing.get("routes") or [])[:60] if isinstance(each, str))
    frames = tuple(
        Frame(one_line(f[0], 300), f[1] if isinstance(f[1], int) else 0, one_line(f[2], 100), one_line(f[3], 300), f[4] is True)
        for f in stuck
    )  # fmt: skip
    raised = one_line(report.get("type") or "", 100) if isinstance(report, dict) else ""
    return Exchange(method, path, status, route, raised, frames, routes)


def from_report(outcome: dict, request: Exchange | None = None, exchanges=()) -> Evidence:
    """Evidence of what a sandboxed app raised: its report (cleaned: sandbox_errors.AppFailed.outcome)."""
    frames = tuple(
        Frame(str(f[0]), int(f[1] or 0), str(f[2]), str(f[3]).strip(), True) for f in outcome.get("frames") or ()
    )
    problems = tuple(
        Problem(tuple(each[0]) if isinstance(each[0], list) else (), str(each[1]), str(each[2]), str(each[3]))
        for each in outcome.get("problems") or ()
        if isinstance(each, list) and len(each) == 4
    )
    chain = tuple(
        (str(each[0]), str(each[1])) for each in outcome.get("chain") or () if isinstance(each, list) and len(each) == 2
    )
    return Evidence(
        error=str(outcome.get("type") or ""),
        message=in_learner_terms(str(outcome.get("message") or "")),
        module=str(outcome.get("module") or ""),
        frames=frames,
        problems=problems,
        request=request,
        exchanges=tuple(exchanges),
        names=tuple(str(each) for each in outcome.get("names") or ()),
        chain=chain,
    )
