"""A Dockerfile's build context (lesson 08): its files minus what `.dockerignore` leaves out, and copying them.

`BuildContext(folder).paths("app/*.py")` gives what a COPY or ADD source names in the context;
`.place(path, target, into_folder)` copies a file or folder (symlinks kept) the way COPY does,
skipping what `.dockerignore` leaves out. workbook.container uses it for COPY, ADD and
`COPY --from` an earlier stage.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from pathlib import Path


def read_dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `relative` (a POSIX path in the context) out; `!` patterns put it back."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        simple = pattern.removeprefix("**/")
        hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or (
            pattern.startswith("**/") and any(fnmatch.fnmatch(part, simple) for part in parts)
        )
        if hit:
            result = not negate
    return result


class BuildContext:
    """The build context folder and its `.dockerignore` patterns."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.ignore = read_dockerignore(self.folder)

    def paths(self, source: str) -> list[Path]:
        """What a COPY source names in the context (a glob), minus what .dockerignore leaves out."""
        source = source.lstrip("/")
        if source in ("", "."):
            return [self.folder]
        return sorted(
            path
            for path in self.folder.glob(source)
            if not ignored(path.relative_to(self.folder).as_posix(), self.ignore)
        )

    def place(self, path: Path, target: Path, into_folder: bool) -> None:
        """Copy path (a file or a folder, from the context or an earlier stage) to target, as COPY does."""
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            for child in sorted(path.iterdir()):
                relative = child.relative_to(self.folder).as_posix() if child.is_relative_to(self.folder) else None
                if relative is not None and ignored(relative, self.ignore):
                    continue
                if child.is_dir() and not child.is_symlink():
                    self.place(child, target / child.name, False)
                else:
                    self.place(child, target / child.name, False)
            return
        destination = target / path.name if into_folder or target.is_dir() else target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            destination.unlink(missing_ok=True)
            destination.symlink_to(os.readlink(path))
        else:
            shutil.copy2(path, destination)
