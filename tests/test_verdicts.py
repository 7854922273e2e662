"""One verdict policy (workbook.verdicts): only a complete run in which exactly the suite's tests ran and passed
passes; a skip, a missing test, an early end or a missing report do not. A run out of time is ended from outside,
everything it started with it, and reported as timed out with the tests that had finished."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbook import verdicts
from workbook.appfiles import copy_app_folder
from workbook.child import proc_files
from workbook.grading import run_suite
from workbook.lessons import find_lesson
from workbook.suite_result import read_result

EXPECTED = ["s.py::a", "s.py::b"]


def judge(outcomes, **changes):
    given = dict(expected=EXPECTED, outcomes=outcomes, load_errors=[], grader_errors=[], incidents=set(), complete=True)
    return verdicts.judge(**{**given, **changes})


def test_only_every_expected_test_passing_is_a_pass():
    assert judge({"s.py::a": "passed", "s.py::b": "passed"}) == "passed"
    assert judge({"s.py::a": "passed", "s.py::b": "skipped"}) == "failed", "a skip is not a pass"
    assert judge({"s.py::a": "passed"}) == "failed", "a test that did not run is not a pass"
    assert judge({"s.py::a": "passed", "s.py::b": "passed", "s.py::c": "passed"}) == "failed", "nor one not expected"
    assert judge({}, expected=[]) == "grader error", "a suite that collected nothing grades nothing"


def test_how_a_run_ended_names_its_verdict():
    every = {"s.py::a": "passed", "s.py::b": "passed"}
    assert judge(every, complete=False) == "grader error", "a run that never wrote its end is not a pass"
    assert judge({"s.py::a": "passed"}, complete=False, incidents={"timed out"}) == "timed out"
    assert judge({"s.py::a": "failed"}, incidents={"out of memory"}) == "out of memory"
    assert judge({"s.py::a": "failed"}, incidents={"crashed"}) == "crashed"
    assert judge(every, load_errors=["no app"]) == "could not load"
    assert judge(every, grader_errors=["the sandbox did not start"]) == "grader error"
    assert [verdicts.exit_code(v) for v in verdicts.VERDICTS] == [3, 2, 1, 1, 1, 1, 0]


def test_a_report_that_its_exit_code_contradicts_is_a_grader_error(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"complete": True, "verdict": "passed", "expected": ["a"], "tests": []}))
    assert read_result(report, 1, False, 60, "", 1.0).verdict == "grader error"
    assert read_result(tmp_path / "missing.json", 0, False, 60, "", 1.0).verdict == "grader error"


def write_checkpoint(folder: Path, suite: str) -> Path:
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "main.py").write_text(
        'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/")\ndef root():\n    return {"ok": True}\n'
    )
    (folder / "milestone").mkdir()
    (folder / "milestone" / "test_it.py").write_text(suite)
    return folder


def grade(checkpoint: Path, report: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("WORKBOOK_APP_DIR", None)
    command = [sys.executable, "-m", "pytest", str(checkpoint / "milestone"), f"--app-dir={checkpoint}",
               "-p", "workbook.plugin", "-p", "no:cacheprovider", "--workbook-report", str(report), *extra]  # fmt: skip
    return subprocess.run(command, cwd=checkpoint, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "suite",
    [
        "import pytest\n\ndef test_a(client):\n    assert client.get('/').status_code == 200\n\n"
        "def test_b(client):\n    pytest.skip('later')\n",
        "import pytest\n\ndef test_a(client):\n    assert client.get('/').status_code == 200\n\n"
        "@pytest.mark.xfail\ndef test_b(client):\n    assert False\n",
    ],
    ids=["a skip", "an expected failure"],
)
def test_a_suite_run_with_a_test_that_did_not_pass_is_not_passed(suite, tmp_path):
    checkpoint = write_checkpoint(tmp_path / "checkpoint", suite)
    done = grade(checkpoint, tmp_path / "report.json")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "verdict: failed" in done.stdout
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verdict"] == "failed" and data["complete"] and len(data["expected"]) == 2


def test_a_passing_run_says_so_and_which_isolation_it_ran_under(tmp_path):
    suite = "def test_a(client):\n    assert client.get('/').json() == {'ok': True}\n"
    checkpoint = write_checkpoint(tmp_path / "checkpoint", suite)
    done = grade(checkpoint, tmp_path / "report.json")
    assert done.returncode == 0, done.stdout[-2000:]
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verdict"] == "passed" and data["isolation"] in ("bubblewrap", "process")


def test_a_run_out_of_time_is_ended_whole_and_reported_with_what_finished(tmp_path):
    """The whole run is bounded from outside: here 25 s, for an app whose every route but / hangs."""
    marker = f"stuck-{secrets.token_hex(4)}"
    app = copy_app_folder(find_lesson("01").checkpoint, tmp_path / "stuck")
    main = app / "app" / "main.py"
    main.write_text(
        main.read_text().replace('return {"status": "ok"}', f"import time\n    time.sleep(600)  # {marker}")
        + f'\nimport subprocess, sys\nsubprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)  # {marker}"])\n'
    )
    started = time.monotonic()
    result = run_suite(find_lesson("01"), app, extra_args=["--request-timeout", "60"], timeout=25)
    assert time.monotonic() - started < 60
    assert result.verdict == "timed out", result.output[-2000:]
    assert "did not finish within 25 s" in result.load_error
    assert result.passed >= 1 and result.total == 4, result.tests
    time.sleep(2)
    left = [p for p in proc_files("cmdline") if marker.encode() in _read(p)]
    assert not left, "the run out of time left processes behind"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


# --- the 05 suite's machinery, as plugin fixtures ---------------------------------------------------------

ORDERS = """
from workbook.testing import bearer


