"""A running PostgreSQL server as grading uses it (lesson 08 on): where it answers, the learner's role.

`Server` holds its superuser's URL and the password of `grader_app`, the role learner code gets: no
superuser (a superuser could run programs on the server's machine with COPY ... TO PROGRAM), and the
owner of every database made for it. workbook.postgres_throwaway starts one; `--postgres-url` names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

APP_ROLE = "grader_app"


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


def server_from_url(admin_url: str, app_password: str) -> Server:
    return Server(admin_url, app_password)
