"""The app under a real uvicorn on 127.0.0.1, in a subprocess: for notebook cells and for suites."""

from __future__ import annotations

import atexit
import collections
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

SERVER_START_SECONDS = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class ServerDidNotStart(RuntimeError):
    pass


class Server:
    """uvicorn serving app.main:app from a folder, in a subprocess. Use .url; .stop() ends it."""

    def __init__(self, folder: Path, port: int | None = None, env: dict[str, str] | None = None):
        self.folder = Path(folder)
        self.env = env  # the whole environment of the server; None: this process's
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=20)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Server {self.url} {state}>"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self, seconds: float = SERVER_START_SECONDS) -> Server:
        if not _port_is_free(self.port):
            raise ServerDidNotStart(
                f"Port {self.port} on 127.0.0.1 is already in use. Stop what uses it, or pass another port: lesson.serve(port=8001)."
            )
        self.process = subprocess.Popen(
            self.command(), cwd=self.folder, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        atexit.register(self.stop)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process.wait()
                time.sleep(0.05)  # let the reader take the last lines
                raise ServerDidNotStart(f"The server stopped before it answered (exit {self.process.returncode}).{self._last_lines()}")
            if self._accepts():
                return self
            time.sleep(0.05)
        self.stop()
        raise ServerDidNotStart(f"The server did not accept connections within {seconds:g} s.{self._last_lines()}")

    def _collect(self) -> None:
        for line in self.process.stdout:
            self._output.append(line.rstrip("\n"))

    def _last_lines(self) -> str:
        lines = list(self._output)
        return ("\nIts last output:\n" + "\n".join(lines)) if lines else ""

    def _accepts(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Server:
        if self.process is None:
            self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
