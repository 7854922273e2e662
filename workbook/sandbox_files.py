"""The grader's side of files a sandboxed app could have touched: read and written without following links.

A load's folder belongs to the child (uid 65534 under the sandbox): whatever it holds may be a symbolic link to
the grader's own files, a FIFO that blocks whoever opens it, or a huge file. Every path under such a folder is
opened here one component at a time with O_NOFOLLOW, only regular files are read, and never more than a cap.
The caller passes paths it built itself under folders it made with resolved names, so no link is legitimate.
SQLite databases are read through this module by workbook.sandbox_sqlite.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

READ_BYTES = 8 * 2**20  # what a message quotes from a file, at most
DATABASE_BYTES = 512 * 2**20
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafeFile(OSError):
    """A path the grader will not follow: a link, something other than a regular file, or too big."""


@contextlib.contextmanager
def _parent(path: Path):
    """A descriptor of path's folder, reached from / without following any link."""
    path = Path(os.path.abspath(path))
    fd = os.open("/", _DIRECTORY)
    try:
        for part in path.parent.parts[1:]:
            try:
                step = os.open(part, _DIRECTORY, dir_fd=fd)
            except OSError as error:
                raise UnsafeFile(error.errno, f"{path.parent} is not a plain folder ({error.strerror})") from None
            os.close(fd)
            fd = step
        yield fd, path.name
    finally:
        os.close(fd)


def _open_file(path: Path, flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    with _parent(path) as (folder, name):
        flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(name, flags, mode, dir_fd=folder)
        except OSError as error:
            if error.errno in (getattr(os, "ELOOP", -1), getattr(os, "EMLINK", -1)):
                raise UnsafeFile(error.errno, f"{path} is a symbolic link") from None
            raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFile(0, f"{path} is not a regular file")
    return fd


def exists(path: Path) -> bool:
    """Whether path is there (a link counts, and is never followed)."""
    try:
        with _parent(path) as (folder, name):
            os.stat(name, dir_fd=folder, follow_symlinks=False)
        return True
    except OSError:
        return False


def is_file(path: Path) -> bool:
    try:
        with _parent(path) as (folder, name):
            return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def read_bytes(path: Path, limit: int = READ_BYTES, tail: bool = False) -> bytes:
    """At most `limit` bytes of a regular file (its last ones with tail=True); raises OSError when it cannot."""
    fd = _open_file(path)
    try:
        size = os.fstat(fd).st_size
        if tail and size > limit:
            os.lseek(fd, size - limit, os.SEEK_SET)
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(fd, min(left, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: Path, limit: int = READ_BYTES, tail: bool = False) -> str:
    return read_bytes(path, limit, tail).decode("utf-8", errors="replace")


def tail_text(path: Path, limit: int = 64 * 2**10) -> str:
    """The end of a file the child wrote, or "" when there is none (or it is not a plain file)."""
    try:
        return read_text(path, limit, tail=True)
    except OSError:
        return ""


def write_text(path: Path, text: str) -> None:
    """Write a file, replacing what is there; never through a link."""
    fd = _open_file(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def overwrite_start(path: Path, data: bytes) -> None:
    """Write data over the first bytes of an existing regular file (a link is refused)."""
    fd = _open_file(path, os.O_RDWR)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def files_in(folder: Path) -> list[Path]:
    """The regular files right in folder (links, folders and the rest left out), sorted by name."""
    try:
        with _parent(Path(folder) / "x") as (fd, _name):
            names = sorted(os.listdir(fd))
            return [Path(folder) / name for name in names if _is_regular(fd, name)]
    except OSError:
        return []


def nested_files(folder: Path, most: int = 200) -> list[str]:
    """The regular files in folder's subfolders (relative paths; never through a link; `most` of them at most)."""
    found: list[str] = []

    def walk(path: Path, relative: str) -> None:
        for name in entries_in(path):
            if len(found) >= most:
                return
            inner = path / name
            try:
                with _parent(inner / "x") as (_fd, _name):
                    is_folder = True
            except OSError:
                is_folder = False
            if is_folder:
                walk(inner, f"{relative}{name}/")
            elif relative and is_file(inner):
                found.append(f"{relative}{name}")

    walk(Path(folder), "")
    return found


def entries_in(folder: Path) -> list[str]:
    """Every name right in folder, whatever it is."""
    try:
        with _parent(Path(folder) / "x") as (fd, _name):
            return sorted(os.listdir(fd))
    except OSError:
        return []


def _is_regular(folder: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def copy_file(source: Path, destination: Path, limit: int = DATABASE_BYTES, owner: int | None = None) -> None:
    """Copy a regular file the child wrote to a place of the grader's (or of a child's, before it starts, then
    owned by `owner`, the child's uid)."""
    data = read_bytes(source, limit + 1)
    if len(data) > limit:
        raise UnsafeFile(0, f"{source} is larger than {limit / 2**20:g} MB")
    fd = _open_file(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    if owner is not None:
        os.fchown(fd, owner, owner)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
