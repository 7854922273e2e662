"""workbook.sandbox, workbook.child and workbook.submission: untrusted code runs bounded, and ends entirely.

Most tests run under both isolations (WORKBOOK_SANDBOX=bubblewrap, =process); those about what the
child can see need bubblewrap. Every child gets a time limit of a few seconds, so no test can hang long.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from workbook import sandbox
from workbook.child import proc_files
from workbook.sandbox import Limits
from workbook.submission import SubmissionRefused, copy_submission

SHORT = Limits(seconds=5)


@pytest.fixture(params=["bubblewrap", "process"])
def mode(request, monkeypatch) -> str:
    """The isolation the test's children run under, forced with WORKBOOK_SANDBOX."""
    monkeypatch.setenv("WORKBOOK_SANDBOX", request.param)
    try:
        assert sandbox.isolation() == request.param
    except RuntimeError as error:
        pytest.skip(f"bubblewrap does not work on this machine: {error}")
    return request.param


@pytest.fixture
def bubblewrap(monkeypatch) -> None:
    """For tests about what only a bubblewrap sandbox hides."""
    monkeypatch.setenv("WORKBOOK_SANDBOX", "bubblewrap")
    try:
        sandbox.isolation()
    except RuntimeError as error:
        pytest.skip(f"needs bubblewrap, which does not work on this machine: {error}")


