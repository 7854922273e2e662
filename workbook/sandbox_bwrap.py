"""The bubblewrap side of workbook.sandbox: the bwrap command line that shows a child only what it may see, and
the probe that says whether such a sandbox starts here at all (see workbook.sandbox for what the child sees).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.limits import SANDBOX_UID, Identity, Limits, identity

_SYSTEM = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@functools.cache
def bubblewrap_problem() -> str | None:
    """None when a bwrap sandbox starts this Python here, else why not (a success is remembered for a day)."""
    if sys.platform != "linux":
        return f"bubblewrap runs on Linux only (this is {sys.platform})"
    if not shutil.which("bwrap"):
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    if _probe_remembered():
        return None
    problem = _probe_bubblewrap()
    if problem is None:
        _remember_probe()
    return problem


def _probe_key() -> str:
    """What a remembered probe holds for: this bwrap, this Python, this uid, since this boot."""
    bwrap = shutil.which("bwrap") or ""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stamp = os.stat(bwrap).st_mtime_ns
    except OSError:
        return ""
    return f"{bwrap}:{stamp}:{sys.executable}:{sys.prefix}:{os.geteuid()}:{boot}"


def _probe_file() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "workbook" / f"sandbox-probe-{os.geteuid()}"


def _probe_remembered() -> bool:
    key = _probe_key()
    try:
        path = _probe_file()
        info = path.lstat()
        fresh = time.time() - info.st_mtime < 24 * 3600 and info.st_uid == os.geteuid() and not path.is_symlink()
        return bool(key) and fresh and path.read_text() == key
    except OSError:
        return False


def _remember_probe() -> None:
    key = _probe_key()
    if not key:
        return
    try:
        path = _probe_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}")
        temporary.write_text(key)
        os.replace(temporary, path)
    except OSError:
        pass


def _probe_bubblewrap() -> str | None:
    with tempfile.TemporaryDirectory(prefix="workbook-probe-") as scratch:
        who = identity("bubblewrap", SANDBOX_UID)
        command = bwrap_command(
            [*who.prefix, sys.executable, "-c", "pass"], Path(scratch), [], [], {"PATH": "/usr/bin"}, Limits(), who
        )
        try:
            done = subprocess.run(
                command, check=False, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
            )
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


def bwrap_command(
    command,
    workdir: Path,
    writable: list[Path],
    readable: list[Path],
    env: dict[str, str],
    limits: Limits,
    who: Identity,
    network: bool = False,
) -> list[str]:
    tmp = str(limits.file_size_mb * 2**20)
    args = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        *([] if network else ["--unshare-net"]),
        "--unshare-uts",
        "--unshare-cgroup-try",
        *who.bwrap,
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
    ]
    for name, value in env.items():
        args += ["--setenv", name, value]
    args += ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for path in _SYSTEM:  # merged-/usr systems have them as links into /usr
        args += ["--symlink", os.readlink(path), path] if os.path.islink(path) else ["--ro-bind-try", path, path]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        tmp,
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--size",
        tmp,
        "--tmpfs",
        "/dev/shm",
    ]
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
