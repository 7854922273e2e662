"""The grader's side of one load: a child the zygote forked to import the learner's app in a place, probed,
served and ended from here (workbook.sandbox_apps.AppHost starts it; workbook/sandbox_load.py is its other side).

Its messages come on its control socket, as JSON: a load that says nothing in time is a hang, one whose socket
closes without a word died, and both fail the test with LoadFailed and the end of the load's log.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

from workbook import sandbox_files
from workbook.sandbox_errors import LoadFailed

if TYPE_CHECKING:
    from workbook.sandbox_apps import AppHost, Place
    from workbook.sandbox_client import AppClient


class AppLoad:
    """One import of the app, in a child of the zygote: probe it, serve it, talk to it, end it."""

    def __init__(self, host: AppHost, number: int, control: socket.socket, path: Path, place: Place, seconds: float):
        self.host, self.number, self.control, self.socket_path = host, number, control, path
        self.place, self.seconds = place, seconds
        self.log_path = place.log(number)
        self.serving = False
        self.imported = False
        self.serve_requested: bool | None = None
        self.settings: dict[str, str | None] = {}
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
        self.host.wait_forked(self.number)
        if self.number not in self.host.forked and self.number not in self.host.ended:
            self._fail({"kind": "gone", "message": self.host.gone})
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

    def stacks(self, seconds: float = 2.0) -> list[list]:
        """Where the serving app's threads wait ([file, line, function, code, mine] each; see
        sandbox_evidence.stuck_frames): asked when a request did not answer in time. [] when it cannot tell."""
        if not self.serving or self._ended:
            return []
        try:
            self.control.send(json.dumps({"op": "stacks"}).encode())
            message = self._receive(seconds)
        except (OSError, TimeoutError):
            return []
        frames = message.get("frames") if message and message.get("event") == "stacks" else None
        return (
            [each for each in frames[:40] if isinstance(each, list) and len(each) == 5]
            if isinstance(frames, list)
            else []
        )

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
