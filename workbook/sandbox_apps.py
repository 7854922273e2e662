"""The grader's side of a learner's app: each load a child forked in the sandbox, talked to over HTTP.

The learner's code never runs in the grading process. For each graded folder, an AppHost keeps a warm zygote
(workbook/sandbox_app.py, started through workbook.sandbox: frameworks imported once) and a folder of places,
one per test, each holding a fresh copy of the submission. A load is one fork of the zygote in one place: it
imports app.main, and when asked serves the app with uvicorn on a Unix socket the grader bound (in a folder the
sandbox cannot see); an AppClient, an httpx client on that socket, is how a suite talks to it.

What the child reports is data, and only ever makes a test fail: an exception the app raised (type, message, the
frames in the learner's files), a load that could not import or start, a probe's answer. A request the app does
not answer within the time limit fails; so does a response larger than RESPONSE_BYTES. The grader reads the
files the app wrote (its database) itself, through workbook.sandbox_files, which never follows a link.
"""

from __future__ import annotations

import ast
import compileall
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from workbook import sandbox, sandbox_files
from workbook.limits import Limits, hand_over
from workbook.loader import COPY_NAME, grading_settings
from workbook.submission import copy_submission

if TYPE_CHECKING:
    import httpx

    from workbook.sandbox_client import AppClient

ZYGOTE = Path(__file__).resolve().with_name("sandbox_app.py")
WORKBOOK_PACKAGE = ZYGOTE.parent
LOAD_SECONDS = 20  # an import, or a startup, that takes longer is a hang
ZYGOTE_SECONDS = 60  # to import the frameworks, on a busy machine
ZYGOTE_LIMITS = Limits(seconds=3 * 3600, processes=256)
RESPONSE_BYTES = 32 * 2**20
RAISED_HEADER = "x-workbook-raised"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text, limit: int = 2000) -> str:
    """Text from the child made safe to show: no control characters (but newlines and tabs), at most `limit`."""
    text = _CONTROL.sub("", str(text))
    return text if len(text) <= limit else text[:limit] + " ..."


def _clean_outcome(outcome) -> dict:
    if not isinstance(outcome, dict):
        return {"kind": "unreadable"}
    safe: dict = {}
    for key, value in list(outcome.items())[:20]:
        key = clean(key, 40)
        if key == "frames" and isinstance(value, list):
            safe[key] = [_clean_frame(frame) for frame in value[:25] if isinstance(frame, list) and len(frame) == 4]
        elif isinstance(value, bool | int | float) or value is None:
            safe[key] = value
        else:
            safe[key] = clean(value)
    return safe


def _clean_frame(frame: list) -> list:
    file, line, name, code = frame
    return [clean(file, 300), line if isinstance(line, int) else 0, clean(name, 100), clean(code, 300)]


# --- what the app did wrong --------------------------------------------------------------------


class AppFailed(Exception):
    """The learner's app raised, or its load ended badly; `outcome` says how, as data (see sandbox_app.describe)."""

    def __init__(self, outcome: dict, log: str = "", workdir: Path | None = None, snapshot: Path | None = None):
        self.outcome = _clean_outcome(outcome)
        self.log, self.workdir, self.snapshot = log, workdir, snapshot
        super().__init__(self.summary())

    @property
    def type_name(self) -> str:
        return self.outcome.get("type") or {"exit": "SystemExit", "syntax": "SyntaxError"}.get(
            self.outcome.get("kind"), "Error"
        )

    @property
    def message(self) -> str:
        return self.outcome.get("message") or ""

    @property
    def frames(self) -> list[list]:
        return self.outcome.get("frames") or []

    @property
    def out_of_memory(self) -> bool:
        return bool(self.outcome.get("out_of_memory")) or "MemoryError" in self.log[-4000:]

    def summary(self) -> str:
        from workbook.preflight import explain_outcome

        return clean(explain_outcome(self.outcome, "", self.log, self.workdir, self.snapshot) or "the app failed", 4000)


