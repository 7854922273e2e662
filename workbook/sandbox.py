"""Start untrusted code (a learner's server, tests or install steps) in a child the grader can bound and end.

Every child gets its own session and process group, stdin from /dev/null, no controlling terminal, only an
allowlisted environment (the caller's `env` plus PATH, a scratch HOME removed afterwards, LANG/LC_ALL=C.UTF-8,
PYTHONDONTWRITEBYTECODE=1; bwrap adds PWD), the rlimits of workbook.limits, and at its end (exit, time limit
or stop) its whole process group is killed. Its stdout and stderr are read as they come; the last 64 KiB kept.

Isolation (`isolation()`; force one with WORKBOOK_SANDBOX=process or =bubblewrap):
- "bubblewrap": bwrap shows the child a read-only /usr, /bin, /lib*, /etc and the Python installation
  (sys.base_prefix, sys.prefix and any site-packages outside them: the venv, never the repo around it), its
  workdir and `writable` folders read-write, `readable` paths read-only, private /tmp and /dev/shm (tmpfs as
  big as the file-size limit), its own /dev and /proc, no network (serve on a Unix socket in the workdir:
  uvicorn --uds), separate pid, ipc and uts namespaces. Nothing else exists: not the grader's home, not the repo,
  not other submissions. With --unshare-pid and --die-with-parent, ending bwrap ends every process inside.
  (The bwrap command line, and the probe that says whether it works here: workbook.sandbox_bwrap.)
- "process": the same limits and environment, no namespaces; everything the uid may read is readable. The
  group, and every descendant found in /proc, is frozen then killed; a daemon whose parent has already exited
  cannot be found, may survive, and then holds the output pipes (what it prints later is not collected).

The uid, as measured on Debian 12, bwrap 0.8, run as root:
- `bwrap --unshare-user --uid 65534` maps the child to the outer root, and the kernel never applies
  RLIMIT_NPROC to root: a fork bomb forked 200 of 200 under a limit of 20. So as root bwrap runs without a user
  namespace and `setpriv` drops the command to the real uid 65534 with no capabilities and no_new_privs; then
  the same fork bomb stops at the limit. The workdir, `writable` folders and HOME are chowned to 65534.
- Without bwrap, as root: uid 65534 via Popen(user=) when it can run this Python; when it cannot (a pyenv under
  the 0700 /root, as here), via setpriv keeping only CAP_DAC_READ_SEARCH: the child may read every file, but
  cannot write outside its folders, signal the grader or fork past the limit. Else it stays root (unbounded).
- Not root: children run as the grader's own user (in a user namespace under bwrap).
RLIMIT_NPROC counts every task (thread) of the uid, machine-wide. So, as root, every child gets a uid of its own
(workbook.limits.fresh_uid, from 0x40000000; 65534 above stands for it): the limit is its own tasks plus
`processes`, whatever other sandboxes do, and no child can signal or write for another. A uvicorn server under
load holds 41 threads.

Memory is RLIMIT_DATA, per process. RLIMIT_AS also counts glibc's reserved per-thread arenas: uvicorn serving
FastAPI + SQLModel with a full thread pool held 1.39 GB of address space (2 cores; more cores, more arenas)
but 385 MB of data, and could not start threads under RLIMIT_AS=1 GB. Neither counts shared memory, and each
process may use the whole limit: it stops a balloon (reported "out of memory"), not a determined attacker.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workbook.child import Child, Outcome
from workbook.limits import Limits, apply, hand_over, identity, rlimits
from workbook.sandbox_bwrap import bubblewrap_problem, bwrap_command

__all__ = ["Child", "Limits", "Outcome", "doctor", "isolation", "run", "start"]

MODES = ("bubblewrap", "process")
DEFAULT_LIMITS = Limits()
# PR_SET_PDEATHSIG (bwrap's --die-with-parent) fires when the *thread* that started bwrap ends: start every
# child from this one long-lived thread, so a server started from a short-lived thread keeps running.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbook-sandbox")


def isolation() -> str:
    """'bubblewrap' when a bwrap sandbox works here (probed once), else 'process'; WORKBOOK_SANDBOX forces one."""
    wanted = os.environ.get("WORKBOOK_SANDBOX", "")
    if wanted not in ("", *MODES):
        raise ValueError(f"WORKBOOK_SANDBOX is {wanted!r}. Set it to 'bubblewrap' or 'process', or unset it.")
    if wanted == "process":
        return "process"
    problem = bubblewrap_problem()
    if wanted == "bubblewrap" and problem:
        raise RuntimeError(f"WORKBOOK_SANDBOX=bubblewrap, but {problem}. Fix that, or unset WORKBOOK_SANDBOX.")
    return "process" if problem else "bubblewrap"


def run(
    argv,
    *,
    workdir: Path,
    env: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    writable=(),
    readable=(),
    shared=(),
    network: bool = False,
) -> Outcome:
    """Run argv in workdir to completion (or to limits.seconds) and say how it ended."""
    return start(
        argv,
        workdir=workdir,
        env=env,
        limits=limits,
        writable=writable,
        readable=readable,
        shared=shared,
        network=network,
    ).wait()


def start(
    argv,
    *,
    workdir: Path,
    env: dict[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
    writable=(),
    readable=(),
    pass_fds=(),
    shared=(),
    network: bool = False,
    own_workdir: bool = True,
) -> Child:
    """Start argv in workdir; the Child ends at limits.seconds, or at .stop() (it is a context manager).

    The child may also write the `writable` folders and, under bubblewrap, read the `readable` paths.
    `pass_fds`: file descriptors the child inherits (a socket to talk to it; bwrap passes them on).
    `shared`: folders shown read-write under bubblewrap but left as they are (not handed to the child's uid): a
    service's socket folder.
    own_workdir=False leaves the workdir the grader's: the child may write inside the folders the grader hands
    it there, never rename or replace them (the zygote's folder of places).
    network=True shares this machine's network with it (lesson 08: installing packages, a server the grader
    reaches on 127.0.0.1); by default, under bubblewrap, it has none.
    """
    mode = isolation()
    workdir, writable, readable = Path(workdir).resolve(), _paths(writable), _paths(readable)
    shared = _paths(shared)
    for path in [workdir, *writable, *readable, *shared]:
        if not path.exists():
            raise FileNotFoundError(f"No such folder: {path}. Create it before starting the child in it.")
    home = Path(tempfile.mkdtemp(prefix="workbook-home-"))
    who = identity(mode)
    if who.owner is not None:
        hand_over([workdir, *writable, home] if own_workdir else [*writable, home], who.owner)
    environment = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    command = [*who.prefix, *argv]
    if mode == "bubblewrap":
        command = bwrap_command(
            command, workdir, [*writable, *shared, home], readable, environment, limits, who, network
        )
    try:
        process = _SPAWNER.submit(
            subprocess.Popen,
            command,
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            preexec_fn=functools.partial(apply, rlimits(limits, mode, who)),
            **who.popen,
        ).result()
    except (OSError, subprocess.SubprocessError) as error:
        shutil.rmtree(home, ignore_errors=True)
        message = f"Could not start {argv[0]} in {workdir}: {error}. Check the command and the folder."
        raise RuntimeError(message) from error
    child = Child(process, limits.seconds, mode, cleanup=functools.partial(shutil.rmtree, home, ignore_errors=True))
    child.uid = who.owner  # the uid its files are handed to (None: the grader's own)
    return child


def doctor() -> list[str]:
    """A few lines on what this machine supports, for `workbook doctor`."""
    problem = bubblewrap_problem()
    lines = [f"bubblewrap: {'yes, children run in a bwrap sandbox' if not problem else 'no: ' + problem}"]
    for mode in MODES if not problem else ("process",):
        lines.append(f"uid ({mode}): {identity(mode).description}")
    lines.append(
        "limits: wall clock, memory (RLIMIT_DATA), processes (RLIMIT_NPROC), file size, open files, "
        "no core dumps, CPU time when asked"
    )
    if os.geteuid() == 0 and identity("process").counted_uid is None:
        lines.append("warning: in process mode children stay root; the processes limit does not hold for root")
    network = "shared with this machine" if problem else "none in the sandbox: serve on a Unix socket (uvicorn --uds)"
    lines.append(f"network: {network}")
    return lines


def _paths(paths) -> list[Path]:
    return [Path(path).resolve() for path in paths]
