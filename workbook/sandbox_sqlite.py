"""SQLite databases a sandboxed app wrote, read by the grader from a private copy (through workbook.sandbox_files,
which never follows a link): their tables and values, found by reading the schema, which is never trusted.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from pathlib import Path

from workbook.sandbox_files import UnsafeFile, copy_file, is_file


def copy_sqlite(source: Path, destination: Path, owner: int | None = None) -> None:
    """Copy a SQLite database with its write-ahead log folded in, from a private snapshot of the source."""
    with sqlite_snapshot(source) as connection, tempfile.TemporaryDirectory(prefix="workbook-db-") as scratch:
        if connection is None:
            raise UnsafeFile(0, f"There is no database file at {source}.")
        folded = Path(scratch) / "folded.db"
        target = sqlite3.connect(folded)
        try:
            connection.backup(target)
        finally:
            target.close()
        copy_file(folded, destination, owner=owner)


@contextlib.contextmanager
def sqlite_snapshot(database: Path):
    """A read-only sqlite3 connection to a private copy of the database file (and its write-ahead log), or None
    when there is no such file. The copy is the grader's: the child can neither change it meanwhile nor point it
    elsewhere, and its schema is not trusted (no functions or views run on its behalf)."""
    if not is_file(database):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="workbook-db-") as scratch:
        copy = Path(scratch) / "copy.db"
        copy_file(database, copy)
        for suffix in ("-wal",):
            journal = Path(f"{database}{suffix}")
            if is_file(journal):
                copy_file(journal, Path(f"{copy}{suffix}"))
        connection = sqlite3.connect(copy)
        try:
            connection.execute("PRAGMA trusted_schema = OFF")
            connection.execute("PRAGMA query_only = ON")
            yield connection
        finally:
            connection.close()


def table_names(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
    return [name for (name,) in rows if isinstance(name, str) and not name.startswith("sqlite_")]


def sqlite_values(database: Path) -> list[tuple[str, str, object]]:
    """Every (table, column, value) stored in a SQLite file, found by reading its schema: no names assumed."""
    found = []
    try:
        with sqlite_snapshot(database) as connection:
            if connection is None:
                return []
            for table in table_names(connection):
                quoted = '"' + table.replace('"', '""') + '"'
                cursor = connection.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - a name read from the file
                columns = [column[0] for column in cursor.description or ()]
                for row in cursor:
                    found.extend(zip([table] * len(columns), columns, row, strict=True))
    except sqlite3.DatabaseError:
        return found
    return found


def sqlite_tables(database: Path) -> list[str]:
    try:
        with sqlite_snapshot(database) as connection:
            return [] if connection is None else table_names(connection)
    except sqlite3.DatabaseError:
        return []