class AppRaised(AppFailed):
    """The app raised while answering a request (what Starlette's TestClient raises in the test)."""

    def __init__(self, outcome: dict, request: str):
        self.request = request
        super().__init__(outcome)

    def summary(self) -> str:
        return f"{self.type_name}: {self.message}"


class LoadFailed(AppFailed):
    """The app could not be imported or started (or the load died, or hung, meanwhile)."""


class AppStopped(AssertionError):
    """The app's process ended, or dropped the connection, while a request was under way."""


class ResponseTooLarge(AssertionError):
    pass


# --- the host: one zygote per graded folder -----------------------------------------------------


class Place:
    """One test's folder in the loads area: a fresh copy of the submission (`workdir`) and room for its files."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workdir = folder / COPY_NAME
        self.home = folder / "home"

    def log(self, load: int) -> Path:
        return self.folder / f"load-{load}.log"


class AppHost:
    """The sandbox side of one graded folder: a snapshot of it, a warm zygote, and the places and loads."""

    def __init__(self, folder: Path, *, handed: dict | None = None, listen: bool = True, network: bool = False):
        """A host for folder: its zygote started at once (the frameworks import meanwhile), then its snapshot.

        handed: what another process's host_handoff() gave, with the session's descriptor: adopt that zygote
        (`workbook check` starts it before pytest, so that it boots while pytest starts). listen=False: a host
        whose session goes to another process; this one only keeps the sandbox child to end it.
        """
        self.folder = Path(folder).resolve()
        self.snapshot: Path | None = None
        self.refused: str | None = None
        self._ids = itertools.count(1)
        self._places = itertools.count(1)
        self._lock = threading.Lock()
        self._events = threading.Condition()
        self.ready: dict | None = None
        self.ended: dict[int, dict] = {}
        self.ending: set[int] = set()  # loads this side ended: their end is no crash
        self.incidents: set[str] = set()  # "out of memory", "crashed", "timed out" seen in this folder's loads
        self.live: dict[int, AppLoad] = {}
        self.deployed: list[DeployedServer] = []
        self.child: sandbox.Child | None = None
        self.session: socket.socket | None = None
        self.gone: str | None = None  # why the zygote is no more
        self.owns_scratch = handed is None
        # network: the loads share this machine's network (lesson 08's --postgres: a server on 127.0.0.1);
        # otherwise, under bubblewrap, they have none.
        self.network = bool(handed.get("network")) if handed is not None else network
        if handed is not None:
            self._adopt(handed)
        else:
            from workbook.grading import scratch_parent

            self.scratch = Path(tempfile.mkdtemp(prefix="wb-", dir=scratch_parent())).resolve()
            os.chmod(self.scratch, 0o711)  # the child may pass through to loads/, never list what else is here
            self.loads_root = self.scratch / "loads"  # the only folder the sandbox sees, and the child's to write
            self.sockets = self.scratch / "s"  # bound by this side; never shown to the child
            self.loads_root.mkdir()
            self.sockets.mkdir(mode=0o700)
            self._isolation = sandbox.isolation()
            if (self.folder / "app").is_dir():
                self._start_zygote()
            self._take_snapshot()
        if handed is None:
            self.owner = self.child.uid if self.child is not None else None
        if listen and self.session is not None:
            threading.Thread(target=self._listen, daemon=True, name="workbook-zygote").start()

    def __repr__(self) -> str:
        return f"<AppHost {self.folder} {self.isolation}>"

    @property
    def isolation(self) -> str:
        return self._isolation

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

    def _take_snapshot(self) -> None:
        snapshot = self.scratch / "snapshot" / COPY_NAME
        try:
            copy_submission(self.folder, snapshot)
        except (ValueError, OSError) as error:  # SubmissionRefused, or a folder that cannot be read
            self.refused = str(error)
            return
        compileall.compile_dir(snapshot, quiet=2)  # compiled, never run: each load then reads the bytecode
        self.snapshot = snapshot

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
                elif event.get("event") == "ended" and isinstance(event.get("id"), int):
                    self.ended[event["id"]] = event
                    self._note_end(event)
                self._events.notify_all()
        outcome = None
        if self.child is not None:
            with contextlib.suppress(Exception):  # TimeoutExpired: it is still ending
                outcome = self.child.wait(5)
        with self._events:
            self.gone = (
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

    # --- places and loads ----------------------------------------------------------------------

    def place(self) -> Place:
        """A fresh folder for one test, with its own copy of the submission."""
        if self.snapshot is None:
            raise LoadFailed({"kind": "refused", "message": self.refused or "the submission could not be copied"})
        place = Place(self.loads_root / f"t{next(self._places)}")
        place.folder.mkdir()
        shutil.copytree(self.snapshot, place.workdir, symlinks=True)  # copy2: the times the bytecode checks
        place.home.mkdir()
        (place.folder / "outbox").mkdir()
        if self.owner is not None:
            hand_over([place.folder], self.owner)
        return place

    def settings(self, place: Place) -> dict[str, str]:
        """Every setting the curriculum names, pointed at the place: the learner's own stay untouched."""
        return grading_settings(place.folder)

    def environment(self, place: Place, settings: dict[str, str | None]) -> dict[str, str]:
        """A load's whole environment: the settings, PATH, a scratch HOME; nothing of the grader's."""
        base = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(place.home),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        return {**base, **{name: str(value) for name, value in settings.items() if value is not None}}

    def load(self, place: Place, settings: dict[str, str | None], seconds: float = LOAD_SECONDS) -> AppLoad:
        """Fork a load in place with these settings (None: unset); it is imported when this returns.

        Raises LoadFailed when the app cannot be imported (the load is ended then).
        """
        started = self.start_load(place, settings, seconds)
        started.wait_imported()
        return started

    def start_load(
        self, place: Place, settings: dict[str, str | None], seconds: float = LOAD_SECONDS, serve: bool | None = None
    ) -> AppLoad:
        """Fork a load (not waiting for it); serve=True/False: it serves as soon as it is imported (hold or not)."""
        if self.session is None or self.gone:
            raise LoadFailed({"kind": "gone", "message": self.gone or self.refused or "no sandbox"})
        number = next(self._ids)
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        path = self.sockets / str(number)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(path))
            listener.listen(256)
            request = {
                "op": "load",
                "id": number,
                "workdir": str(place.workdir),
                "env": self.environment(place, settings),
                "log": str(place.log(number)),
                "seconds": seconds,
                "serve": serve,
            }
            load = AppLoad(self, number, control, path, place, seconds)
            load.serve_requested = serve
            self.live[number] = load
            with self._lock:
                socket.send_fds(self.session, [json.dumps(request).encode()], [theirs.fileno(), listener.fileno()])
        except OSError as error:
            control.close()
            raise LoadFailed(
                {"kind": "gone", "message": self.gone or f"the sandbox does not answer ({error})"}
            ) from None
        finally:
            theirs.close()
            listener.close()
        return load

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

    def deploy(self, place: Place, settings: dict[str, str | None]) -> DeployedServer:
        """`python -m uvicorn app.main:app` in a sandbox of its own, in place, as the app is deployed."""
        server = DeployedServer(self, place, self.environment(place, settings))
        self.deployed.append(server)
        return server

    def close(self, wait: float = 3.0) -> None:
        """End every load and server, then the zygote (given `wait` seconds to go by itself)."""
        for server in self.deployed:
            server.stop()
        for load in list(self.live.values()):
            load.end()
        if self.session is not None:
            with contextlib.suppress(OSError):
                self.session.shutdown(socket.SHUT_RDWR)
            self.session.close()
        if self.child is not None:
            try:
                self.child.wait(wait)
            except Exception:  # noqa: BLE001 - TimeoutExpired: it would not go
                self.child.stop()
        if self.owns_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)


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


