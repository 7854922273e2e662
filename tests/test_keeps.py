"""`workbook check NN` also runs the earlier suites the lesson's app keeps, in one process, and says which broke.

The summary tests use SuiteResults made here; the last tests grade real checkpoints.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from workbook import cli, keeps, suite_result
from workbook.appfiles import copy_app_folder
from workbook.grading import check_lesson
from workbook.keeps import SignedIn, option, separate_keeps, suite_arguments, suite_of
from workbook.lessons import find_lesson
from workbook.suite_result import Failure, SuiteResult
from workbook.summary import summary


def test_a_tests_suite_is_named_by_its_checkpoint():
    assert suite_of("checkpoints/03_database/milestone/test_crud.py::test_x") == "03_database"
    assert suite_of(Path("/repo/checkpoints/05_auth/milestone/test_users.py")) == "05_auth"
    assert suite_of("tests/test_cli.py::test_y") is None


def test_a_kept_suite_gets_its_own_options_and_others_the_command_lines():
    config = SimpleNamespace(
        getoption=lambda name, default=None: {
            "suite_options": ["03_database=--api-prefix /api/v1 --as-user"],
            "as_user": False,
            "api_prefix": "",
        }.get(name, default)
    )
    kept = SimpleNamespace(config=config, path=Path("/r/checkpoints/03_database/milestone/test_crud.py"))
    own = SimpleNamespace(config=config, path=Path("/r/checkpoints/05_auth/milestone/test_users.py"))
    assert option(kept, "as_user") is True and option(kept, "api_prefix") == "/api/v1"
    assert option(own, "as_user") is False and option(own, "api_prefix") == ""


def test_the_command_names_the_lessons_suite_first_then_each_kept_one_with_its_options():
    lesson = find_lesson("05")
    arguments = suite_arguments(lesson)
    assert arguments[0] == str(lesson.suite)
    assert "--suite-options=02_requests_and_validation=--api-prefix /api/v1 --as-user" in arguments
    assert str(find_lesson("01").suite) in arguments
    assert suite_arguments(find_lesson("01")) == [str(find_lesson("01").suite)]


def test_a_kept_suite_with_options_of_its_own_runs_in_a_process_of_its_own():
    lesson = find_lesson("08")
    assert ("05_auth", ["-p", "workbook.postgres", "--postgres"]) in separate_keeps(lesson)
    assert str(find_lesson("05").suite) not in suite_arguments(lesson)
    assert str(find_lesson("06").suite) in suite_arguments(lesson)


LESSON_04 = SimpleNamespace(number="04", slug="04_project_structure")


def result_of(suites: dict, failures=()) -> SuiteResult:
    """A result whose tests are `suites`' counts: {slug: (passed, total)}, the lesson's own first."""
    tests = [
        suite_result.TestResult(
            f"checkpoints/{slug}/milestone/test_x.py::test_{n}", f"test_{n}", "passed" if n < passed else "failed"
        )
        for slug, (passed, total) in suites.items()
        for n in range(total)
    ]
    return SuiteResult(
        exit_code=1 if failures else 0,
        passed=sum(p for p, _ in suites.values()),
        total=sum(t for _, t in suites.values()),
        failures=list(failures),
        lesson="04_project_structure",
        tests=tests,
    )


def _ada_and_a_dotenv_load(tmp_path: Path, dotenv: str):
    """Ada's database copy (a template file) and a load of the app whose test unset DATABASE_URL and wrote .env."""
    template = tmp_path / "ada.db"
    template.write_bytes(b"Ada and Bob")
    workdir = tmp_path / "copy"
    workdir.mkdir()
    (workdir / ".env").write_text(dotenv)
    people = SimpleNamespace(ada=SimpleNamespace(token="ada-token"))
    who = SignedIn(people, None, "grading-secret", template=template)
    load = SimpleNamespace(settings={"DATABASE_URL": None, "SECRET_KEY": "grading-secret"}, workdir=workdir)
    return who, load


def test_a_load_on_its_dotenvs_database_acts_as_ada_in_a_copy_of_hers(tmp_path, monkeypatch):
    who, load = _ada_and_a_dotenv_load(tmp_path, f"DATABASE_URL=sqlite:///{tmp_path / 'copy' / 'from-dotenv.db'}\n")
    monkeypatch.setattr("workbook.testing.sign_in_grader", lambda *_: pytest.fail("registered someone for real"))
    client = SimpleNamespace(headers={})
    keeps.seed_before_start(who, load)
    keeps.act_as(client, who, load, routes=None)
    assert (tmp_path / "copy" / "from-dotenv.db").read_bytes() == b"Ada and Bob"
    assert client.headers["Authorization"] == "Bearer ada-token"