def test_client_first(client, people, routes):
    assert client.get(routes.me, headers=bearer(people.ada.token)).json() == people.ada.user


def test_people_first(people, client, routes):
    assert client.get(routes.me, headers=bearer(people.bob.token)).json() == people.bob.user


def test_reader_and_the_401_helper(reader, assert_turned_away, routes):
    assert_turned_away(reader.get(routes.me), "GET /users/me without a token", "")
"""


def test_the_plugin_fixtures_work_in_any_order(tmp_path):
    """`(client, people)` works as well as `(people, client)`: the client loads the app at its first request."""
    checkpoint = copy_app_folder(find_lesson("05").checkpoint, tmp_path / "checkpoint")
    (checkpoint / "milestone").mkdir()
    (checkpoint / "milestone" / "test_orders.py").write_text(ORDERS)
    done = grade(checkpoint, tmp_path / "report.json", "--api-prefix", "/api/v1")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "3 passed" in done.stdout


def test_an_app_that_slows_its_logins_gets_no_longer_event_loop_limit(tmp_path):
    """The limit on GET /health during a burst of logins is the grader's own measure of one hash: an app that
    hashes on the event loop cannot buy itself a longer limit with `await asyncio.sleep(2)` in its login."""
    app = copy_app_folder(find_lesson("05").checkpoint, tmp_path / "slow-logins")
    auth = app / "app" / "routers" / "auth.py"
    source = auth.read_text().replace("def log_in(", "async def log_in(", 1)
    source = source.replace(
        '    """Trade an email', '    import asyncio\n\n    await asyncio.sleep(2)\n    """Trade an email', 1
    )
    auth.write_text(source)
    result = run_suite(find_lesson("05"), app, extra_args=["-k", "burst"])
    [test] = [test for test in result.tests if "burst" in test.name]
    assert test.outcome == "failed", f"the blocking hash went unseen: {test}"
    assert "blocking the event loop" in test.message


def test_workbook_doctor_says_what_this_machine_supports():
    from typer.testing import CliRunner

    from workbook import cli

    result = CliRunner().invoke(cli.app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "bubblewrap:" in result.output and "uid (process)" in result.output
