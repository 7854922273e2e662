"""Advice (workbook.advice): a milestone test's warning reaches the learner's summary and never fails the check."""

from pathlib import Path

from typer.testing import CliRunner

from workbook import cli
from workbook.appfiles import copy_app_folder
from workbook.lessons import find_lesson
from workbook.suite_result import SuiteResult
from workbook.summary import summary


def check(app: Path, lesson: str):
    return CliRunner().invoke(cli.app, ["check", lesson, "--app-dir", str(app)], env={"COLUMNS": "200"})


def edited(lesson: str, destination: Path, file: str, find: str, replace: str) -> Path:
    app = copy_app_folder(find_lesson(lesson).checkpoint, destination)
    target = app / file
    assert target.read_text().count(find) == 1, f"{file} changed: update this test"
    target.write_text(target.read_text().replace(find, replace))
    return app


def test_the_summary_shows_each_advice_once_after_the_verdict():
    result = SuiteResult(exit_code=0, passed=3, total=3, advice=["Use FastAPIOffline.", "Use FastAPIOffline."])
    lines = summary(find_lesson("01"), result).splitlines()
    assert lines[0].startswith("All 3 checks pass.")
    assert lines[-1] == "Warning: Use FastAPIOffline." and lines.count("Warning: Use FastAPIOffline.") == 1


def test_a_stock_fastapi_app_passes_lesson_01_with_a_warning_about_docs(tmp_path):
    app = edited("01", tmp_path / "plain", "app/main.py", "FastAPIOffline(", "FastAPI(")
    main = app / "app" / "main.py"
    main.write_text(
        main.read_text().replace("from fastapi_offline import FastAPIOffline", "from fastapi import FastAPI")
    )
    done = check(app, "01")
    assert done.exit_code == 0, done.output
    assert "Warning: /docs loads its page from the internet" in done.output and "app/main.py" in done.output


def test_checkpoint_01_passes_without_a_warning():
    done = check(find_lesson("01").checkpoint, "01")
    assert done.exit_code == 0, done.output
    assert "Warning:" not in done.output


def test_a_short_default_secret_key_passes_lesson_05_with_a_warning(tmp_path):
    default = 'secret_key: str = "development-only-secret-key-change-me-0123456789"'
    app = edited("05", tmp_path / "short", "app/config.py", default, 'secret_key: str = "dev-secret"')
    done = check(app, "05")
    assert done.exit_code == 0, done.output
    assert "Warning: With no SECRET_KEY set, your app signs tokens with its default key" in done.output
