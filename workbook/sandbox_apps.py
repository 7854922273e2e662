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

Here: AppHost (the places and copies) and Place. Its session with the zygote is workbook.sandbox_zygote, a load
workbook.sandbox_app_load, a deployed server workbook.sandbox_deployed, the errors workbook.sandbox_errors.
"""

from __future__ import annotations

import compileall
import contextlib
import itertools
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

from workbook import sandbox
from workbook.limits import hand_over
from workbook.loader import COPY_NAME, grading_settings
from workbook.sandbox_app_load import AppLoad
from workbook.sandbox_deployed import DeployedServer
from workbook.sandbox_errors import AppFailed, GraderError, LoadFailed, clean
from workbook.sandbox_zygote import ZygoteSession
from workbook.submission import copy_submission

# Imported from here by the fixtures, the plugin and the suites: the host and what it hands out or raises.
__all__ = ["AppFailed", "AppHost", "AppLoad", "DeployedServer", "GraderError", "LoadFailed", "Place", "clean"]

LOAD_SECONDS = 20  # an import, or a startup, that takes longer is a hang


class Place:
    """One test's folder in the loads area: a fresh copy of the submission (`workdir`) and room for its files."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workdir = folder / COPY_NAME
        self.home = folder / "home"

    def log(self, load: int) -> Path:
        return self.folder / f"load-{load}.log"


class AppHost(ZygoteSession):
    """The sandbox side of one graded folder: a snapshot of it, a warm zygote (its session: ZygoteSession), and
    the places and loads."""

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
        super().__init__()
        self.deployed: list[DeployedServer] = []
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

    def _take_snapshot(self) -> None:
        snapshot = self.scratch / "snapshot" / COPY_NAME
        try:
            copy_submission(self.folder, snapshot)
        except (ValueError, OSError) as error:  # SubmissionRefused, or a folder that cannot be read
            self.refused = str(error)
            return
        compileall.compile_dir(snapshot, quiet=2)  # compiled, never run: each load then reads the bytecode
        self.snapshot = snapshot

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
            load.settings = dict(settings)  # what it was loaded with (workbook.keeps.act_as compares them)
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


def __getattr__(name: str):
    """AppClient lives in workbook.sandbox_client (it needs httpx, which starting a zygote does not)."""
    if name == "AppClient":
        from workbook.sandbox_client import AppClient

        return AppClient
    raise AttributeError(name)
