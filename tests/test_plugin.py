"""The grading plugin, as an instructor meets it: `pytest SUITE --app-dir PATH`.

Each test grades a small app written into tmp_path with a small suite, in a fresh pytest
process, and reads what a person at the terminal would read.
"""

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

HELLO = """
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def read_root():
    return {"message": "Hello World"}
"""

SUITE = """
from workbook.testing import show


def test_root_says_hello(client):
    r = client.get("/")
    assert r.json() == {"message": "Hello World"}, f"GET / should answer Hello World, got {show(r)}"


def test_root_answers_200(client):
    r = client.get("/")
    assert r.status_code == 200, f"GET / should answer 200, got {show(r)}. Look at read_root."
"""

# A learner's broken app: its main.py, and what the one message must say.
BROKEN_APPS = {
    "syntax_error": ("from fastapi import FastAPI\napp = FastAPI(\n", ["app/main.py", "line 2", "SyntaxError"]),
    "missing_local_module": (
        "from fastapi import FastAPI\nfrom app.core.config import settings\napp = FastAPI()\n",
        ["app/main.py", "line 2", "app.core"],
    ),
    "missing_package": ("import not_installed_pkg\n", ["app/main.py", "line 1", "not_installed_pkg", "pip install"]),
    "misspelt_package": ("import sqlmodle\n", ["app/main.py", "line 1", "Did you mean 'sqlmodel'?"]),
    "misspelt_local_module": (
        "from app.modles import Task\n",
        ["app/main.py", "line 1", "Did you mean 'app.models'?"],
    ),
    "no_app": ("from fastapi import FastAPI\napplication = FastAPI()\n", ["app/main.py", "defines no `app`"]),
    "app_not_asgi": ("app = 'hello'\n", ["app/main.py", "not an ASGI app"]),
    "exits_at_import": ("import sys\nsys.exit(1)\n", ["app/main.py", "line 2", "sys.exit"]),
    "raises_at_import": ("settings = {}\nkey = settings['SECRET']\n", ["app/main.py", "line 2", "KeyError"]),
    "hangs_at_import": ("import time\nwhile True:\n    time.sleep(0.1)\n", ["app/main.py", "line 3", "did not finish"]),
    "startup_fails": (
        "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    raise RuntimeError('no database')\n    yield\n\n"
        "app = FastAPI(lifespan=lifespan)\n",
        ["app/main.py", "line 6", "RuntimeError", "lifespan"],
    ),
}


def write_app(folder: Path, main: str) -> Path:
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text("")
    (folder / "app" / "models.py").write_text("")
    (folder / "app" / "main.py").write_text(textwrap.dedent(main))
    return folder


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """A checkpoint-shaped folder: a correct app/ and a milestone/ suite."""
    checkpoint = write_app(tmp_path / "checkpoint", HELLO)
    (checkpoint / "milestone").mkdir()
    (checkpoint / "milestone" / "test_hello.py").write_text(SUITE)
    return checkpoint


def grade(suite: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("WORKBOOK_APP_DIR", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite / "milestone"),
            "-p",
            "workbook.plugin",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(suite.parent / "basetemp"),
            *args,
        ],
        cwd=suite.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_the_suite_grades_its_own_checkpoint_by_default(suite):
    run = grade(suite)
    assert run.returncode == 0, run.stdout


def test_naming_the_checkpoint_grades_its_milestone_and_never_loads_the_learners_tests(suite):
    """From lesson 06 a checkpoint holds tests/, the learner's own suite, beside milestone/."""
    (suite / "tests").mkdir()
    (suite / "tests" / "conftest.py").write_text("raise RuntimeError('the learner suite was loaded')\n")
    (suite / "tests" / "test_own.py").write_text("def test_own():\n    raise AssertionError('collected')\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("WORKBOOK_APP_DIR", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-p",
            "workbook.plugin",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(suite.parent / "basetemp"),
        ],
        cwd=suite.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr


def test_app_dir_grades_another_folder(suite, tmp_path):
    wrong = write_app(tmp_path / "learner", HELLO.replace("Hello World", "Hello"))
    run = grade(suite, "--app-dir", str(wrong))
    assert run.returncode == 1, run.stdout
    assert "1 failed, 1 passed" in run.stdout


def test_the_environment_variable_names_the_folder_too(suite, tmp_path):
    wrong = write_app(tmp_path / "learner", HELLO.replace("Hello World", "Hello"))
    env = {**os.environ, "WORKBOOK_APP_DIR": str(wrong), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite / "milestone"), "-p", "workbook.plugin"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout


