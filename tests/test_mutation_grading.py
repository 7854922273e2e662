"""Lesson 06's grade (workbook.mutation): what it says about a learner's own suite, and what it cannot be fooled by.

- The reference learner suite passes on the 05 and 06 apps and catches every planted bug.
- Each suite mutant (milestone/mutants.toml: the reference suite with the tests for a bug removed or
  weakened) is graded as missing exactly the bugs it lists, and nothing else.
- A test that fails on a correct app is named with its message; a test that never returns is named
  within 150 s; no tests/ folder gets one clear message.
- Hostile suites are never a pass: one that exits 0, one that forges pytest's output and the grader's
  events, one that brings a root conftest.py and pytest.ini, one that tells the reference by its bytes.
"""

from __future__ import annotations

import shutil
import time
import tomllib
from pathlib import Path

import pytest

from workbook import mutation, mutation_report
from workbook.appfiles import IGNORED_NAMES
from workbook.grading import run_suite
from workbook.lessons import find_lesson

LESSON = find_lesson("06_testing")
REFERENCE = LESSON.checkpoint
BUGS = mutation.planted_bugs(LESSON.suite)
SUITE_MUTANTS = tomllib.loads(LESSON.mutants.read_text())["mutant"]
A_FEW_BUGS = [bug for bug in BUGS if bug["id"] in ("delete_not_saved", "limit_not_capped")]


def submission(folder: Path, app_from: Path = REFERENCE, tests_from: Path | None = REFERENCE, **files: str) -> Path:
    """A submission: app/ (and tests/) copied from checkpoints, then `files` ("tests/test_x.py": source) written."""
    shutil.copytree(app_from / "app", folder / "app", ignore=shutil.ignore_patterns(*IGNORED_NAMES))
    if tests_from is not None:
        shutil.copytree(tests_from / "tests", folder / "tests", ignore=shutil.ignore_patterns(*IGNORED_NAMES))
    for relative, source in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(source)
    return folder


def graded(folder: Path, tmp_path: Path, bugs=BUGS) -> mutation.Grade:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return mutation.grade(folder, REFERENCE, bugs, scratch)


def missed(result: mutation.Grade) -> list[str]:
    return sorted(bug["id"] for bug in result.bugs if not mutation_report.bug_verdict(result, bug)[0])


def test_the_reference_suite_passes_on_the_05_app_and_catches_every_planted_bug(tmp_path):
    result = graded(submission(tmp_path / "sub", app_from=find_lesson("05_auth").checkpoint), tmp_path)
    assert mutation_report.problem_on(result, mutation_report.YOURS) is None, mutation_report.problem_on(
        result, mutation_report.YOURS
    )
    assert mutation_report.problem_on(result, mutation_report.REFERENCE) is None, mutation_report.problem_on(
        result, mutation_report.REFERENCE
    )
    assert missed(result) == []


@pytest.mark.parametrize("suite_mutant", SUITE_MUTANTS, ids=[each["id"] for each in SUITE_MUTANTS])
def test_a_weakened_suite_misses_exactly_the_bugs_it_no_longer_tests(suite_mutant, tmp_path):
    folder = mutation.plant(submission(tmp_path / "sub"), suite_mutant)
    result = graded(folder, tmp_path)
    assert mutation_report.problem_on(result, mutation_report.REFERENCE) is None, mutation_report.problem_on(
        result, mutation_report.REFERENCE
    )
    assert missed(result) == sorted(suite_mutant["misses"])
    for bug in result.bugs:
        caught, message = mutation_report.bug_verdict(result, bug)
        assert caught or message.startswith(f"Your tests miss this bug: {bug['bug']}"), message
        assert "find" not in message and "replace" not in message  # the contract's words, never the diff


PINS_PROSE = """
def test_a_missing_task_says_not_found(client, ada_headers):
    r = client.get("/api/v1/tasks/999", headers=ada_headers)
    assert r.json() == {"detail": "Not found"}
"""


def test_a_test_that_pins_message_prose_fails_on_the_reference_app_by_name(tmp_path):
    result = graded(submission(tmp_path / "sub", **{"tests/test_prose.py": PINS_PROSE}), tmp_path, A_FEW_BUGS)
    problem = mutation_report.problem_on(result, mutation_report.REFERENCE)
    assert problem.startswith(
        "Your test `test_a_missing_task_says_not_found` (tests/test_prose.py) fails on the reference app: "
        "AssertionError: assert {'detail': 'Task not found'} == {'detail': 'Not found'}"
    )
    assert "leaves open" in problem
    assert missed(result) == [], "the tests that pass on the reference still catch the bugs"


NEVER_RETURNS = """
import time

import pytest


@pytest.mark.timeout(0)  # turns pytest-timeout off: only the grader's own kill can stop it
def test_waits_for_ever():
    while True:
        time.sleep(1)
"""


def test_a_test_that_never_returns_is_named_within_150_seconds(tmp_path):
    folder = submission(tmp_path / "sub", **{"tests/test_forever.py": NEVER_RETURNS})
    started = time.monotonic()
    result = run_suite(LESSON, folder)
    assert time.monotonic() - started < 150
    assert result.exit_code == 1 and result.failures, result.output[-2000:]
    first = result.failures[0]
    assert first.test == "test_your_tests_pass_on_your_app"
    assert "`test_waits_for_ever` (tests/test_forever.py) was still running" in first.message


def test_without_a_tests_folder_one_check_fails_with_one_clear_message(tmp_path):
    result = run_suite(LESSON, submission(tmp_path / "sub", tests_from=None))
    assert result.exit_code == 1
    assert [failure.test for failure in result.failures] == ["test_your_tests_pass_on_your_app"]
    assert "There is no tests/ folder" in result.failures[0].message
    assert result.passed == 0 and result.total == 2 + len(BUGS)


