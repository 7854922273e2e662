"""workbook.suite_run: one child per run of a learner's suite, and what the grader reads of it.

`run` is the seam workbook.sandbox will replace: exactly the environment it is given, no stdin, its
own process group killed whole at the end or at the time limit. `run_tests` runs pytest the grader's
way (its empty config, its plugins, pytest-timeout), and `read_events` turns the child's event log
into outcomes per test.
"""

import json
import os
import sys
import time
from pathlib import Path

from workbook.suite_run import Limits, Outcome, read_events, run, run_tests


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a killed orphan may wait a while for init to reap it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z")


def test_the_child_sees_only_the_environment_it_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_ONLY", "secret")
    outcome = run(
        python("import os, json; print(json.dumps(dict(os.environ)))"),
        workdir=tmp_path,
        env={"PATH": os.defpath, "ONLY_THIS": "1"},
        limits=Limits(20),
    )
    seen = json.loads(outcome.stdout)
    assert seen.get("ONLY_THIS") == "1" and "GRADER_ONLY" not in seen, seen
    assert outcome.verdict == "finished" and outcome.returncode == 0


def test_the_child_has_no_stdin_and_runs_in_its_folder(tmp_path):
    outcome = run(
        python("import os, sys; print(repr(sys.stdin.read()), os.getcwd())"),
        workdir=tmp_path,
        env={"PATH": os.defpath},
        limits=Limits(20),
    )
    assert outcome.stdout.split() == ["''", str(tmp_path)]


def test_a_child_past_its_time_limit_is_killed_with_everything_it_started(tmp_path, monkeypatch):
    # The pids it checks are this machine's: under bubblewrap they live in the child's own pid namespace
    # (tests/test_sandbox.py checks that case by what survives).
    monkeypatch.setenv("WORKBOOK_SANDBOX", "process")
    marker = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    started = time.monotonic()
    outcome = run(python(code), workdir=tmp_path, env={"PATH": os.defpath}, limits=Limits(3))
    assert outcome.verdict == "timed out" and time.monotonic() - started < 15
    time.sleep(0.2)
    assert not is_running(int(marker.read_text())), "the whole process group should be killed"


def test_a_child_that_exits_leaves_nothing_running(tmp_path, monkeypatch):
    # The pids it checks are this machine's: under bubblewrap they live in the child's own pid namespace
    # (tests/test_sandbox.py checks that case by what survives).
    monkeypatch.setenv("WORKBOOK_SANDBOX", "process")
    marker = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
    )
    outcome = run(python(code), workdir=tmp_path, env={"PATH": os.defpath}, limits=Limits(20))
    assert outcome.verdict == "finished"
    time.sleep(0.2)
    assert not is_running(int(marker.read_text())), "what the child started should be killed with it"


def write_suite(folder: Path, **files: str) -> Path:
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    (folder / "tests").mkdir()
    for name, source in files.items():
        (folder / "tests" / f"{name}.py").write_text(source)
    return folder


def test_run_tests_reports_each_test_and_ignores_the_submissions_configuration(tmp_path):
    suite = "def test_passes():\n    pass\n\n\ndef test_fails():\n    assert 1 == 2\n"
    copy = write_suite(tmp_path / "copy", test_a=suite)
    (copy / "pytest.ini").write_text("[pytest]\naddopts = --collect-only\n")  # would run nothing if it counted
    (tmp_path / "scratch").mkdir()
    found = run_tests(copy, tmp_path / "scratch", seconds=60)
    outcomes = {test.name: test.outcome for test in found.tests.values()}
    assert outcomes == {"test_passes": "passed", "test_fails": "failed"}, found.outcome.stdout
    assert found.finished and found.running is None
    assert "assert 1 == 2" in found.tests["tests/test_a.py::test_fails"].message


def test_a_test_past_30_seconds_is_failed_as_timed_out(tmp_path, monkeypatch):
    monkeypatch.setattr("workbook.suite_run.TEST_SECONDS", 2)
    copy = write_suite(tmp_path / "copy", test_slow="import time\n\ndef test_sleeps():\n    time.sleep(600)\n")
    (tmp_path / "scratch").mkdir()
    found = run_tests(copy, tmp_path / "scratch", seconds=60)
    test = found.tests["tests/test_slow.py::test_sleeps"]
    assert (test.outcome, test.timed_out) == ("failed", True)
    assert found.caught_by == [], "a time-out is not a catch"


def test_a_run_killed_at_its_limit_names_the_test_that_was_running(tmp_path):
    slow = "import time\nimport pytest\n\n@pytest.mark.timeout(0)\ndef test_never_returns():\n    time.sleep(600)\n"
    copy = write_suite(tmp_path / "copy", test_first="def test_quick():\n    pass\n", test_slow=slow)
    (tmp_path / "scratch").mkdir()
    found = run_tests(copy, tmp_path / "scratch", seconds=8)
    assert found.outcome.verdict == "timed out" and not found.finished
    assert found.running == "tests/test_slow.py::test_never_returns"
    assert found.tests["tests/test_first.py::test_quick"].outcome == "passed"


def test_read_events_fails_a_test_on_a_failure_in_any_phase(tmp_path):
    events = [
        {"event": "collected", "nodeids": ["t::a", "t::b"]},
        {"event": "start", "nodeid": "t::a"},
        {"event": "report", "nodeid": "t::a", "when": "setup", "outcome": "passed", "message": ""},
        {"event": "report", "nodeid": "t::a", "when": "call", "outcome": "passed", "message": ""},
        {"event": "report", "nodeid": "t::a", "when": "teardown", "outcome": "failed", "message": "boom"},
        {"event": "start", "nodeid": "t::b"},
        {"event": "report", "nodeid": "t::b", "when": "setup", "outcome": "skipped", "message": ""},
        {"event": "report", "nodeid": "t::b", "when": "teardown", "outcome": "passed", "message": ""},
    ]
    log = tmp_path / "events.jsonl"
    log.write_text("\n".join(json.dumps(event) for event in events) + '\n{"event": "rep')  # cut short by a kill
    found = read_events(log, Outcome("timed out", -9, "", "", 1.0, "process"))
    assert {test.nodeid: test.outcome for test in found.tests.values()} == {"t::a": "failed", "t::b": "skipped"}
    assert found.tests["t::a"].message == "boom" and found.running is None and not found.finished


def test_enough_stops_the_run_after_the_test_it_was_waiting_for(tmp_path):
    many = "import time\n\n\n" + "".join(
        f"def test_{number}():\n    time.sleep(0.1)\n    assert {number} != 3\n\n\n" for number in range(1, 30)
    )
    copy = write_suite(tmp_path / "copy", test_many=many)
    (tmp_path / "scratch").mkdir()
    found = run_tests(copy, tmp_path / "scratch", seconds=60, enough=lambda event: event.get("outcome") == "failed")
    assert found.finished and found.tests["tests/test_many.py::test_3"].outcome == "failed"
    assert len(found.tests) < 29, "the run should stop soon after the failure, not run every test"