@pytest.mark.parametrize("kind", BROKEN_APPS)
def test_a_broken_app_gives_one_clear_message_and_exit_2(suite, tmp_path, kind):
    main, must_say = BROKEN_APPS[kind]
    learner = write_app(tmp_path / "learner", main)
    started = time.monotonic()
    run = grade(suite, "--app-dir", str(learner))
    took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert took < 45, f"grading a broken app took {took:.0f} s"
    assert "Traceback" not in output, output
    assert len(output.splitlines()) <= 40, output
    for words in must_say:
        assert words in output, f"the message should say {words!r}:\n{output}"


def test_a_missing_main_py_is_named(suite, tmp_path):
    empty = tmp_path / "learner"
    empty.mkdir()
    run = grade(suite, "--app-dir", str(empty))
    assert run.returncode == 2
    assert "There is no app/main.py" in run.stdout


def test_a_handler_that_never_returns_fails_its_tests_without_hanging_the_run(suite, tmp_path):
    hangs = HELLO.replace(
        '    return {"message": "Hello World"}', "    import time\n    while True:\n        time.sleep(0.05)"
    )
    learner = write_app(tmp_path / "learner", hangs)
    started = time.monotonic()
    run = grade(suite, "--app-dir", str(learner), "--request-timeout", "3")
    assert run.returncode == 1, run.stdout
    assert time.monotonic() - started < 30
    assert "GET / did not answer within 3 s" in run.stdout
    assert "2 failed" in run.stdout


def test_a_failure_names_the_learners_line_not_the_frameworks(suite, tmp_path):
    crashes = HELLO.replace('    return {"message": "Hello World"}', '    greeting = {}\n    return greeting["text"]')
    learner = write_app(tmp_path / "learner", crashes)
    run = grade(suite, "--app-dir", str(learner))
    assert run.returncode == 1
    assert "The app raised KeyError: 'text'" in run.stdout
    assert "app/main.py, line 10, in read_root" in run.stdout
    assert "site-packages" not in run.stdout and "Traceback" not in run.stdout


def test_a_route_that_returns_nothing_is_told_in_plain_words(suite, tmp_path):
    forgot = HELLO.replace(
        "from fastapi import FastAPI",
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\n\n\nclass Greeting(BaseModel):\n    message: str\n",
    )
    forgot = forgot.replace('@app.get("/")', '@app.get("/", response_model=Greeting)').replace(
        '    return {"message"', '    {"message"'
    )
    learner = write_app(tmp_path / "learner", forgot)
    run = grade(suite, "--app-dir", str(learner))
    assert "did you forget `return`?" in run.stdout
    assert "app-copy" not in run.stdout, "paths inside the graded copy are shown relative to the learner's folder"


def test_an_assertion_shows_its_own_sentence(suite, tmp_path):
    learner = write_app(tmp_path / "learner", HELLO.replace("Hello World", "Hi"))
    run = grade(suite, "--app-dir", str(learner))
    assert 'GET / should answer Hello World, got 200 {"message": "Hi"}' in run.stdout
    assert "assert {" not in run.stdout, "pytest's operand dump should be folded away"


def test_grading_never_writes_into_the_learners_folder(suite, tmp_path):
    writes = HELLO + '\nopen("written-at-import.txt", "w").write("x")\n'
    learner = write_app(tmp_path / "learner", writes)
    before = sorted(p.relative_to(learner) for p in learner.rglob("*"))
    grade(suite, "--app-dir", str(learner))
    after = sorted(p.relative_to(learner) for p in learner.rglob("*"))
    assert after == before


def test_the_learners_database_url_is_never_used(suite, tmp_path):
    """DATABASE_URL from the learner's shell points at their own file; grading must not open it."""
    db_app = HELLO + textwrap.dedent("""
        import os, sqlite3
        sqlite3.connect(os.environ["DATABASE_URL"].removeprefix("sqlite:///")).execute("create table if not exists t (x)")
    """)
    learner = write_app(tmp_path / "learner", db_app)
    own = tmp_path / "own.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{own}", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite / "milestone"), "-p", "workbook.plugin", "--app-dir", str(learner)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout
    assert not own.exists()


def test_the_json_report_lists_every_test(suite, tmp_path):
    report = tmp_path / "report.json"
    grade(suite, "--workbook-report", str(report))
    import json

    tests = json.loads(report.read_text())["tests"]
    assert [(t["name"], t["outcome"]) for t in tests] == [
        ("test_root_says_hello", "passed"),
        ("test_root_answers_200", "passed"),
    ]
