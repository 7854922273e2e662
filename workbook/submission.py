"""Copy a learner's submission from the trusted side: only its own files, never through a link, within a size cap.

What is copied: regular files and folders under the submission, less caches, databases and environments
(`appfiles.IGNORED_NAMES`). A symbolic link to a file inside the submission is copied as a plain file holding that
file's content; a link to a folder, a link that points outside the submission and a dangling link are refused,
since following them could read the grader's own files or loop. Sockets, FIFOs and devices are left out: opening
a FIFO would block the grader. The original is only read, never changed.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from workbook.appfiles import is_ignored

MAX_BYTES = 50 * 2**20
MAX_FILES = 5000


class SubmissionRefused(ValueError):
    """A submission this side will not copy; the message names the file (relative to the submission) and why."""


def copy_submission(source: Path, destination: Path, *, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> Path:
    """Copy the folder `source` (it holds app/) to `destination`, which must not exist yet; returns destination.

    Raises SubmissionRefused, leaving no partial copy behind, for an escaping link or a cap exceeded.
    """
    source, destination = Path(source).resolve(), Path(destination)
    if not (source / "app").is_dir() or (source / "app").is_symlink():
        raise SubmissionRefused(f"There is no app/ folder in {source}. Submit the folder that holds app/.")
    destination.mkdir(parents=True)
    try:
        _Copy(source, max_bytes, max_files).folder(source, destination)
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise
    return destination


class _Copy:
    def __init__(self, root: Path, max_bytes: int, max_files: int):
        self.root, self.max_bytes, self.max_files = root, max_bytes, max_files
        self.bytes = self.files = 0

    def folder(self, source: Path, destination: Path) -> None:
        with os.scandir(source) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                relative = Path(entry.path).relative_to(self.root)
                if is_ignored(relative):
                    continue
                self.count_entry(relative)
                if entry.is_symlink():
                    self.file(self.link_target(entry, relative), destination / entry.name, relative)
                elif entry.is_dir(follow_symlinks=False):
                    (destination / entry.name).mkdir()
                    self.folder(Path(entry.path), destination / entry.name)
                elif entry.is_file(follow_symlinks=False):
                    self.file(Path(entry.path), destination / entry.name, relative)

    def link_target(self, entry: os.DirEntry, relative: Path) -> Path:
        """The file a link inside the submission stands for; refuses any other link."""
        pointed = os.readlink(entry.path)
        target = Path(os.path.realpath(entry.path))
        if not target.is_relative_to(self.root):
            raise SubmissionRefused(
                f"{relative} is a symbolic link to {pointed}, outside the submission; grading copies only the "
                "submission's own files. Replace the link with a copy of the file it points to."
            )
        if not target.exists():
            raise SubmissionRefused(f"{relative} is a symbolic link to {pointed}, which does not exist. Remove it.")
        if not target.is_file():
            raise SubmissionRefused(
                f"{relative} is a symbolic link to the folder {pointed}; grading does not follow links to folders. "
                "Replace the link with the folder itself."
            )
        return target

    def file(self, source: Path, destination: Path, relative: Path) -> None:
        info = source.stat()
        if not stat.S_ISREG(info.st_mode):
            return
        self.count_bytes(relative, info.st_size)
        shutil.copyfile(source, destination, follow_symlinks=False)
        os.chmod(destination, 0o755 if info.st_mode & stat.S_IXUSR else 0o644)  # no setuid bits, no odd modes

    def count_entry(self, relative: Path) -> None:
        self.files += 1
        if self.files > self.max_files:
            raise SubmissionRefused(
                f"The submission holds more than {self.max_files} files and folders (stopped at {relative}). "
                "Leave out generated files and environments, then submit again."
            )

    def count_bytes(self, relative: Path, size: int) -> None:
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise SubmissionRefused(
                f"The submission is larger than {self.max_bytes / 2**20:g} MB (stopped at {relative}, "
                f"{size / 2**20:.1f} MB). Leave out data files, logs and environments, then submit again."
            )
