"""Start untrusted code (a learner's server, tests or install steps) in a child the grader can bound and end.

Every child gets its own session and process group, stdin from /dev/null, no controlling terminal, only an
allowlisted environment (the caller's `env` plus PATH, a scratch HOME, LANG/LC_ALL=C.UTF-8 and
PYTHONDONTWRITEBYTECODE=1), rlimits, and at its end its whole process group is killed.

Isolation (`isolation()`; force one with WORKBOOK_SANDBOX=process or =bubblewrap):
- "bubblewrap": bwrap shows the child a read-only /usr, /bin, /lib*, /etc and the Python installation
  (sys.base_prefix, sys.prefix and any site-packages outside them: the venv, never the repo around it), its
  workdir and `writable` folders read-write, private /tmp and /dev/shm (size-capped tmpfs), its own /dev and
  /proc, no network, and separate pid, ipc and uts namespaces. Nothing else exists: not the grader's home, not
  the repo, not other submissions. With --unshare-pid and --die-with-parent, killing bwrap ends every process
  inside, daemons included.
- "process": the same limits and environment, no namespaces. The group, and every descendant found in /proc,
  is frozen then killed; a daemon whose parent has already exited cannot be found and may survive.

The uid, as measured on Debian 12, bwrap 0.8, run as root:
- `bwrap --unshare-user --uid 65534` maps the child to the outer root, and the kernel never applies
  RLIMIT_NPROC to root: a fork bomb forked 200 of 200 under a limit of 20. So as root bwrap runs without a user
  namespace and `setpriv` drops the command to the real uid 65534 with no capabilities and no_new_privs; then
  the same fork bomb stops at the limit. The workdir, `writable` folders and HOME are chowned to 65534.
- Without bwrap, as root: uid 65534 via Popen(user=) when it can run this Python; when it cannot (a pyenv under
  the 0700 /root, as here), via setpriv keeping only CAP_DAC_READ_SEARCH: the child may read every file, but
  cannot write outside its folders, signal the grader or fork past the limit. Else it stays root (unbounded).
- Not root: children run as the grader's own user (inside a user namespace under bwrap).
RLIMIT_NPROC counts every thread of the uid, machine-wide, so the limit is set to the tasks the uid has now
plus `processes`: N more, whatever else runs as nobody. A uvicorn server under load holds 41 threads.

Memory is RLIMIT_DATA, per process. RLIMIT_AS also counts glibc's reserved per-thread arenas and thread stacks:
uvicorn serving FastAPI + SQLModel with a full thread pool held 1.39 GB of address space (2 cores; more
cores, more arenas) but 385 MB of data, and failed to start threads under RLIMIT_AS=1 GB. Neither counts
shared memory, and several processes may each use the limit: it stops a balloon, not a determined attacker.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workbook import child
from workbook.child import Child, Outcome

__all__ = ["Child", "Limits", "Outcome", "doctor", "isolation", "run", "start"]

SANDBOX_UID = 65534  # nobody
MODES = ("bubblewrap", "process")
_SYSTEM = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SETPRIV = ["--reuid", str(SANDBOX_UID), "--regid", str(SANDBOX_UID), "--clear-groups", "--no-new-privs"]
# PR_SET_PDEATHSIG (bwrap's --die-with-parent) fires when the *thread* that started bwrap ends: start every
# child from this one long-lived thread, so a server started from a short-lived thread keeps running.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook-sandbox")


@dataclass(frozen=True)
class Limits:
    seconds: float = 60  # wall clock, from start to kill
    memory_mb: int = 2048  # RLIMIT_DATA, per process
    processes: int = 128  # more tasks (threads count) than the uid has now; a server under load holds 41
    file_size_mb: int = 256  # largest file written, and the size of the private /tmp
    open_files: int = 1024
    cpu_seconds: int | None = None


def isolation() -> str:
    """'bubblewrap' when a bwrap sandbox works here (probed once), else 'process'; WORKBOOK_SANDBOX forces one."""
    wanted = os.environ.get("WORKBOOK_SANDBOX", "")
    if wanted not in ("", *MODES):
        raise ValueError(f"WORKBOOK_SANDBOX is {wanted!r}. Set it to 'bubblewrap' or 'process', or unset it.")
    if wanted == "process":
        return "process"
    problem = _bubblewrap_problem()
    if wanted == "bubblewrap" and problem:
        raise RuntimeError(f"WORKBOOK_SANDBOX=bubblewrap, but {problem}. Fix that, or unset WORKBOOK_SANDBOX.")
    return "process" if problem else "bubblewrap"


def run(argv, *, workdir: Path, env: dict[str, str] | None = None, limits: Limits = Limits(),
        writable=(), readable=()) -> Outcome:
    """Run argv in workdir to completion (or to limits.seconds) and say how it ended."""
    return start(argv, workdir=workdir, env=env, limits=limits, writable=writable, readable=readable).wait()


def start(argv, *, workdir: Path, env: dict[str, str] | None = None, limits: Limits = Limits(),
          writable=(), readable=()) -> Child:
    """Start argv in workdir; the Child ends at limits.seconds, or at .stop() (it is a context manager)."""
    mode = isolation()
    workdir, writable, readable = Path(workdir).resolve(), _paths(writable), _paths(readable)
    for path in [workdir, *writable, *readable]:
        if not path.exists():
            raise FileNotFoundError(f"No such folder: {path}. Create it before starting the child in it.")
    home = Path(tempfile.mkdtemp(prefix="workbook-home-"))
    drop = _drop(mode)
    if drop.owner is not None:
        _hand_over([workdir, *writable, home], drop.owner)
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
                   "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    command = [*drop.prefix, *argv]
    if mode == "bubblewrap":
        command = _bwrap(command, workdir, [*writable, home], readable, environment, limits, drop)
    processes = None if drop.counted_uid is None else child.tasks_of(drop.counted_uid) + limits.processes
    rlimits = child.rlimits(limits.memory_mb, limits.file_size_mb, limits.open_files, processes, limits.cpu_seconds)
    try:
        process = _SPAWNER.submit(
            subprocess.Popen, command, cwd=workdir, env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=functools.partial(child.apply, rlimits), **drop.popen,
        ).result()
    except OSError as error:
        shutil.rmtree(home, ignore_errors=True)
        message = f"Could not start {argv[0]} in {workdir}: {error}. Check the command and the folder."
        raise RuntimeError(message) from error
    return Child(process, limits.seconds, mode, cleanup=functools.partial(shutil.rmtree, home, ignore_errors=True))


def doctor() -> list[str]:
    """A few lines on what this machine supports, for `workbook doctor`."""
    problem = _bubblewrap_problem()
    lines = [f"bubblewrap: {'yes, children run in a bwrap sandbox' if not problem else 'no: ' + problem}"]
    for mode in MODES if not problem else ("process",):
        lines.append(f"uid ({mode}): {_drop(mode).description}")
    lines.append("limits: wall clock, memory (RLIMIT_DATA), processes (RLIMIT_NPROC), file size, open files, "
                 "no core dumps" + (", CPU time" if hasattr(signal, "SIGXCPU") else ""))
    if os.geteuid() == 0 and _drop("process").counted_uid is None:
        lines.append("warning: in process mode children stay root; the processes limit does not hold for root")
    network = "shared with this machine" if problem else "none in the sandbox: serve on a Unix socket (uvicorn --uds)"
    lines.append(f"network: {network}")
    return lines


def _paths(paths) -> list[Path]:
    return [Path(path).resolve() for path in paths]


# --- who the child runs as -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Drop:
    description: str
    prefix: tuple[str, ...] = ()  # wraps the command
    popen: dict = field(default_factory=dict)  # extra Popen arguments
    owner: int | None = None  # the folders the child writes are chowned to this uid
    counted_uid: int | None = None  # the uid whose tasks RLIMIT_NPROC counts; None: not enforced (root)
    bwrap: tuple[str, ...] = ()


@functools.cache
def _drop(mode: str) -> _Drop:
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0:
        return _Drop(f"your own user (uid {os.geteuid()})", popen={}, counted_uid=os.geteuid())
    if mode == "bubblewrap" and setpriv:
        caps = ["--inh-caps=-all", "--bounding-set=-all"]
        return _Drop(f"{SANDBOX_UID}, via setpriv inside bwrap", (setpriv, *_SETPRIV, *caps, "--"), {},
                     SANDBOX_UID, SANDBOX_UID)
    if mode == "bubblewrap":  # the inner uid maps to the outer root: no RLIMIT_NPROC
        return _Drop(f"{SANDBOX_UID} inside a user namespace, root outside (no setpriv): processes not limited",
                     popen={}, bwrap=("--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)))
    if _nobody_runs_python():
        return _Drop(f"{SANDBOX_UID}", popen={"user": SANDBOX_UID, "group": SANDBOX_UID, "extra_groups": []},
                     owner=SANDBOX_UID, counted_uid=SANDBOX_UID)
    if setpriv and sys.platform == "linux":
        caps = [f"--{kind}=-all,+dac_read_search" for kind in ("inh-caps", "ambient-caps", "bounding-set")]
        return _Drop(f"{SANDBOX_UID}, keeping read access to every file (uid {SANDBOX_UID} cannot read this Python)",
                     (setpriv, *_SETPRIV, *caps, "--"), {}, SANDBOX_UID, SANDBOX_UID)
    return _Drop("root: no uid drop works here (this Python is not readable by nobody, and no setpriv)", popen={})


def _nobody_runs_python() -> bool:
    """Whether uid 65534 can start this Python with its own standard library."""
    check = "import sys; print(sys.base_prefix)"
    try:
        done = subprocess.run([sys.executable, "-I", "-c", check], check=False, user=SANDBOX_UID, group=SANDBOX_UID,
                              extra_groups=[], capture_output=True, text=True, timeout=20, cwd="/")
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and done.stdout.strip() == sys.base_prefix


def _hand_over(folders: list[Path], uid: int) -> None:
    """chown folders, and everything in them, to the child's uid (never through a link)."""
    for folder in folders:
        os.chown(folder, uid, uid, follow_symlinks=False)
        for parent, names, files in os.walk(folder):
            for name in names + files:
                os.chown(os.path.join(parent, name), uid, uid, follow_symlinks=False)


