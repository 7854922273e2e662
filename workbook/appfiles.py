"""The files of an app folder (a workspace, a checkpoint, a submission): one rule for all of them.

An app folder holds app/ and, from lesson 06, the learner's tests/, and from 08 the Dockerfile
and friends. Never part of it: caches, databases, environments, tooling state, and a
checkpoint's milestone/ (the hand-written suite, not the learner's files). Copies, checkpoint
syncs, workspace comparisons and backups of starting files all go through here.
"""

from __future__ import annotations

import shutil
from fnmatch import fnmatch
from pathlib import Path

# *.eml: the welcome mail lesson 07 writes to its outbox.
IGNORED_NAMES = (
    "__pycache__", "*.pyc", "*.db", "*.db-journal", "*.db-wal", "*.db-shm", "*.sqlite*", "*.eml", ".ipynb_checkpoints",
    ".pytest_cache", ".workbook", ".venv", "venv", ".git", "node_modules",
)  # fmt: skip
SUITE_FOLDER = "milestone"  # checkpoints/NN_slug/milestone/: the milestone suite and its planted bugs


def is_ignored(relative: Path | str) -> bool:
    """Whether a path inside an app folder is not the app's: a cache, a database, tooling state, the suite."""
    parts = Path(relative).parts
    if parts[:1] == (SUITE_FOLDER,):
        return True
    return any(fnmatch(part, pattern) for part in parts for pattern in IGNORED_NAMES)


def app_files(folder: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file that belongs to the app in `folder` (sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {
        path.relative_to(folder).as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not is_ignored(path.relative_to(folder))
    }


def read_app_files(folder: Path) -> dict[str, bytes]:
    """The app files of `folder` with their content ("app/main.py" -> bytes)."""
    return {relative: path.read_bytes() for relative, path in app_files(folder).items()}


def write_app_files(destination: Path, files: dict[str, bytes]) -> Path:
    """Write `files` under `destination`, which always gets an app/ folder (empty for lesson 01)."""
    (destination / "app").mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return destination


def copy_app_folder(source: Path, destination: Path) -> Path:
    """Copy the app files of `source` to `destination`, keeping their times (bytecode checks them)."""

    def leave_out(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(source)
        return {name for name in names if is_ignored(relative / name)}

    source = Path(source)
    shutil.copytree(source, destination, ignore=leave_out, dirs_exist_ok=True)
    return destination
