"""An image built without an engine (lesson 08), as folders on this machine: its paths, what a build left.

Each stage gets a folder of its own standing for the image's `/`: an absolute path in the Dockerfile
(`WORKDIR /app`, `/app/.venv/bin` in PATH, `COPY --from=builder /app/.venv /app/.venv`) means that folder's
`app/...`, except the machine's own system folders (`/usr/bin`, `/bin`, `/etc`, ...) where the stage has
nothing there. `map_path`, `map_word` and `map_env` do that mapping; `Built` is what the final stage left
(workbook.container builds it, workbook.image_server serves from it); both raise `StepFailed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

HOST_SYSTEM = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64", "/usr/lib", "/usr/share", "/etc")
NEVER_MAPPED = ("/dev", "/proc", "/sys")


class StepFailed(Exception):
    """A step could not be carried out: the message says which line, what it ran, and its last output."""


@dataclass
class Built:
    """What the final stage left: where it runs from and with which environment."""

    root: Path  # the final stage's `/`
    workdir: Path
    env: dict[str, str]  # the image's ENV, paths mapped, PATH included
    ran: list[str] = field(default_factory=list)  # "line 12: uv sync --locked --no-dev"
    read: list[str] = field(default_factory=list)  # "line 17: groupadd ... (read, not run)"
    seconds: float = 0.0

    def map(self, path: str) -> str:
        return map_path(self.root, path)


def map_path(root: Path, path: str) -> str:
    """An image path as a path on this machine: under the stage's folder, or the machine's own system folder."""
    if not path.startswith("/") or path.startswith("//"):
        return path
    if any(path == top or path.startswith(top + "/") for top in NEVER_MAPPED):
        return path
    mapped = root / path.lstrip("/")
    if mapped.exists():
        return str(mapped)
    if any(path == top or path.startswith(top + "/") for top in HOST_SYSTEM) and Path(path).exists():
        return path
    return str(mapped)


def map_word(root: Path, word: str) -> str:
    """A command word with its paths mapped: /app/x, --target=/opt/venv, VAR=/opt/venv."""
    if word.startswith("/"):
        return map_path(root, word)
    match = re.match(r"^(-{1,2}[\w-]+=|[A-Za-z_][A-Za-z0-9_]*=)(/.*)$", word)
    if match:
        return match[1] + map_path(root, match[2])
    return word


def map_env(root: Path, values: dict[str, str]) -> dict[str, str]:
    """ENV values with absolute paths mapped (PATH-like lists entry by entry)."""
    mapped = {}
    for name, value in values.items():
        if value.startswith("/") and ":" in value:
            mapped[name] = ":".join(map_path(root, part) for part in value.split(":"))
        elif value.startswith("/"):
            mapped[name] = map_path(root, value)
        else:
            mapped[name] = value
    return mapped
