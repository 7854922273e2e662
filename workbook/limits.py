"""What bounds a sandbox child: the uid it runs as and its rlimits (see workbook.sandbox for the measurements)."""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from workbook.child import proc_files

SANDBOX_UID = 65534  # nobody: how this machine lets a child change uid is probed with it
# Every child started as root gets a uid of its own from here (what `nobody` may do, and no more: no such user
# exists, it owns nothing but the child's folders, it belongs to no group). RLIMIT_NPROC then counts that child's
# tasks alone, and one child can neither signal, trace nor write the files of another.
UID_BASE = 0x40000000
_counter = iter(range(1, 2**62))


def fresh_uid() -> int:
    """A uid no other live child has: this process's id and a counter (a pid is unique among live processes)."""
    return UID_BASE + ((os.getpid() & 0x3FFFFF) << 8) + (next(_counter) & 0xFF)


def _setpriv(uid: int) -> tuple[str, ...]:
    return ("--reuid", str(uid), "--regid", str(uid), "--clear-groups", "--no-new-privs")


@dataclass(frozen=True)
class Limits:
    seconds: float = 60  # wall clock, from start to kill
    memory_mb: int = 2048  # RLIMIT_DATA, per process
    processes: int = 128  # tasks (threads count) the child may add; a uvicorn server under load holds 41
    file_size_mb: int = 256  # largest file written, and the size of the private /tmp
    open_files: int = 1024
    cpu_seconds: int | None = None


@dataclass(frozen=True)
class Identity:
    """Who a child runs as, and how it gets there."""

    description: str
    prefix: tuple[str, ...] = ()  # wraps the command (setpriv)
    popen: dict = field(default_factory=dict)  # extra Popen arguments
    owner: int | None = None  # the folders the child writes are chowned to this uid
    counted_uid: int | None = None  # whose tasks RLIMIT_NPROC counts; None: not enforced (root)
    bwrap: tuple[str, ...] = ()  # extra bwrap options


def identity(mode: str, uid: int | None = None) -> Identity:
    """Who a child runs as under the isolation `mode`, as this machine allows (probed once): as root, `uid` (a
    fresh one when None); otherwise the grader's own user."""
    return _identity(mode, fresh_uid() if uid is None else uid)


def _identity(mode: str, uid: int) -> Identity:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0:
        return Identity(f"your own user (uid {os.geteuid()})", counted_uid=os.geteuid())
    how = _how(mode)
    if how == "setpriv-bwrap":
        caps = ("--inh-caps=-all", "--bounding-set=-all")
        return Identity(
            f"a uid of its own ({UID_BASE} and up), via setpriv inside bwrap",
            (setpriv, *_setpriv(uid), *caps, "--"),
            owner=uid,
            counted_uid=uid,
        )
    if how == "userns":  # the inner uid maps to the outer root, for which RLIMIT_NPROC does not hold
        return Identity(
            f"{SANDBOX_UID} in a user namespace, root outside (no setpriv): processes not limited",
            bwrap=("--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)),
        )
    if how == "popen":
        return Identity(
            f"a uid of its own ({UID_BASE} and up)",
            popen={"user": uid, "group": uid, "extra_groups": []},
            owner=uid,
            counted_uid=uid,
        )
    if how == "setpriv-read-all":
        caps = tuple(f"--{kind}=-all,+dac_read_search" for kind in ("inh-caps", "ambient-caps", "bounding-set"))
        return Identity(
            f"a uid of its own ({UID_BASE} and up), keeping read access to every file (another uid cannot read "
            "this Python)",
            (setpriv, *_setpriv(uid), *caps, "--"),
            owner=uid,
            counted_uid=uid,
        )
    return Identity("root: no uid drop works here (this Python is not readable by nobody, and there is no setpriv)")


@functools.cache
def _how(mode: str) -> str:
    """How a root grader drops a child's uid under `mode` here (probed once)."""
    setpriv = shutil.which("setpriv")
    if mode == "bubblewrap":
        return "setpriv-bwrap" if setpriv else "userns"
    if _nobody_runs_python():
        return "popen"
    if setpriv and sys.platform == "linux":
        return "setpriv-read-all"
    return "none"


def _nobody_runs_python() -> bool:
    """Whether uid 65534 can start this Python with its own standard library."""
    check = "import sys; print(sys.base_prefix)"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", check],
            check=False,
            user=SANDBOX_UID,
            group=SANDBOX_UID,
            extra_groups=[],
            capture_output=True,
            text=True,
            timeout=20,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == sys.base_prefix


def hand_over(folders: list[Path], uid: int) -> None:
    """chown folders, and everything in them, to the child's uid, never through a link.

    Bottom up, through folder handles: while a folder is still the grader's, no child can swap what is in it
    for a link (a live load of the same submission may try, to make the grader chown or write elsewhere).
    """
    for folder in folders:
        top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for _parent, names, files, parent_fd in os.fwalk(dir_fd=top, topdown=False, follow_symlinks=False):
                for name in names + files:
                    os.chown(name, uid, uid, dir_fd=parent_fd, follow_symlinks=False)
            os.fchown(top, uid, uid)
        finally:
            os.close(top)


def rlimits(limits: Limits, mode: str, who: Identity) -> list[tuple[int, int]]:
    """The rlimits for a child, computed here: the forked child only applies them (see apply)."""
    wanted = [
        (resource.RLIMIT_DATA, limits.memory_mb * 2**20),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * 2**20),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ]
    if who.counted_uid is not None:
        wanted.append((resource.RLIMIT_NPROC, _tasks_allowed(limits, mode, who.counted_uid)))
    if limits.cpu_seconds:
        wanted.append((resource.RLIMIT_CPU, limits.cpu_seconds))
    if os.geteuid() == 0:
        return wanted
    hard = {kind: resource.getrlimit(kind)[1] for kind, _ in wanted}  # not root: cannot raise a hard limit
    return [(kind, value if hard[kind] == resource.RLIM_INFINITY else min(value, hard[kind])) for kind, value in wanted]


def apply(limits: list[tuple[int, int]]) -> None:
    """Runs in the forked child before exec: nothing here may allocate much or take a lock."""
    for kind, value in limits:
        resource.setrlimit(kind, (value, value))


def _tasks_allowed(limits: Limits, mode: str, uid: int) -> int:
    """RLIMIT_NPROC counts all of uid's tasks: those it has now, plus limits.processes, plus what this side adds
    under the same uid when the grader is not root (this child's 4 threads here, and bwrap's 2 processes)."""
    ours = 0 if uid != os.geteuid() else 4 + 2 * (mode == "bubblewrap")
    return tasks_of(uid) + limits.processes + ours


def tasks_of(uid: int) -> int:
    """How many tasks (threads count) uid has now: what RLIMIT_NPROC counts on Linux (elsewhere, processes)."""
    if not Path("/proc/self/status").exists():
        listed = subprocess.run(["ps", "-U", str(uid), "-o", "pid="], capture_output=True, text=True, check=False)
        return len(listed.stdout.split())
    total = 0
    for status in proc_files("status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # it ended meanwhile
        if fields.get("Uid", "").split()[:1] == [str(uid)]:
            total += int(fields.get("Threads", "1"))
    return total
