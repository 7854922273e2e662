"""The grader's end of a graded folder's zygote (workbook/sandbox_app.py): started in the sandbox, or adopted
from another process, and listened to over its session socket (a SOCK_SEQPACKET socketpair).

The zygote says when it is ready (the frameworks imported) and when each load ended, and how; this side asks it
to fork a load (workbook.sandbox_apps.AppHost.start_load) or to end one. Which frameworks it imports is read
from the submission's source, never run (frameworks_of).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from workbook import sandbox, sandbox_files
from workbook.limits import Limits
from workbook.sandbox_errors import GraderError, clean

if TYPE_CHECKING:
    from workbook.sandbox_app_load import AppLoad

ZYGOTE = Path(__file__).resolve().with_name("sandbox_app.py")
WORKBOOK_PACKAGE = ZYGOTE.parent
ZYGOTE_SECONDS = 60  # to import the frameworks, on a busy machine
ZYGOTE_LIMITS = Limits(seconds=3 * 3600, processes=256)
FORK_SECONDS = 20  # a fork takes milliseconds; a zygote this slow was stopped or blocked (by a load of the app)


class ZygoteSession:
    """The zygote half of an AppHost: the sandboxed child, its session, and what it said (ready, loads ended).
    handoff() and _adopt() carry AppHost's own folders along with the session."""

    def __init__(self):
        self._lock = threading.Lock()  # one message on the session at a time
        self._events = threading.Condition()
        self.ready: dict | None = None
        self.ended: dict[int, dict] = {}
        self.forked: set[int] = set()
        self.ending: set[int] = set()  # loads this side ended: their end is no crash
        self.incidents: set[str] = set()  # "out of memory", "crashed", "timed out" seen in this folder's loads
        self.live: dict[int, AppLoad] = {}
        self.child: sandbox.Child | None = None
        self.session: socket.socket | None = None
        self.gone: str | None = None  # why the zygote is no more

    def handoff(self) -> tuple[str, int | None]:
        """(what another process's AppHost(handed=...) needs, as JSON; the session's descriptor to pass it)."""
        data = {
            "folder": str(self.folder), "scratch": str(self.scratch), "snapshot": str(self.snapshot or ""),
            "refused": self.refused, "isolation": self._isolation, "owner": self.owner, "network": self.network,
            "fd": self.session.fileno() if self.session is not None else None,
        }  # fmt: skip
        return json.dumps(data), data["fd"]

    def _adopt(self, handed: dict) -> None:
        self.scratch = Path(handed["scratch"])
        self.loads_root, self.sockets = self.scratch / "loads", self.scratch / "s"
        self.snapshot = Path(handed["snapshot"]) if handed.get("snapshot") else None
        self.refused = handed.get("refused")
        self._isolation = handed.get("isolation") or sandbox.isolation()
        self.owner = handed.get("owner")
        if handed.get("fd") is not None:
            self.session = socket.socket(fileno=int(handed["fd"]))

    def release_session(self) -> None:
        """This process's copy of the session, closed once another process holds it."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def _start_zygote(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        wanted = ",".join(frameworks_of(self.folder))
        try:
            self.child = sandbox.start(
                [sys.executable, "-I", str(ZYGOTE), str(theirs.fileno()), wanted],
                workdir=self.loads_root,
                env={},
                limits=ZYGOTE_LIMITS,
                readable=(WORKBOOK_PACKAGE,),
                shared=shared_folders(),
                pass_fds=(theirs.fileno(),),
                network=self.network,
                own_workdir=False,  # a load must not swap a place the grader is filling for a link
            )
        finally:
            theirs.close()
        self.session = ours

    def _listen(self) -> None:
        while True:
            try:
                data = self.session.recv(2**16)
            except OSError:
                data = b""
            if not data:
                break
            try:
                event = json.loads(data)
            except ValueError:
                continue
            with self._events:
                if event.get("event") == "ready":
                    self.ready = event
                elif event.get("event") == "forked" and isinstance(event.get("id"), int):
                    self.forked.add(event["id"])
                elif event.get("event") == "ended" and isinstance(event.get("id"), int):
                    self.ended[event["id"]] = event
                    self._note_end(event)
                self._events.notify_all()
        outcome = None
        if self.child is not None:
            with contextlib.suppress(Exception):  # TimeoutExpired: it is still ending
                outcome = self.child.wait(5)
        with self._events:
            self.gone = self.gone or (
                f"the sandbox stopped ({outcome.verdict}, exit {outcome.returncode})"
                if outcome
                else "the sandbox stopped"
            )
            self._events.notify_all()

    def _note_end(self, event: dict) -> None:
        load = event["id"]
        if load in self.ending:
            return
        found = self.live.get(load)
        log = sandbox_files.tail_text(found.log_path) if found else ""
        if "MemoryError" in log[-4000:]:
            self.incidents.add("out of memory")
        else:
            self.incidents.add("crashed")

    def wait_ready(self, seconds: float = ZYGOTE_SECONDS) -> None:
        """Wait for the zygote to have imported the frameworks; LoadFailed (a grader error) if it cannot."""
        deadline = time.monotonic() + seconds
        with self._events:
            while self.ready is None and self.gone is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._events.wait(left)
        if self.ready is None:
            stderr = self.child.outcome().stderr if self.child and self.child.outcome() else ""
            why = self.gone or f"it did not start within {seconds:g} s"
            raise GraderError(f"The grading sandbox could not start: {why}. {clean(stderr[-600:], 600)}".strip())

    def wait_forked(self, number: int, seconds: float = FORK_SECONDS) -> None:
        """Wait for the zygote to fork load `number`. One that does not is given up for good: every later
        load fails at once (the app had stopped or blocked it: a run must not wait out each test's time)."""
        deadline = time.monotonic() + seconds
        with self._events:
            while number not in self.forked and number not in self.ended and self.gone is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.gone = f"the sandbox stopped answering (no load started within {seconds:g} s)"
                    self.incidents.add("timed out")
                    break
                self._events.wait(left)
        if self.gone is not None and number not in self.forked and self.child is not None:
            self.child.stop()

    # --- ending loads ------------------------------------------------------------------------------

    def end(self, number: int) -> None:
        with self._events:
            self.ending.add(number)
        with self._lock, contextlib.suppress(OSError):
            if self.session is not None and not self.gone:
                self.session.send(json.dumps({"op": "end", "id": number}).encode())

    def ended_status(self, number: int, seconds: float = 1.0) -> dict | None:
        deadline = time.monotonic() + seconds
        with self._events:
            while number not in self.ended and not self.gone:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._events.wait(left)
            return self.ended.get(number)


def shared_folders() -> list[Path]:
    """Folders every load may use besides its own: WORKBOOK_SANDBOX_SHARE, separated by os.pathsep (a database
    server's Unix-socket folder, say: there is no network in the sandbox). Each must exist."""
    listed = os.environ.get("WORKBOOK_SANDBOX_SHARE", "")
    return [Path(entry).resolve() for entry in listed.split(os.pathsep) if entry]


ALWAYS = (
    "asyncio",
    "json",
    "logging",
    "fastapi",
    "starlette",
    "pydantic",
    "anyio",
    "uvicorn",
    "uvloop",
    "h11",
    "httptools",
)
# A name in the source -> frameworks an app that uses it imports without saying so.
IMPLIED = {
    "EmailStr": ("email_validator",),
    "Form": ("multipart", "python_multipart"),
    "OAuth2": ("multipart", "python_multipart"),
}


def frameworks_of(folder: Path) -> list[str]:
    """The zygote's preloads an app in folder needs: the packages its files import (read, never run), the ones
    every app needs, and those a name in its source implies; all of them when its files cannot be read."""
    from workbook.sandbox_warm_up import PRELOAD

    tops, text = set(ALWAYS), ""
    try:
        files = sorted((Path(folder) / "app").rglob("*.py"))[:300]
        for path in files:
            source = path.read_text(encoding="utf-8", errors="replace")[: 2**20]
            text += source
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    tops.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    tops.add(node.module.split(".")[0])
    except (OSError, SyntaxError, ValueError, RecursionError):
        return list(PRELOAD)
    for word, implied in IMPLIED.items():
        if word in text:
            tops.update(implied)
    if "sqlmodel" in tops:
        tops.add("sqlalchemy")
    if "fastapi_offline" in tops or "pydantic_settings" in tops:
        tops.add("pydantic")
    return [name for name in PRELOAD if name.split(".")[0] in tops]
