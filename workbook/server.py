"""The app under a real uvicorn on 127.0.0.1: in a subprocess for notebook cells, in a thread for suites."""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
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


def uvicorn_command(port: int, reload: bool = False) -> list[str]:
    """uvicorn serving app.main:app from the working directory, on 127.0.0.1 only."""
    command = [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)]
    return command + (["--reload"] if reload else [])


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

    def start(self, seconds: float = SERVER_START_SECONDS) -> Server:
        if not _port_is_free(self.port):
            raise ServerDidNotStart(
                f"Port {self.port} on 127.0.0.1 is already in use. Stop what uses it, or pass another port: lesson.serve(port=8001)."
            )
        self.process = subprocess.Popen(
            uvicorn_command(self.port),
            cwd=self.folder,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        atexit.register(self.stop)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process.wait()
                time.sleep(0.05)  # let the reader take the last lines
                raise ServerDidNotStart(
                    f"The server stopped before it answered (exit {self.process.returncode}).{self._last_lines()}"
                )
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


class _Remember(logging.Handler):
    """Keeps the last lines uvicorn logged, so a failed start can say why."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: collections.deque[str] = collections.deque(maxlen=5)

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" {type(error).__name__}: {error}"
        self.lines.append(line)


class ThreadedServer:
    """An ASGI app already imported, under a real uvicorn on 127.0.0.1, in a thread of this process.

    Suites use it: nothing to import again, so it starts in milliseconds, and the app runs
    with the settings it was loaded with. Use .url; .stop() ends it.
    """

    def __init__(self, app) -> None:
        import uvicorn

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))  # bound here: no other process can take the port meanwhile
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self._log = _Remember()

    def _serve(self) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits when the app's startup fails: start() says so
            self.server.run(sockets=[self.socket])

    def start(self, seconds: float = SERVER_START_SECONDS) -> ThreadedServer:
        logger = logging.getLogger("uvicorn.error")
        logger.addHandler(self._log)
        try:
            self.thread.start()
            deadline = time.monotonic() + seconds
            while not self.server.started:
                if not self.thread.is_alive():
                    said = "".join(f"\n{line}" for line in self._log.lines)
                    raise ServerDidNotStart(f"The app's startup failed.{said}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerDidNotStart(f"The app did not finish its startup within {seconds:g} s.")
                time.sleep(0.01)
        finally:
            logger.removeHandler(self._log)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=10)  # a handler stuck in a worker thread is left behind (daemon)
        self.socket.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
