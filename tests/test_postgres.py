"""The throwaway PostgreSQL server of lesson 08: an unprivileged user's, on loopback, always stopped and removed;
where PostgreSQL is missing, lesson 08's suite says so in one line and fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook.grading import run_suite
from workbook.lessons import find_lesson
from workbook.postgres_throwaway import MISSING, PostgresMissing, Throwaway


def test_the_server_runs_unprivileged_on_loopback_and_is_gone_after_stop():
    postgres = Throwaway()
    with postgres as server:
        pid, folder = postgres.process.pid, postgres.root
        assert server.host == "127.0.0.1"
        owner = Path(f"/proc/{pid}").stat().st_uid
        assert owner != 0 and (os.geteuid() != 0 or owner != os.geteuid())
        url = server.create_database("probe")
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT current_user")).scalar() == "grader_app"
            assert (
                connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar() is False
            )
        engine.dispose()
    assert not Path(f"/proc/{pid}").exists() and not folder.exists()


def test_without_the_binaries_the_server_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_POSTGRES_BIN", str(tmp_path))
    with pytest.raises(PostgresMissing, match="apt-get install postgresql"):
        Throwaway().start()


def test_without_postgresql_lesson_08s_suite_says_so_in_one_line_and_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_POSTGRES_BIN", str(tmp_path))
    lesson = find_lesson("08")

    result = run_suite(lesson, lesson.checkpoint)

    assert result.exit_code == 1, result.output[-2000:]
    lines = [line for line in result.output.splitlines() if "PostgreSQL is not installed" in line]
    assert len(lines) == 1 and MISSING in lines[0], result.output[-2000:]
    assert result.passed == 0 or result.passed < result.total