class GraderError(RuntimeError):
    """The grading machinery itself failed (not the learner's app)."""


# --- one load --------------------------------------------------------------------------------------


class AppLoad:
    """One import of the app, in a child of the zygote: probe it, serve it, talk to it, end it."""

    def __init__(self, host: AppHost, number: int, control: socket.socket, path: Path, place: Place, seconds: float):
        self.host, self.number, self.control, self.socket_path = host, number, control, path
        self.place, self.seconds = place, seconds
        self.log_path = place.log(number)
        self.serving = False
        self.imported = False
        self.serve_requested: bool | None = None
        self.failure: LoadFailed | None = None
        self.clients: list[AppClient] = []
        self._ended = False

    def __repr__(self) -> str:
        return f"<AppLoad {self.number} in {self.place.folder.name}{' serving' if self.serving else ''}>"

    @property
    def workdir(self) -> Path:
        return self.place.workdir

    def log(self) -> str:
        """What the load printed (the end of it)."""
        return sandbox_files.tail_text(self.log_path)

    def _receive(self, seconds: float) -> dict | None:
        """The load's next message; None when it ended without one, TimeoutError when it said nothing in time."""
        self.control.settimeout(seconds)
        try:
            data = self.control.recv(2**20)
        except TimeoutError:
            raise
        except OSError:
            return None
        if not data:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            return {"event": "unreadable"}
        return message if isinstance(message, dict) else {"event": "unreadable"}

    def _wait_for(self, wanted: set[str], seconds: float, stage: str) -> dict:
        try:
            message = self._receive(seconds)
        except TimeoutError:
            self.end()
            self.host.incidents.add("timed out")
            self._fail({"kind": "hang", "stage": stage, "seconds": self.seconds})
        if message is None:
            status = self.host.ended_status(self.number)
            time.sleep(0.05)  # let the last of its output reach the log
            if "Timeout (" in self.log()[-20000:]:  # faulthandler's dump: it hung, and ended itself
                self.host.incidents.add("timed out")
                self._fail({"kind": "hang", "stage": stage, "seconds": self.seconds})
            self._fail({"kind": "died", "stage": stage, **(status or {})})
        if message.get("event") not in wanted:
            self._fail({"kind": "unreadable", "stage": stage})
        return message

    def _fail(self, outcome: dict):
        self.failure = LoadFailed(outcome, self.log(), self.place.workdir, self.host.snapshot)
        self.end()
        raise self.failure

    def wait_imported(self) -> None:
        if self.imported:
            return
        if self.failure is not None:
            raise self.failure
        if self.number == 1 or self.host.ready is None:
            self.host.wait_ready()
        message = self._wait_for({"imported", "import_failed"}, self.seconds + 5, "import")
        if message["event"] == "import_failed":
            self._fail(message.get("outcome") or {})
        self.imported = True

    def probe(self, name: str, **args):
        """Ask the imported (not yet served) app a named question; the answer is JSON data."""
        if self.serving or self._ended or self.serve_requested is not None:
            raise RuntimeError("Probe an app before it is served.")
        self.control.send(json.dumps({"op": "probe", "name": name, "args": args}).encode())
        return self._wait_for({"probe"}, self.seconds, "probe").get("result")

    def serve(self, hold: bool = True) -> None:
        """Run the app's startup (lifespan) and serve it; LoadFailed when its startup fails."""
        if self.failure is not None:
            raise self.failure
        if self.serving:
            return
        if not self.imported:
            self.wait_imported()
        if self.serve_requested is None:
            self.control.send(json.dumps({"op": "serve", "hold": hold, "seconds": self.seconds}).encode())
        message = self._wait_for({"serving", "startup_failed"}, self.seconds + 5, "startup")
        if message["event"] == "startup_failed":
            self._fail({"stage": "startup", **(message.get("outcome") or {})})
        self.serving = True

    def client(self, *, raise_server_exceptions: bool = True, time_limit: float = 15.0, on_timeout=None):
        from workbook.sandbox_client import AppClient

        self.serve()
        client = AppClient(
            lambda: self.socket_path,
            raise_server_exceptions=raise_server_exceptions,
            time_limit=time_limit,
            on_timeout=on_timeout,
            load=self,
        )
        self.clients.append(client)
        return client

    def stopped_how(self) -> str:
        """Why requests to this load fail at the transport: it ended, and how, if known."""
        status = self.host.ended_status(self.number, 0.5)
        if status is None:
            return "the app dropped the connection without answering"
        log = self.log()[-4000:]
        if "MemoryError" in log:
            return "the app ran out of memory and stopped"
        if "signal" in status:
            name = signal.Signals(status["signal"]).name if status["signal"] in signal.valid_signals() else "?"
            return f"the app's process was killed by signal {status['signal']} ({name})"
        return f"the app's process exited (code {status.get('code')}) while it should have been serving"

    def end(self) -> None:
        if self._ended:
            return
        self._ended = True
        for client in self.clients:
            with contextlib.suppress(Exception):
                client.close()
        self.host.end(self.number)
        with contextlib.suppress(OSError):
            self.control.close()
        with contextlib.suppress(OSError):
            self.socket_path.unlink()
        self.host.live.pop(self.number, None)


