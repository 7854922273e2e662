"""Inside the sandbox: the warm zygote, and each load of the learner's app that it forks.

The grader (workbook.sandbox_apps) starts this file in the sandbox as `python -I sandbox_app.py FD`: FD is one
end of a SOCK_SEQPACKET socketpair whose other end the grader keeps (the session). The zygote imports the
frameworks an app uses once, then waits for requests on the session. A `load` request brings two file
descriptors, the load's own control socket (a socketpair, the grader holds the other end) and the listening Unix
socket its server will answer on (bound by the grader, in a folder the sandbox cannot see). The zygote forks; the
child becomes that load: its own process group, the load's folder as working directory, exactly the load's
environment, stdout and stderr into the load's log file. It imports app.main there and says how that went; then,
when asked, runs named probes (data about the app, in JSON) and serves the app with uvicorn on the listening socket.

Everything sent to the grader is data: JSON messages, never code, and the grader believes none of it beyond what it
says about the learner's own app. When the app raises while answering, the served app holds the response back until
the app is done with it and adds the exception, described as plain data (type, message, the frames in the learner's
files), in the response header `x-workbook-raised`. The grader decides what to do with it.

The zygote ends every load it is asked to end, or when the session closes (the grader is gone): then it ends them all
and exits. Standard library and the frameworks only: this file and its pieces import nothing of workbook, nor
pytest, and a load removes what it can of them from sight (their modules, the command line) before it imports the
app. The pieces, next to this file: sandbox_report (messages, what the app raised, the served app), sandbox_evidence
(what the diagnoses read of it), sandbox_load (one load), sandbox_warm_up and sandbox_warm_apps (what the zygote imports and runs before it forks).
"""

from __future__ import annotations

import gc
import importlib
import os
import select
import signal
import socket
import sys
import traceback

# The pieces are imported by their bare names, from this file's folder. Under -I that folder is not on sys.path,
# and it is there only for this import: it holds workbook's own modules, one named as a framework is (limits).
# -I also ignores PYTHONDONTWRITEBYTECODE: write no bytecode next to them.
HERE = os.path.dirname(os.path.abspath(__file__))
PIECES = ("sandbox_evidence", "sandbox_report", "sandbox_load", "sandbox_warm_up", "sandbox_warm_apps")
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
try:
    from sandbox_load import Load  # noqa: E402
    from sandbox_report import as_text, receive, send  # noqa: E402
    from sandbox_warm_apps import WARM_UP, WARM_UP_WEB  # noqa: E402
    from sandbox_warm_up import FULL_WARM_UP, PRELOAD, warm_up  # noqa: E402
finally:
    sys.path.remove(HERE)


# --- the zygote -------------------------------------------------------------------------------------


class Zygote:
    def __init__(self, session: socket.socket):
        self.session = session
        self.loads: dict[int, int] = {}  # load id -> pid

    def preload(self, wanted: list[str] | None = None) -> None:
        """Import the frameworks (those of `wanted` the app imports, else all), then warm them up."""
        missing = []
        names = [name for name in PRELOAD if wanted is None or name in wanted]
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - not installed, or it fails here: the app's import will say
                missing.append(name)
        full = all(name in sys.modules for name in FULL_WARM_UP)
        warm_up(WARM_UP if full else WARM_UP_WEB)
        gc.collect()
        gc.freeze()  # what is imported now stays shared with every fork: its pages are never written
        send(self.session, event="ready", missing=missing, pid=os.getpid())

    def serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.session], [], [], 0.5)
            self.reap()
            if not ready:
                continue
            message, fds = receive(self.session, timeout=5)
            if message is None:
                for fd in fds:
                    os.close(fd)
                if not fds:
                    self.end_all()
                    return
                continue
            op = message.get("op")
            if op == "load" and len(fds) == 2:
                self.fork(message, fds)
            else:
                for fd in fds:
                    os.close(fd)
                if op == "end":
                    self.end(message.get("id"))

    def fork(self, request: dict, fds: list[int]) -> None:
        try:
            pid = os.fork()
        except OSError as error:  # out of processes (a fork bomb elsewhere) or memory: this load never starts
            for fd in fds:
                os.close(fd)
            send(self.session, event="ended", id=request.get("id"), code=-1, error=as_text(error, 200))
            return
        if pid == 0:  # the load
            code = 0
            try:
                become_a_load(self.session, request, fds)
            except BaseException:  # noqa: BLE001
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.loads[int(request.get("id", -1))] = pid
        send(self.session, event="forked", id=request.get("id"))

    def end(self, load) -> None:
        pid = self.loads.get(load)
        if pid is not None:
            kill_family(pid)

    def end_all(self) -> None:
        for pid in list(self.loads.values()):
            kill_family(pid)
        self.reap()

    def reap(self) -> None:
        for load, pid in list(self.loads.items()):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                kill_family(pid)  # what it left in its group
                del self.loads[load]
                ended = {"event": "ended", "id": load}
                if os.WIFSIGNALED(status):
                    ended["signal"] = os.WTERMSIG(status)
                elif os.WIFEXITED(status):
                    ended["code"] = os.WEXITSTATUS(status)
                send(self.session, **ended)


def become_a_load(session: socket.socket, request: dict, fds: list[int]) -> None:
    # Collect the young generation less often: a load lives for one test, and every collection touches (and so
    # copies, after the fork) pages of its own. A fifth of a load's time, measured; cycles are still collected.
    gc.set_threshold(50000, 50, 50)
    session.close()
    control = socket.socket(fileno=fds[0])
    listener = socket.socket(fileno=fds[1])
    os.setpgid(0, 0)  # its own group: ending the load ends everything it started
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["workdir"])
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in (request.get("env") or {}).items()})
    sys.argv = [os.path.join(os.path.dirname(sys.modules["uvicorn"].__file__), "__main__.py"), "app.main:app"]
    hide_this_file()
    Load(control, listener, request).run()


def hide_this_file() -> None:
    """What an app could look at to tell it is graded: this module as __main__, its pieces among the modules
    (the code already running keeps them), this file's folder in sys.path."""
    import types

    stand_in = types.ModuleType("__main__")
    stand_in.__file__ = sys.argv[0]
    sys.modules["__main__"] = stand_in
    for name in PIECES:
        sys.modules.pop(name, None)
    sys.path[:] = [entry for entry in sys.path if entry not in ("", ".", HERE)]


def kill_family(leader: int) -> None:
    """SIGKILL the leader's process group and every descendant of the leader found in /proc."""
    try:
        os.killpg(leader, signal.SIGSTOP)
    except OSError:
        pass
    family = descendants(leader)
    for pid in family:
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
    family |= descendants(leader)
    for target in (leader, *family):
        try:
            os.killpg(target, signal.SIGKILL) if target == leader else os.kill(target, signal.SIGKILL)
        except OSError:
            pass


def descendants(leader: int) -> set[int]:
    links = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        links[int(name)] = (int(fields[1]), int(fields[2]))  # ppid, group
    family = {pid for pid, (_, group) in links.items() if group == leader} - {leader}
    grown = True
    while grown:
        grown = {pid for pid, (parent, _) in links.items() if parent in family | {leader}} - family - {leader}
        family |= grown
    return family


def main() -> None:
    session = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    zygote = Zygote(session)
    zygote.preload(sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else None)
    zygote.serve()


if __name__ == "__main__":
    main()