def test_a_dotenv_naming_a_database_outside_the_copy_is_never_written_and_a_user_registers(tmp_path, monkeypatch):
    outside = tmp_path / "outside.db"
    who, load = _ada_and_a_dotenv_load(tmp_path, f'DATABASE_URL="sqlite:///{outside}"\n')
    registered = []
    monkeypatch.setattr("workbook.testing.sign_in_grader", lambda client, routes: registered.append(client))
    client = SimpleNamespace(headers={})
    keeps.seed_before_start(who, load)
    keeps.act_as(client, who, load, routes=None)
    assert not outside.exists()
    assert registered == [client] and "Authorization" not in client.headers


def test_done_reads_as_before_keeps_ran():
    """The text the notebooks' stored outputs hold: done means the kept suites passed too (exit 0)."""
    said = summary(
        LESSON_04, result_of({"04_project_structure": (27, 27), "01_hello_world": (4, 4), "03_database": (34, 34)})
    )
    assert said.startswith("All 27 checks pass. Lesson 04 is done.")


def test_an_earlier_lesson_that_broke_is_named_apart_from_the_lessons_own_checks():
    broken = [
        Failure("test_delete_answers_204", "After DELETE, GET should answer 404", "03_database"),
        Failure("test_delete_leaves_other_tasks_alone", "Only the deleted task", "03_database"),
    ]
    said = summary(LESSON_04, result_of({"04_project_structure": (27, 27), "03_database": (32, 34)}, broken))
    assert said.splitlines()[0] == (
        "Lesson 04 passes; 2 checks of lesson 03 no longer do: test_delete_answers_204, "
        "test_delete_leaves_other_tasks_alone."
    )
    assert "done only when" in said and "First failure: test_delete_answers_204 (a check of lesson 03)" in said


def test_the_first_failure_shown_is_the_most_basic_and_all_lists_each_in_a_line():
    failures = [
        Failure("test_patch_of_an_unknown_task", "PATCH should answer 404, got 405", "04_project_structure", "answer"),
        Failure("test_create", "No route answers POST /api/v1/tasks ...", "04_project_structure", "route"),
        Failure("test_read", "The app raised KeyError", "03_database", "crash"),
    ]
    said = summary(
        LESSON_04, result_of({"04_project_structure": (25, 27), "03_database": (33, 34)}, failures), every=True
    )
    assert "First failure: test_create\n" in said
    assert "- test_read (lesson 03): The app raised KeyError" in said
    assert said.index("Also, 1 check of lesson 03 no longer passes: test_read.") < said.index("Failing checks:")


# --- graded for real --------------------------------------------------------------------------------


@pytest.fixture
def breaks_a_03_behaviour(tmp_path) -> Path:
    """Checkpoint 04 whose service deletes without committing: the 04 suite passes, the 03 suite does not."""
    workspace = copy_app_folder(find_lesson("04").checkpoint, tmp_path / "workspace")
    service = workspace / "app" / "services" / "tasks.py"
    service.write_text(
        service.read_text().replace(
            "    session.delete(get_task(session=session, task_id=task_id))\n    session.commit()",
            "    session.delete(get_task(session=session, task_id=task_id))",
        )
    )
    return workspace


def test_check_04_fails_and_names_the_03_check_an_app_broke(breaks_a_03_behaviour, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(breaks_a_03_behaviour))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli.app, ["check", "04"])
    assert result.exit_code == 1, result.output
    assert "Lesson 04 passes; " in result.output and "of lesson 03 no longer" in result.output
    assert "test_delete_answers_204_with_no_body_then_the_task_is_gone" in result.output


def test_a_correct_app_passes_its_lesson_and_every_suite_it_keeps():
    """The kept checks share a started app (workbook.shared_loads). Three 03 checks (paging, deleting one of
    two) find the other checks' tasks there, fail, and pass on a load of their own: each is reported once."""
    lesson = find_lesson("05")
    result = check_lesson(lesson, lesson.checkpoint)
    assert result.ok, summary(lesson, result)
    assert result.kept == list(lesson.keeps)
    assert all(result.of(slug)[0] == result.of(slug)[1] > 0 for slug in [lesson.slug, *lesson.keeps])
    nodeids = [each.nodeid for each in result.tests]
    assert len(nodeids) == len(set(nodeids))
    assert any(each.endswith("test_offset_and_limit_select_a_page") for each in nodeids)