# --- the bubblewrap command --------------------------------------------------------------------


@functools.cache
def _bubblewrap_problem() -> str | None:
    """None when a bwrap sandbox starts this Python here, else why not."""
    if sys.platform != "linux":
        return f"bubblewrap runs on Linux only (this is {sys.platform})"
    if not shutil.which("bwrap"):
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="workbook-probe-") as scratch:
        drop = _drop("bubblewrap")
        command = _bwrap([*drop.prefix, sys.executable, "-c", "pass"], Path(scratch), [], [], {"PATH": "/usr/bin"},
                         Limits(), drop)
        try:
            done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError) as error:
            return f"bwrap did not start: {error}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"a test sandbox failed: {last}"
    return None


def _python_dirs() -> list[Path]:
    """The folders this Python needs: its installation, its venv, and site-packages outside them."""
    import site

    found = [sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix, *site.getsitepackages()]
    found += [entry for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))]
    return [Path(os.path.realpath(folder)) for folder in found if os.path.isdir(folder)]


def _bwrap(command, workdir: Path, writable: list[Path], readable: list[Path], env: dict[str, str],
           limits: Limits, drop: _Drop) -> list[str]:
    tmp = str(limits.file_size_mb * 2**20)
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            *drop.bwrap, "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv"]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for path in _SYSTEM:  # merged-/usr systems have them as links into /usr
        args += ["--symlink", os.readlink(path), path] if os.path.islink(path) else ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", tmp, "--tmpfs", "/tmp",
             "--perms", "1777", "--size", tmp, "--tmpfs", "/dev/shm"]
    shown = [Path("/usr"), Path("/etc")]
    made = {Path("/"), Path("/tmp"), Path("/dev"), Path("/proc")}
    for kind, folders in (("--ro-bind", _python_dirs() + readable), ("--bind", [workdir, *writable])):
        for folder in folders:
            if kind == "--ro-bind" and any(folder.is_relative_to(seen) for seen in shown):
                continue  # already visible
            for parent in reversed(folder.parents):  # bwrap would make missing parents 0700: closed to 65534
                if parent not in made and not any(parent.is_relative_to(seen) for seen in shown):
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(parent)
            args += [kind, str(folder), str(folder)]
            shown.append(folder)
    return [*args, "--chdir", str(workdir), "--", *command]