# --- a server as deployed -------------------------------------------------------------------------

DEPLOYED_SECONDS = 180


class DeployedServer:
    """uvicorn serving app.main:app from the place's copy, started as `python -m uvicorn`, in the sandbox. It serves
    on a Unix socket this side bound (passed as --fd): the child can neither move nor replace it."""

    def __init__(self, host: AppHost, place: Place, env: dict[str, str]):
        self.place = place
        self.socket_path = host.sockets / f"d{next(host._ids)}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(str(self.socket_path))
            listener.listen(128)
            fd = listener.fileno()
            command = [sys.executable, "-m", "uvicorn", "app.main:app", "--fd", str(fd), "--log-level", "info"]
            self.child = sandbox.start(
                command,
                workdir=place.workdir,
                env=env,
                limits=Limits(seconds=DEPLOYED_SECONDS),
                writable=(place.folder,),
                pass_fds=(fd,),
                network=host.network,
            )
        finally:
            listener.close()

    @property
    def output(self) -> str:
        """What the server printed so far (stdout, then stderr), safe to show."""
        stdout, stderr = self.child.output()
        return clean(stdout + stderr, 20000)

    def last_lines(self, count: int = 12) -> str:
        lines = self.output.strip().splitlines()[-count:]
        return "\n    ".join(lines) if lines else "(nothing)"

    def client(self, timeout: float = 10.0) -> AppClient:
        from workbook.sandbox_client import AppClient

        return AppClient(lambda: self.socket_path, raise_server_exceptions=False, time_limit=timeout)

    def health(self) -> httpx.Response | None:
        import httpx

        try:
            with self.client(2) as client:
                return client.get("/health")
        except (httpx.HTTPError, AssertionError):
            return None

    def wait(self, seconds: float = 20) -> httpx.Response | None:
        """GET /health's answer as soon as the server gives one; None when it stopped first, or never answered."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.stopped():
                return None
            answer = self.health()
            if answer is not None:
                return answer
            time.sleep(0.05)
        return None

    def stopped(self) -> bool:
        return not self.child.running

    def stop(self) -> None:
        self.child.stop()
        with contextlib.suppress(OSError):
            self.socket_path.unlink()


def __getattr__(name: str):
    """AppClient lives in workbook.sandbox_client (it needs httpx, which starting a zygote does not)."""
    if name == "AppClient":
        from workbook.sandbox_client import AppClient

        return AppClient
    raise AttributeError(name)
