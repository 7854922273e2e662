"""A throwaway PostgreSQL server for grading (lesson 08 on): started per test session, always stopped.

`Throwaway()` runs `initdb` into a fresh temporary folder and starts `postgres` on it, listening on
127.0.0.1 (a free port) and on a Unix socket in that folder, tuned for tests (no fsync). As root, the
server runs as an unprivileged user (`nobody`, or a system user made for it when there is none), since
PostgreSQL refuses to run as root; otherwise as the current user. `.stop()` ends it by its PID (fast
shutdown, then a kill) and removes the folder. The binaries are found in /usr/lib/postgresql/*/bin,
through `pg_config --bindir`, or on PATH; where there are none, `PostgresMissing` says so in one line.
Once started it makes the learner's role (workbook.postgres_server.APP_ROLE).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from workbook.postgres_server import APP_ROLE, Server

START_SECONDS = 30
SERVICE_USER = "workbook-postgres"  # made (as root) only when there is no `nobody`


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


MISSING = (
    "PostgreSQL is not installed here (no initdb in /usr/lib/postgresql/*/bin, pg_config --bindir or PATH): "
    "lesson 08's checks need its server (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql)."
)


def binaries() -> Path | None:
    """The folder that holds initdb and postgres, newest version first; None when there is none.

    WORKBOOK_POSTGRES_BIN names the one folder to use instead (the workbook's tests use it to stand for a
    machine without PostgreSQL)."""
    chosen = os.environ.get("WORKBOOK_POSTGRES_BIN")
    if chosen is not None:
        folder = Path(chosen)
        return folder if (folder / "initdb").is_file() and (folder / "postgres").is_file() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    config = shutil.which("pg_config")
    if config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found.append(
                subprocess.run([config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            )
    if shutil.which("initdb"):
        found.append(str(Path(shutil.which("initdb")).parent))
    for folder in found:
        if folder and (Path(folder) / "initdb").is_file() and (Path(folder) / "postgres").is_file():
            return Path(folder)
    return None


def _version(folder: str) -> tuple[int, ...]:
    name = Path(folder).parent.name
    return tuple(int(part) for part in name.split(".") if part.isdigit()) or (0,)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _service_user() -> pwd.struct_passwd | None:
    """Who runs the server: None for the current user; as root, `nobody` (or a system user made for it)."""
    if os.geteuid() != 0:
        return None
    for name in ("nobody", SERVICE_USER):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return pwd.getpwnam(SERVICE_USER)


class Throwaway:
    """initdb into a temporary folder, start postgres on loopback; .stop() (or `with`) ends it and removes all."""

    def __init__(self, folder: Path | None = None):
        self.bin = binaries()
        self.parent = Path(folder) if folder else None
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None
        self.server: Server | None = None
        self.seconds = 0.0  # how long initdb and the start took

    def start(self) -> Server:
        if self.bin is None:
            raise PostgresMissing(MISSING)
        started = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="workbook-postgres-", dir=self.parent or _scratch_parent()))
        user = _service_user()
        data, sockets, password_file = self.root / "data", self.root / "socket", self.root / "password"
        admin_password = secrets.token_hex(16)
        password_file.write_text(admin_password + "\n")
        sockets.mkdir()
        popen = {}
        if user is not None:
            for path in (self.root, sockets, password_file):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.root.chmod(0o700)
            popen = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TZ": "UTC"}
        initdb = [
            str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(password_file),
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        ]  # fmt: skip
        made = subprocess.run(
            initdb, cwd=self.root, env=env, capture_output=True, text=True, timeout=120, check=False, **popen
        )
        if made.returncode != 0:
            self._remove()
            last = (made.stderr.strip().splitlines() or [f"exit {made.returncode}"])[-1]
            raise RuntimeError(f"initdb could not make a throwaway PostgreSQL database: {last}")
        port = _free_port()
        settings = {
            "listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(sockets),
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "200",
            "shared_buffers": "32MB", "log_min_messages": "warning", "logging_collector": "off",
        }  # fmt: skip
        command = [str(self.bin / "postgres"), "-D", str(data)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        self.log = (self.root / "server.log").open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )
        admin_url = f"postgresql://postgres:{admin_password}@127.0.0.1:{port}/postgres"
        server = Server(admin_url, secrets.token_hex(16), str(sockets))
        self._wait(server)
        server.admin(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{server.app_password}' NOSUPERUSER NOCREATEROLE")
        self.server = server
        self.seconds = time.monotonic() - started
        return server

    def _wait(self, server: Server) -> None:
        import psycopg

        deadline = time.monotonic() + START_SECONDS
        while True:
            if self.process.poll() is not None:
                said = self.output()[-600:]
                self.stop()
                raise RuntimeError(f"The throwaway PostgreSQL server stopped as it started: {said}")
            try:
                psycopg.connect(server.admin_url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"The throwaway PostgreSQL server did not answer within {START_SECONDS} s."
                    ) from None
                time.sleep(0.05)

    def output(self) -> str:
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def stop(self) -> None:
        """Fast shutdown by PID (SIGINT), a kill if it lingers; then remove its folder."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if getattr(self, "log", None):
            self.log.close()
        self._remove()

    def _remove(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _scratch_parent() -> str | None:
    from workbook.grading import scratch_parent

    return scratch_parent()
