"""The image's command run from what workbook.container built (lesson 08), bound to loopback, in the sandbox.

`serving_command` rewrites the image's command (fastapi run, uvicorn or gunicorn, as CMD and ENTRYPOINT
give it) to listen on 127.0.0.1 and a free port; `ImageServer` runs it from the built image's workdir
with its environment, waits for GET /health, and counts the workers that serve the port (from /proc).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import time
from pathlib import Path

from workbook import sandbox
from workbook.built_image import Built, StepFailed
from workbook.child import proc_files
from workbook.sandbox import Limits

SERVERS = ("fastapi", "uvicorn", "gunicorn")

# --- the container command ---------------------------------------------------------------------------------


def serving_command(words: list[str], port: int) -> list[str]:
    """The command with its server bound to 127.0.0.1:port (fastapi run, uvicorn or gunicorn; raises StepFailed)."""
    words = list(words)
    index = server_index(words)
    if index is None:
        raise StepFailed(
            f"The command {shlex.join(words)} starts none of {', '.join(SERVERS)} directly. Write CMD in exec form, "
            'running the server itself (CMD ["fastapi", "run", ...]), so that it gets the signals a stop sends.'
        )
    program, head, rest = server_name(words, index), words[: index + 1], words[index + 1 :]
    if program == "gunicorn":
        rest = _without_options(rest, ("-b", "--bind"))
        return [*head, *rest, "--bind", f"127.0.0.1:{port}"]
    rest = _without_options(rest, ("--host", "--port", "--uds", "--fd"))
    return [*head, *rest, "--host", "127.0.0.1", "--port", str(port)]


def server_index(words: list[str]) -> int | None:
    for index, word in enumerate(words):
        if Path(word).name in SERVERS:
            return index
        if word == "-m" and index + 1 < len(words) and words[index + 1] in SERVERS:
            return index + 1
    return None


def server_name(words: list[str], index: int) -> str:
    return Path(words[index]).name


def _without_options(words: list[str], names: tuple[str, ...]) -> list[str]:
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in names:
            skip = True
            continue
        if any(word.startswith(name + "=") for name in names if name.startswith("--")):
            continue
        if any(word.startswith(name) and len(word) > 2 for name in names if len(name) == 2):
            continue
        kept.append(word)
    return kept


# --- the processes that serve the port, from /proc ---------------------------------------------------------


def listening_inodes(port: int) -> set[str]:
    """The inodes of the TCP sockets listening on 127.0.0.1:port (or any address), from /proc/net/tcp."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    found.add(inode)
    return found


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in proc_files("stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(parents.get(current, []))
    return found


def serving_processes(pid: int, port: int) -> list[int]:
    """The processes under pid that hold the socket listening on port: a server's master and its workers."""
    inodes = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    holding = []
    for process in descendants(pid):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{process}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        holding.append(process)
                        break
    return holding


def workers(pid: int, port: int) -> int:
    """How many worker processes serve the port: those holding its socket, less the master that hands it out."""
    holding = len(serving_processes(pid, port))
    return holding - 1 if holding > 1 else holding


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def last_lines(outcome, lines: int = 8) -> str:
    """The end of what a sandboxed child printed (stderr, then stdout), indented, for a failure message."""
    said = (outcome.stderr.strip() + "\n" + outcome.stdout.strip()).strip().splitlines()
    verdict = "" if outcome.verdict == "finished" else f" ({outcome.verdict})"
    return "    " + "\n    ".join(said[-lines:] or ["(no output)"]) + verdict


class ImageServer:
    """The image's command, run from what carry_out built, bound to 127.0.0.1 on a free port, in the sandbox.

    `with ImageServer(built, command, env) as server:` waits for GET /health (raises StepFailed if it never
    answers); then .url, .workers(), .stop().
    """

    def __init__(self, built: Built, command: list[str], env: dict[str, str], scratch: Path, seconds: float = 120):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = serving_command(command, self.port)
        self.env = {**built.env, **env}
        self.built, self.scratch, self.seconds = built, Path(scratch), seconds
        self.child = None
        self.health_seconds: float | None = None

    def start(self) -> ImageServer:
        import httpx

        program = self.command[0]
        program = shutil.which(program, path=self.env["PATH"]) if "/" not in program else self.built.map(program)
        if not program:
            raise StepFailed(f"{self.command[0]} is not on the image's PATH once its steps are done.")
        limits = Limits(seconds=self.seconds + 600, processes=256)
        self.child = sandbox.start(
            [program, *self.command[1:]],
            workdir=self.built.workdir,
            env=self.env,
            limits=limits,
            writable=(self.scratch,),
            network=True,
        )
        started = time.monotonic()
        while time.monotonic() - started < self.seconds and self.child.running:
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                self.health_seconds = time.monotonic() - started
                return self  # it answers: the caller judges what
            except httpx.HTTPError:
                time.sleep(0.1)
        outcome = self.child.stop()
        ended = "it stopped" if time.monotonic() - started < self.seconds else f"nothing within {self.seconds:g} s"
        raise StepFailed(f"GET /health got no answer ({ended}). Its last output:\n{last_lines(outcome, 12)}")

    def workers(self, settle: float = 10) -> int:
        """Worker processes serving the port, counted until there are two (or `settle` seconds pass)."""
        seen, deadline = 0, time.monotonic() + settle
        while time.monotonic() < deadline:
            seen = max(seen, workers(self.child.pid, self.port))
            if seen >= 2:
                break
            time.sleep(0.2)
        return seen

    def started_workers(self, wanted: int, seconds: float = 20) -> int:
        """Wait until `wanted` workers say their startup is complete (uvicorn's words); how many did."""
        deadline = time.monotonic() + seconds
        while True:
            done = self.child.output_so_far().count("Application startup complete")
            if done >= wanted or time.monotonic() > deadline or not self.child.running:
                return done
            time.sleep(0.1)

    def stop(self):
        return self.child.stop() if self.child is not None else None

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
