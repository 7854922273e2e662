"""A throwaway PostgreSQL server for grading (lesson 08 on): started per test session, always stopped.

`Throwaway()` runs `initdb` into a fresh temporary folder and starts `postgres` on it, listening on
127.0.0.1 (a free port) and on a Unix socket in that folder, tuned for tests (no fsync). As root, the
server runs as an unprivileged user (`nobody`, or a system user made for it when there is none), since
PostgreSQL refuses to run as root; otherwise as the current user. `.stop()` ends it by its PID (fast
shutdown, then a kill) and removes the folder. The binaries are found in /usr/lib/postgresql/*/bin,
through `pg_config --bindir`, or on PATH; where there are none, `PostgresMissing` says so in one line.

Learner code gets a role of its own, `grader_app`, that is no superuser (a superuser could run programs
on the server's machine with COPY ... TO PROGRAM), and owns every database made for it.

Also a pytest plugin (`-p workbook.postgres --postgres`): every fresh database a suite asks for
(workbook.loader.grading_settings) is then a new database on one throwaway server, a copy of a
template that `alembic upgrade head` migrated once when the graded folder has an `alembic.ini`.
`--postgres-url URL` uses a server that is already running (its superuser's URL) instead.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

APP_ROLE = "grader_app"
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


@dataclass(frozen=True)
class Server:
    """Where a running server answers: its superuser's URL, and the learner's role's password."""

    admin_url: str  # postgresql://postgres:...@127.0.0.1:PORT/postgres
    app_password: str
    socket_dir: str | None = None  # its Unix socket's folder, when this process started it

    @property
    def host(self) -> str:
        return urlsplit(self.admin_url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.admin_url).port or 5432

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """The learner's URL for a database, over TCP on loopback."""
        return f"{driver}://{APP_ROLE}:{quote(self.app_password)}@{self.host}:{self.port}/{database}"

    def socket_url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """The learner's URL for a database over the Unix socket (for a child without a network)."""
        if not self.socket_dir:
            return self.url(database, driver)
        return f"{driver}://{APP_ROLE}:{quote(self.app_password)}@/{database}?host={quote(self.socket_dir)}"

    def admin(self, *statements: str) -> None:
        """Run statements as the superuser, outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10) as connection:
            for statement in statements:
                connection.execute(statement)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database owned by the learner's role (a copy of `template` when given); its URL."""
        copy = f" TEMPLATE {template}" if template else ""
        self.admin(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}{copy}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def server_from_url(admin_url: str, app_password: str) -> Server:
    return Server(admin_url, app_password)


# --- fresh databases for a whole test session ---------------------------------------------------------------

_names = itertools.count(1)


def unique_name(prefix: str = "grading") -> str:
    return f"{prefix}_{os.getpid()}_{next(_names)}_{secrets.token_hex(3)}"


def migrate(folder: Path, url: str, seconds: float = 120) -> subprocess.CompletedProcess:
    """`alembic upgrade head` in a copy of folder, with DATABASE_URL=url (the learner's env.py reads it)."""
    from workbook.appfiles import copy_app_folder

    with tempfile.TemporaryDirectory(prefix="workbook-migrate-") as scratch:
        copy = copy_app_folder(folder, Path(scratch) / "app-copy")
        env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
        return subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds,
            check=False,
        )


class Session:
    """Fresh databases on one server for a whole test session: copies of one migrated template."""

    def __init__(self, graded: Path | None, admin_url: str | None = None, app_password: str | None = None):
        self.graded = graded
        self.owned: Throwaway | None = None
        self.server: Server | None = Server(admin_url, app_password) if admin_url and app_password else None
        self.template: str | None = None
        self.problem: str | None = None
        self.lock = threading.Lock()

    def fresh_url(self) -> str:
        with self.lock:
            if self.problem:
                raise RuntimeError(self.problem)
            if self.server is None:
                self.owned = Throwaway()
                try:
                    self.server = self.owned.start()
                except (PostgresMissing, RuntimeError) as error:
                    self.problem = str(error)
                    raise
            if self.template is None:
                self.template = unique_name("template")
                url = self.server.create_database(self.template)
                if self.graded is not None and (self.graded / "alembic.ini").is_file():
                    done = migrate(self.graded, url)
                    if done.returncode != 0:
                        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
                        self.problem = f"`alembic upgrade head` failed on a fresh PostgreSQL database: {last}"
                        raise RuntimeError(self.problem)
            name = unique_name()
            return self.server.create_database(name, template=self.template)

    def close(self) -> None:
        if self.owned is not None:
            self.owned.stop()


_session: Session | None = None


def grading_database_url() -> str | None:
    """A fresh database's URL when this test session grades on PostgreSQL (--postgres), else None."""
    return _session.fresh_url() if _session is not None else None


# --- the pytest plugin: -p workbook.postgres --postgres ------------------------------------------------------


def pytest_addoption(parser) -> None:
    group = parser.getgroup("workbook", "grading a learner's app")
    group.addoption(
        "--postgres", action="store_true", help="grade on a throwaway PostgreSQL server instead of SQLite files"
    )
    group.addoption("--postgres-url", default=None, help="with --postgres: a running server's superuser URL")
    group.addoption("--postgres-app-password", default=None, help="with --postgres-url: the grader_app role's password")


def pytest_configure(config) -> None:
    global _session
    if not config.getoption("postgres"):
        return
    chosen = config.getoption("app_dir", None)
    graded = Path(chosen).expanduser().resolve() if chosen else None
    _session = Session(graded, config.getoption("postgres_url"), config.getoption("postgres_app_password"))


def pytest_collection_modifyitems(session, config, items) -> None:
    """Without --app-dir the graded folder is the suite's own checkpoint: its alembic.ini, if any, migrates."""
    if _session is not None and _session.graded is None and items:
        from workbook.plugin_state import graded_folder

        _session.graded = graded_folder(config, items[0].path)


def pytest_unconfigure(config) -> None:
    global _session
    if _session is not None:
        _session.close()
        _session = None


def copy_database(source_url: str, destination_url: str) -> None:
    """Make the database destination_url names a copy of source_url's (both on this session's server)."""
    if _session is None or _session.server is None:
        raise RuntimeError("copy_database needs a session on a grading server (--postgres).")
    source, destination = (urlsplit(url).path.lstrip("/") for url in (source_url, destination_url))
    _session.server.drop_database(destination)
    _session.server.create_database(destination, template=source)