@pytest.fixture
def workdir(tmp_path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def python(code: str, workdir: Path, limits: Limits = SHORT, **options) -> sandbox.Outcome:
    return sandbox.run(
        [sys.executable, "-c", code, *options.pop("args", ())], workdir=workdir, limits=limits, **options
    )


@pytest.fixture
def protected(mode, workdir) -> None:
    """Skips where the child would be root like this test process: nothing then stops it writing or signalling."""
    if python("import os; print(os.getuid())", workdir).stdout.strip() == "0":
        pytest.skip("process mode as root with no uid drop that works here: the child is root too")


def pids_running(marker: str) -> list[int]:
    """Host pids of live processes whose command line holds marker (a zombie's is empty)."""
    found = []
    for cmdline in proc_files("cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


def wait_for(condition, seconds: float = 5):
    deadline = time.monotonic() + seconds
    while not (found := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


# --- running ---------------------------------------------------------------------------------------


def test_a_child_runs_to_completion_and_its_output_and_exit_code_are_kept(mode, workdir):
    outcome = python("import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)", workdir)
    assert (outcome.verdict, outcome.returncode, outcome.stdout, outcome.stderr) == ("finished", 3, "out\n", "err\n")
    assert outcome.isolation == mode and outcome.seconds < 5


def test_a_child_sees_only_the_allowlisted_environment(mode, workdir, monkeypatch):
    monkeypatch.setenv("WORKBOOK_TEST_MARKER", "the-graders-secret")
    outcome = python("import json, os; print(json.dumps(dict(os.environ)))", workdir, env={"DATABASE_URL": "x"})
    seen = json.loads(outcome.stdout)
    assert "the-graders-secret" not in outcome.stdout, f"The parent's variable leaked into the child: {seen}"
    allowed = {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONDONTWRITEBYTECODE", "DATABASE_URL", "PWD"}  # bwrap sets PWD
    assert set(seen) <= allowed and seen["DATABASE_URL"] == "x", f"Unexpected variables: {set(seen) - allowed}"


def test_a_child_can_write_its_workdir_and_home(mode, workdir):
    code = "import os; open('made.txt', 'w').write('ok'); open(os.path.expanduser('~/x'), 'w').write('ok')"
    outcome = python(code, workdir)
    assert outcome.returncode == 0, outcome.stderr
    assert (workdir / "made.txt").read_text() == "ok"


WRITE_EACH = """
import sys
for path in sys.argv[1:]:
    try:
        open(path, "w").write("changed")
    except OSError as error:
        print(error)
"""


def test_a_child_cannot_write_outside_its_folders(mode, workdir, protected, tmp_path):
    outside = tmp_path / "graders-file.txt"
    outside.write_text("original")
    outcome = python(WRITE_EACH, workdir, args=[str(outside), str(tmp_path / "new.txt")])
    assert outside.read_text() == "original" and not (tmp_path / "new.txt").exists()
    assert outcome.stdout.count("Errno") == 2, outcome.stdout


READ_EACH = """
import sys
for path in sys.argv[1:]:
    try:
        print(open(path).read())
    except OSError as error:
        print(error)
"""


def test_a_sibling_submission_the_repo_and_the_real_home_are_not_readable_under_bubblewrap(
    bubblewrap, workdir, tmp_path
):
    sibling = tmp_path / "other-learner" / "app.py"
    sibling.parent.mkdir()
    sibling.write_text("secret")
    at_home = Path.home() / f".workbook-sandbox-test-{uuid.uuid4().hex}"
    at_home.write_text("secret")
    try:
        outcome = python(READ_EACH, workdir, args=[str(sibling), str(at_home), sandbox.__file__])
    finally:
        at_home.unlink()
    assert "secret" not in outcome.stdout and outcome.stdout.count("Errno") == 3, outcome.stdout


def test_the_terminal_cannot_be_opened(mode, workdir):
    outcome = python("open('/dev/tty', 'w')", workdir)
    assert outcome.returncode == 1 and "OSError: [Errno 6]" in outcome.stderr, outcome.stderr


SIGNAL_PARENTS = """
import os, signal, sys
for pid in (os.getppid(), int(sys.argv[1])):
    for number in (signal.SIGKILL, signal.SIGSTOP):
        try:
            os.kill(pid, number)
            print("sent", number, "to", pid)
        except OSError as error:
            print(error)
"""


def test_a_child_cannot_kill_or_stop_the_grader(mode, workdir, protected):
    outcome = python(SIGNAL_PARENTS, workdir, args=[str(os.getpid())])  # its parent, and this test process
    assert outcome.returncode == 0 and "sent" not in outcome.stdout, outcome.stdout + outcome.stderr


# --- limits and the end ----------------------------------------------------------------------------

FORK_UNTIL_REFUSED = """
import os, time
forked = 0
try:
    for _ in range(1000):
        if os.fork() == 0:
            time.sleep(30)
        forked += 1
except OSError as error:
    print(forked, error)
"""


def test_a_fork_bomb_is_bounded_by_the_processes_limit(mode, workdir, protected):
    outcome = python(FORK_UNTIL_REFUSED, workdir, Limits(seconds=5, processes=20))
    forked = int(outcome.stdout.split()[0])
    # The kernel counts the child's processes per user namespace, so whether the forking process
    # itself counts depends on the mode: at most the limit, and refused well before 1000.
    assert forked <= 20 and "Resource temporarily unavailable" in outcome.stdout, outcome.stdout
    assert outcome.seconds < 5, "the forks should fail at once, not at the time limit"


FORK_FOREVER = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""


def test_a_runaway_fork_bomb_ends_at_the_time_limit_leaving_nothing(mode, workdir, protected):
    marker = f"bomb-{uuid.uuid4().hex}"
    started = time.monotonic()
    outcome = python(FORK_FOREVER, workdir, Limits(seconds=1.5, processes=30), args=[marker])
    assert outcome.verdict == "timed out" and time.monotonic() - started < 4
    assert wait_for(lambda: not pids_running(marker)), f"Left over: {pids_running(marker)}"


SLEEP_WITH_A_GRANDCHILD = """
import subprocess, sys, time
grandchild = [sys.executable, "-c", "import time; time.sleep(60)", sys.argv[1] + "-grandchild"]
subprocess.Popen(grandchild, start_new_session=True)
time.sleep(60)
"""


def test_a_sleeping_child_and_its_own_session_grandchild_are_killed_at_the_time_limit(mode, workdir):
    marker = f"sleeper-{uuid.uuid4().hex}"
    child = sandbox.start(
        [sys.executable, "-c", SLEEP_WITH_A_GRANDCHILD, marker], workdir=workdir, limits=Limits(seconds=1.5)
    )
    grandchild = wait_for(lambda: pids_running(f"{marker}-grandchild"))
    assert grandchild, "the grandchild did not start"
    outcome = child.wait(timeout=10)
    assert outcome.verdict == "timed out" and 1.4 < outcome.seconds < 3, outcome
    assert wait_for(lambda: not alive(grandchild[0])), f"The grandchild {grandchild[0]} outlived the time limit"


LEAVE_A_DAEMON = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        daemon = [sys.executable, "-c", "import time; time.sleep(30)", sys.argv[1] + "-daemon"]
        os.execv(sys.executable, daemon)
    os._exit(0)
time.sleep(0.5)
"""


def test_a_daemon_that_outlives_its_parent_is_killed_under_bubblewrap(bubblewrap, workdir):
    marker = f"daemon-{uuid.uuid4().hex}"
    child = sandbox.start([sys.executable, "-c", LEAVE_A_DAEMON, marker], workdir=workdir, limits=SHORT)
    daemon = wait_for(lambda: pids_running(f"{marker}-daemon"))
    assert child.wait(timeout=10).verdict == "finished"
    assert daemon and wait_for(lambda: not alive(daemon[0])), "The daemon outlived the sandbox"


def test_process_mode_cannot_find_a_daemon_whose_parent_exited(workdir, monkeypatch):
    """What holds without bubblewrap: the group and live descendants die; an orphaned daemon is out of reach."""
    monkeypatch.setenv("WORKBOOK_SANDBOX", "process")
    marker = f"daemon-{uuid.uuid4().hex}"
    child = sandbox.start([sys.executable, "-c", LEAVE_A_DAEMON, marker], workdir=workdir, limits=SHORT)
    daemon = wait_for(lambda: pids_running(f"{marker}-daemon"))
    child.wait(timeout=10)
    try:
        assert daemon and alive(daemon[0])
    finally:
        for pid in daemon:
            os.kill(pid, signal.SIGKILL)


def test_stop_ends_a_running_child_and_says_so(mode, workdir):
    with sandbox.start([sys.executable, "-c", "import time; time.sleep(30)"], workdir=workdir, limits=SHORT) as child:
        assert child.running and child.outcome() is None
    assert child.outcome().verdict == "stopped" and not alive(child.pid)


def test_a_child_started_from_a_thread_outlives_that_thread(mode, workdir):
    """bwrap's --die-with-parent watches the thread that started it: children are started from a lasting one."""
    started = []

    def start_then_end():
        started.append(
            sandbox.start([sys.executable, "-c", "import time; time.sleep(30)"], workdir=workdir, limits=SHORT)
        )
        time.sleep(0.3)  # long enough for bwrap to set its parent-death signal

    thread = threading.Thread(target=start_then_end)
    thread.start()
    thread.join()
    time.sleep(0.3)
    with started[0] as child:
        assert child.running, f"The child ended with its starting thread: {child.outcome()}"


def test_a_memory_balloon_is_reported_as_out_of_memory(mode, workdir):
    outcome = python("held = bytearray(2500 * 2**20)", workdir, Limits(seconds=5))  # the default memory limit
    assert outcome.verdict == "out of memory", outcome


def test_building_a_huge_string_is_reported_as_out_of_memory(mode, workdir):
    outcome = python("s = 'x' * 2**28\nprint(s + s)", workdir, Limits(seconds=5, memory_mb=512))
    assert outcome.verdict == "out of memory", outcome


def test_a_huge_file_is_stopped_by_the_file_size_limit(mode, workdir):
    outcome = python("open('big', 'wb').write(bytes(10 * 2**20))", workdir, Limits(seconds=5, file_size_mb=2))
    assert outcome.verdict == "file too large", outcome
    assert (workdir / "big").stat().st_size <= 2 * 2**20


def test_only_the_end_of_a_huge_output_is_kept(mode, workdir):
    outcome = python("import sys\nsys.stdout.write('x' * 50 * 2**20)\nprint('the end')", workdir)
    assert len(outcome.stdout) <= 64 * 2**10 and outcome.stdout.endswith("the end\n")


# --- servers -----------------------------------------------------------------------------------------

ASGI_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello from the sandbox"})
"""


def unix_client(socket: Path) -> httpx.Client:
    """How the grader talks to a server in the sandbox, which has no network: over its Unix socket."""
    return httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://sandbox", timeout=10)


def test_a_server_on_a_unix_socket_answers_the_grader(mode, workdir):
    (workdir / "tiny.py").write_text(ASGI_APP)
    socket = workdir / "server.sock"
    argv = [sys.executable, "-m", "uvicorn", "tiny:app", "--uds", str(socket), "--log-level", "warning"]
    with sandbox.start(argv, workdir=workdir, limits=Limits(seconds=10)) as child:
        assert wait_for(socket.exists), f"uvicorn made no socket: {child.stop().stderr}"
        with unix_client(socket) as client:
            response = client.get("/")
    assert response.text == "hello from the sandbox", response.text
    assert child.outcome().verdict == "stopped"


FASTAPI_APP = """
import time
from fastapi import FastAPI
from sqlmodel import Field, Session, SQLModel, create_engine, select

class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)

engine = create_engine("sqlite:///tasks.db", connect_args={"check_same_thread": False})
SQLModel.metadata.create_all(engine)
app = FastAPI()

@app.get("/")
def count():
    time.sleep(0.2)  # holds a worker thread, so the pool grows
    with Session(engine) as session:
        session.add(Task())
        session.commit()
        return len(session.exec(select(Task)).all())
"""


def test_the_default_limits_let_a_fastapi_app_fill_its_thread_pool(mode, workdir):
    (workdir / "main.py").write_text(FASTAPI_APP)
    socket = workdir / "server.sock"
    argv = [sys.executable, "-m", "uvicorn", "main:app", "--uds", str(socket), "--log-level", "warning"]
    with sandbox.start(argv, workdir=workdir, limits=Limits(seconds=20)) as child:
        assert wait_for(socket.exists, 15), f"uvicorn made no socket: {child.stop().stderr}"
        with unix_client(socket) as client, ThreadPoolExecutor(50) as pool:
            codes = list(pool.map(lambda _: client.get("/").status_code, range(50)))
    assert codes == [200] * 50, f"{child.outcome().stderr[-2000:]}"


# --- doctor ------------------------------------------------------------------------------------------


def test_doctor_says_what_this_machine_supports():
    lines = sandbox.doctor()
    assert lines[0].startswith("bubblewrap: ") and any(line.startswith("uid (process): ") for line in lines)
    assert any("RLIMIT_DATA" in line for line in lines)


# --- copying a submission ----------------------------------------------------------------------------


@pytest.fixture
def submission(tmp_path) -> Path:
    folder = tmp_path / "submitted"
    (folder / "app" / "__pycache__").mkdir(parents=True)
    (folder / "app" / "main.py").write_text("app = None\n")
    (folder / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (folder / "tasks.db").write_bytes(b"sqlite")
    return folder


def test_a_copy_leaves_out_databases_and_caches(submission, tmp_path):
    copy = copy_submission(submission, tmp_path / "copy")
    copied = sorted(str(p.relative_to(copy)) for p in copy.rglob("*"))
    assert copied == ["app", "app/main.py"]
    assert (submission / "tasks.db").exists() and (submission / "app" / "__pycache__").exists()


def test_a_link_to_a_file_inside_is_copied_as_that_file(submission, tmp_path):
    (submission / "app" / "alias.py").symlink_to("main.py")
    copy = copy_submission(submission, tmp_path / "copy")
    assert not (copy / "app" / "alias.py").is_symlink() and (copy / "app" / "alias.py").read_text() == "app = None\n"


def test_a_link_pointing_outside_is_refused_and_nothing_is_copied(submission, tmp_path):
    (tmp_path / "graders-secret").write_text("secret")
    (submission / "app" / "config.py").symlink_to(tmp_path / "graders-secret")
    with pytest.raises(SubmissionRefused, match=r"^app/config.py is a symbolic link to .*, outside the submission"):
        copy_submission(submission, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_a_submission_over_the_size_cap_is_refused(submission, tmp_path):
    (submission / "app" / "data.json").write_bytes(bytes(2 * 2**20))
    with pytest.raises(SubmissionRefused, match=r"larger than 1 MB \(stopped at app/data.json, 2.0 MB\)"):
        copy_submission(submission, tmp_path / "copy", max_bytes=2**20)


def test_a_submission_with_too_many_files_is_refused(submission, tmp_path):
    for number in range(5):
        (submission / "app" / f"module{number}.py").write_text("")
    with pytest.raises(SubmissionRefused, match="more than 4 files and folders"):
        copy_submission(submission, tmp_path / "copy", max_files=4)


def test_a_shared_folder_is_writable_under_bubblewrap_and_keeps_its_owner(bubblewrap, workdir, tmp_path):
    """A service's socket folder (a database server's, say) is shown to the child as it is, never handed over."""
    shared = tmp_path / "service"
    shared.mkdir()
    shared.chmod(0o777)
    owner = shared.stat().st_uid
    code = "import sys; open(sys.argv[1] + '/from-the-child', 'w').write('x')"
    outcome = sandbox.run([sys.executable, "-c", code, str(shared)], workdir=workdir, limits=SHORT, shared=(shared,))
    assert outcome.ok, outcome.stderr
    assert (shared / "from-the-child").exists() and shared.stat().st_uid == owner