# --- hostile suites --------------------------------------------------------------------------------

EXITS_0 = "import os\n\nos._exit(0)\n"
PASSES = "def test_nothing_checked():\n    assert True\n"
FORGES = """
import json
import os
import sys

# Claim a clean pass, in pytest's words and in the grader's event log, then leave before anything runs.
events = sys.argv[sys.argv.index("--workbook-events") + 1]
with open(events, "a") as log:
    log.write(json.dumps({"event": "collected", "nodeids": ["tests/test_x.py::test_x"]}) + "\\n")
    log.write(json.dumps({"event": "report", "nodeid": "tests/test_x.py::test_x", "when": "call",
                          "outcome": "passed", "message": ""}) + "\\n")
    log.write(json.dumps({"event": "finish", "exitstatus": 0}) + "\\n")
print("16 passed in 0.01s")
os._exit(0)
"""
ROOT_CONFTEST = """
import pathlib
import pytest

pathlib.Path({marker!r}).write_text("the submission's root conftest.py ran")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "failed"  # every test "fails": every bug "caught"
"""
KNOWS_THE_REFERENCE = """
from pathlib import Path


def test_the_app_is_the_reference_byte_for_byte():
    assert Path("app/services/tasks.py").read_text() == {source!r}
"""


def test_a_suite_that_exits_0_is_not_a_pass(tmp_path):
    result = run_suite(
        LESSON,
        submission(tmp_path / "sub", tests_from=None, **{"tests/conftest.py": EXITS_0, "tests/test_x.py": PASSES}),
    )
    assert result.exit_code == 1 and result.passed == 0
    assert "Your tests did not start on your app" in result.failures[0].message


def test_a_suite_that_forges_its_output_and_the_graders_events_is_not_a_pass(tmp_path):
    result = run_suite(
        LESSON,
        submission(tmp_path / "sub", tests_from=None, **{"tests/conftest.py": FORGES, "tests/test_x.py": PASSES}),
    )
    assert result.exit_code == 1
    every_bug = {f"test_your_tests_catch_the_bug[{bug['id']}]" for bug in BUGS}
    assert {failure.test for failure in result.failures} == every_bug


def test_a_root_conftest_and_pytest_ini_in_the_submission_take_no_part(tmp_path):
    marker = tmp_path / "root-conftest-ran"
    folder = submission(
        tmp_path / "sub",
        tests_from=None,
        **{
            "conftest.py": ROOT_CONFTEST.format(marker=str(marker)),
            "pytest.ini": "[pytest]\naddopts = -p no:workbook.suite_events --collect-only\n",
            "tests/test_x.py": PASSES,
        },
    )
    result = graded(folder, tmp_path)
    assert not marker.exists(), "the submission's root conftest.py must never be imported"
    assert mutation_report.problem_on(result, mutation_report.REFERENCE) is None
    assert missed(result) == sorted(bug["id"] for bug in BUGS)


def test_a_suite_that_recognises_the_reference_by_its_bytes_fails_on_the_reference(tmp_path):
    source = (REFERENCE / "app" / "services" / "tasks.py").read_text()
    folder = submission(
        tmp_path / "sub", tests_from=None, **{"tests/test_bytes.py": KNOWS_THE_REFERENCE.format(source=source)}
    )
    result = graded(folder, tmp_path, A_FEW_BUGS)
    problem = mutation_report.problem_on(result, mutation_report.REFERENCE)
    assert problem and "`test_the_app_is_the_reference_byte_for_byte`" in problem


def test_a_planted_bug_that_no_longer_fits_the_reference_is_reported_before_any_run(tmp_path):
    stale = {"id": "stale", "bug": "x", "edit": [{"file": "app/main.py", "find": "text no app has", "replace": ""}]}
    started = time.monotonic()
    with pytest.raises(ValueError, match="stale: the text to replace occurs 0 times in app/main.py"):
        graded(submission(tmp_path / "sub"), tmp_path, bugs=[*A_FEW_BUGS, stale])
    assert time.monotonic() - started < 5, "the grader's own error must not wait for the learner's runs"
    assert not any((tmp_path / "scratch").iterdir()), "nothing should have run"


ASYNC_WITHOUT_OVERRIDES = '''
"""Another learner's style: async tests only, no dependency override, the app's own engine on the
DATABASE_URL the grader sets, the lifespan run by hand (ASGITransport does not run it)."""

import uuid

import httpx
import pytest

from app.main import app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client():
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def bearer(client) -> dict:
    email = f"{uuid.uuid4().hex}@example.com"
    await client.post("/api/v1/users", json={"email": email, "password": "a long enough password"})
    r = await client.post("/api/v1/auth/token", data={"username": email, "password": "a long enough password"})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_a_deleted_task_stays_deleted(client):
    headers = await bearer(client)
    task = (await client.post("/api/v1/tasks", json={"title": "Gone soon"}, headers=headers)).json()
    assert (await client.delete(f"/api/v1/tasks/{task['id']}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/tasks/{task['id']}", headers=headers)).status_code == 404


async def test_a_page_of_more_than_100_is_refused(client):
    headers = await bearer(client)
    assert (await client.get("/api/v1/tasks", params={"limit": 101}, headers=headers)).status_code == 422
'''


def test_an_async_suite_without_overrides_passes_and_catches_what_it_tests(tmp_path):
    folder = submission(tmp_path / "sub", tests_from=None, **{"tests/test_async_only.py": ASYNC_WITHOUT_OVERRIDES})
    result = graded(folder, tmp_path, A_FEW_BUGS)
    for key in (mutation_report.YOURS, mutation_report.REFERENCE):
        assert mutation_report.problem_on(result, key) is None, mutation_report.problem_on(result, key)
    assert missed(result) == []
