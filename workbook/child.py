"""A started sandbox child: the tail of its output, its end (all of it), and how it ended."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

OUTPUT_BYTES = 64 * 2**10  # of stdout and of stderr, the last ones: a child printing 1 GB costs the grader nothing
_LIVE: set[Child] = set()


@dataclass(frozen=True)
class Outcome:
    """How a child ended. verdict: "finished" (any exit code), "timed out", "stopped", "out of memory",
    "file too large", "too many processes", "out of CPU time" or "killed by signal N (NAME)"."""

    verdict: str
    returncode: int | None  # negative: killed by that signal (also under bwrap, which reports 128 + N)
    stdout: str
    stderr: str
    seconds: float
    isolation: str

    @property
    def ok(self) -> bool:
        return self.verdict == "finished" and self.returncode == 0


class Child:
    """A running child: .pid, .wait(timeout), .stop(), .outcome(); as a context manager it stops on exit."""

    def __init__(self, process: subprocess.Popen, seconds: float, isolation: str, cleanup=lambda: None):
        self.process, self.pid, self.isolation = process, process.pid, isolation
        self.uid: int | None = None  # the uid its files are handed to, set by workbook.sandbox.start
        self._cleanup = cleanup
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._exited = False
        self._reason: str | None = None  # set when this side ended it
        self._outcome: Outcome | None = None
        self._ended = threading.Event()
        self._tails = (_Tail(process.stdout), _Tail(process.stderr))
        self._timer = threading.Timer(seconds, self._end, ("timed out",))
        self._timer.daemon = True
        self._timer.start()
        _LIVE.add(self)
        threading.Thread(target=self._watch, daemon=True, name=f"workbook-child-{self.pid}").start()

    def __repr__(self) -> str:
        return f"<Child {self.pid} {self._outcome.verdict if self._outcome else 'running'} ({self.isolation})>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return not self._ended.is_set()

    def wait(self, timeout: float | None = None) -> Outcome:
        """The outcome, once the child has ended; raises subprocess.TimeoutExpired if it still runs after timeout."""
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(self.process.args, timeout)
        if self._outcome is None:
            raise RuntimeError(f"Lost track of child {self.pid}: its watcher failed (see the traceback above).")
        return self._outcome

    def output_so_far(self) -> str:
        """What the child has printed so far, stdout then stderr (the last OUTPUT_BYTES of each)."""
        return self._tails[0].text() + self._tails[1].text()

    def stop(self) -> Outcome:
        """Kill the child and everything it started (verdict "stopped" if it was still running)."""
        self._end("stopped")
        return self.wait()

    def outcome(self) -> Outcome | None:
        """How it ended, or None while it runs."""
        return self._outcome

    def output(self) -> tuple[str, str]:
        """(stdout, stderr) so far: their last OUTPUT_BYTES each, while it runs or after."""
        if self._outcome is not None:
            return self._outcome.stdout, self._outcome.stderr
        return self._tails[0].text(), self._tails[1].text()

    def _end(self, reason: str) -> None:
        with self._lock:  # the watcher reaps only after this: the group id cannot be reused meanwhile
            if not self._exited and self._reason is None:
                self._reason = reason
                sweep(self.pid)

    def _watch(self) -> None:
        try:
            _wait_unreaped(self.process)
            seconds = time.monotonic() - self._started
            with self._lock:
                self._exited = True
                sweep(self.pid)  # what it left behind in its group
            returncode = self.process.wait()
            if self.isolation == "bubblewrap" and 128 < returncode < 128 + signal.NSIG:
                returncode = 128 - returncode  # bwrap exits 128 + N when its command was killed by signal N
            self._timer.cancel()
            deadline = time.monotonic() + 1  # a survivor may still hold a pipe open
            for tail in self._tails:
                tail.join(max(0.0, deadline - time.monotonic()))
            stdout, stderr = (tail.text() for tail in self._tails)
            self._outcome = Outcome(
                verdict(self._reason, returncode, stderr), returncode, stdout, stderr, round(seconds, 3), self.isolation
            )
        finally:
            _LIVE.discard(self)
            self._cleanup()
            self._ended.set()


def _wait_unreaped(process: subprocess.Popen) -> None:
    """Wait for the exit but leave the zombie, so that its group id cannot be reused before the sweep."""
    if not hasattr(os, "waitid"):  # macOS before Python 3.13: reaped here, a negligible race
        process.wait()
        return
    try:
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        pass


@atexit.register
def _stop_all() -> None:
    """A grader that exits leaves nothing running (bwrap's --die-with-parent aside, process mode needs this)."""
    for child in list(_LIVE):
        child.stop()


def verdict(reason: str | None, returncode: int, stderr: str) -> str:
    """How a child ended, from who ended it, its exit status and the end of its stderr."""
    if reason:
        return reason
    if returncode == 0:
        return "finished"
    last = stderr[-4000:]
    signum = -returncode if returncode < 0 else 0
    if "MemoryError" in last or "[Errno 12] Cannot allocate memory" in last:
        return "out of memory"
    if signum == getattr(signal, "SIGXFSZ", None) or "[Errno 27] File too large" in last:
        return "file too large"
    if signum == getattr(signal, "SIGXCPU", None):
        return "out of CPU time"
    if "[Errno 11] Resource temporarily unavailable" in last or "can't start new thread" in last:
        return "too many processes"
    if signum:
        return f"killed by signal {signum} ({signal.Signals(signum).name})"
    return "finished"


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping the last OUTPUT_BYTES."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.data = stream, bytearray()
        self.start()

    def run(self) -> None:
        while chunk := self.stream.read1(2**16):
            self.data += chunk
            if len(self.data) > 2 * OUTPUT_BYTES:
                del self.data[:-OUTPUT_BYTES]

    def text(self) -> str:
        return bytes(self.data[-OUTPUT_BYTES:]).decode(errors="replace")


# --- the end ----------------------------------------------------------------------------------


def sweep(leader: int) -> None:
    """Kill the leader's process group and every descendant still to be found in /proc (another session too).

    Frozen first (SIGSTOP cannot be caught), so that nothing forks between finding and killing. A daemon whose
    parent has already exited has no link left to the leader; only a pid namespace (bubblewrap) ends it.
    """
    _signal_group(leader, signal.SIGSTOP)
    family: set[int] = set()
    for _ in range(20):
        found = _family(leader) - family
        if not found:
            break
        for pid in found:
            _signal(pid, signal.SIGSTOP)
        family |= found
    _signal_group(leader, signal.SIGKILL)
    for pid in family:
        _signal(pid, signal.SIGKILL)


def proc_files(name: str) -> list[Path]:
    """/proc/PID/name for every process running now; reading one may still fail, as it may end meanwhile.

    Not Path("/proc").glob(...): pathlib checks each match, and a process that ended while it looked makes
    that check raise ProcessLookupError, which glob does not catch.
    """
    return [Path("/proc", pid, name) for pid in os.listdir("/proc") if pid.isdigit()]


def _family(leader: int) -> set[int]:
    """The pids in the leader's group or session, and their descendants (Linux; elsewhere none)."""
    links = {}
    for stat in proc_files("stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        links[int(stat.parent.name)] = (int(fields[1]), int(fields[2]), int(fields[3]))  # ppid, group, session
    family = {pid for pid, (_, group, session) in links.items() if leader in (group, session)} | {leader}
    while grown := {pid for pid, (parent, _, _) in links.items() if parent in family} - family:
        family |= grown
    return family - {leader}


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
