"""A throwaway Redis server on 127.0.0.1 (a free port), for lesson 08's shared rate limit: stopped by its PID."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MISSING = "redis-server is not installed here (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)."


class RedisMissing(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayRedis:
    """redis-server with nothing saved to disk; `with ThrowawayRedis() as url:` gives redis://127.0.0.1:PORT/0."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server") or next(
            (path for path in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if Path(path).is_file()), None
        )
        self.process: subprocess.Popen | None = None
        self.folder: tempfile.TemporaryDirectory | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        if self.binary is None:
            raise RedisMissing(MISSING)
        self.folder = tempfile.TemporaryDirectory(prefix="workbook-redis-")
        self.port = _free_port()
        command = [
            self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
            "--dir", self.folder.name, "--protected-mode", "yes", "--daemonize", "no", "--loglevel", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("The throwaway redis-server did not answer within 10 s.")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
