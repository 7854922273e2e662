"""A learner's app as it is deployed: `python -m uvicorn app.main:app` in a sandbox of its own, in a place
(workbook.sandbox_apps.AppHost.deploy), talked to over the Unix socket this side bound.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import time
from typing import TYPE_CHECKING

from workbook import sandbox
from workbook.limits import Limits
from workbook.sandbox_errors import clean

if TYPE_CHECKING:
    import httpx

    from workbook.sandbox_apps import AppHost, Place
    from workbook.sandbox_client import AppClient

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
