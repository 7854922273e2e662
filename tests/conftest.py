"""Fixtures shared by the tests of the `workbook` package (test_cli, test_workspace, test_notebook_helpers).

A small course made in a temporary folder stands in for the repository's: lesson 01 (its
checkpoint holds a hello-world app and a milestone suite folder) and lesson 02, which starts
from it. Test files extend `course`, `workspace` and `graded` with what only they need, by
defining a fixture of the same name that requests this one.

pytest runs with --import-mode=importlib, so test modules cannot import this file: the shared
helpers (the hello-world source, the notebook maker) reach them as fixtures.
"""

from __future__ import annotations

import json

import pytest

from workbook import grading
from workbook.suite_result import SuiteResult

HELLO = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/")\ndef root():\n    return {"message": "Hello World"}\n'


def make_notebook(title: str, cells=(), **workbook) -> str:
    """The JSON of a solution notebook titled `title`; `workbook` adds to its workbook metadata (e.g. keeps=)."""
    metadata = {"workbook": {"title": title, **workbook}}
    return json.dumps({"cells": list(cells), "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture
def hello() -> str:
    """The source of checkpoint 01's app/main.py: a hello-world FastAPI app."""
    return HELLO


@pytest.fixture
def notebook():
    """make_notebook: notebook(title, cells=(), **workbook_metadata) gives a solution notebook's JSON."""
    return make_notebook


def writefile_cell(path: str, content: str) -> dict:
    """A solution's code cell that writes `content` to `path` in the workspace."""
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": f"%%writefile {path}\n{content}"}  # fmt: skip


@pytest.fixture
def course(tmp_path, monkeypatch):
    """Lessons 01 and 02 in tmp_path/course, the course $WORKBOOK_COURSE names.

    Lesson 01 writes app/main.py, so it has a checkpoint: app/ (__init__.py and the hello-world
    main.py) and an empty milestone suite folder milestone/; lesson 02 writes nothing yet, and its
    checkpoint folder holds only an empty milestone/ (grading is stubbed where it would run).
    """
    root = tmp_path / "course"
    (root / "solutions").mkdir(parents=True)
    (root / "solutions" / "01_hello.ipynb").write_text(make_notebook("Hello", [writefile_cell("app/main.py", HELLO)]))
    (root / "solutions" / "02_tasks.ipynb").write_text(make_notebook("Tasks"))
    checkpoint = root / "checkpoints" / "01_hello"
    (checkpoint / "app").mkdir(parents=True)
    (checkpoint / "app" / "__init__.py").write_text("")
    (checkpoint / "app" / "main.py").write_text(HELLO)
    (checkpoint / "milestone").mkdir()
    (root / "checkpoints" / "02_tasks" / "milestone").mkdir(parents=True)
    monkeypatch.setenv("WORKBOOK_COURSE", str(root))
    return root


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """The learner's workspace (not created yet), found through WORKBOOK_WORKSPACE."""
    folder = tmp_path / "learner" / "workspace"
    monkeypatch.setenv("WORKBOOK_WORKSPACE", str(folder))
    return folder


class SuiteStub:
    """Stands in for grading.run_suite: answers `.results[folder name]`, else `.result`; `.calls` records."""

    def __init__(self):
        self.result = SuiteResult(exit_code=0, passed=3, total=3)
        self.results = {}
        self.calls = []

    def __call__(self, lesson, app_dir, extra_args=(), timeout=300, keeps=False):
        self.calls.append((lesson.slug, app_dir, tuple(extra_args)))
        return self.results.get(app_dir.name, self.result)


@pytest.fixture
def graded(monkeypatch):
    """grading.run_suite replaced by a SuiteStub; `.calls` lists (lesson slug, folder, extra_args)."""
    stub = SuiteStub()
    monkeypatch.setattr(grading, "run_suite", stub)
    return stub


# --- synthetic courses for the builder's tests --------------------------------------------------

SOLVED_MAIN = """%%writefile app/main.py
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def read_root():
    ### BEGIN SOLUTION: return {"message": "Hello World"}
    return {"message": "Hello World"}
    ### END SOLUTION
"""


class CourseMaker:
    """An empty course under tmp_path (solutions/, lessons/, checkpoints/); .solution() adds a lesson."""

    solved_main = SOLVED_MAIN

    def __init__(self, root):
        from workbook.lessons import Course

        self.course = Course(root)
        for folder in (self.course.solutions, self.course.notebooks, self.course.checkpoints):
            folder.mkdir(parents=True)

    def notebook(self, *sources: str, title: str = "Hello"):
        """A solution notebook of code cells (a source starting with '# ' in a line of its own is markdown)."""
        from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

        cells = [new_markdown_cell(s[2:]) if s.startswith("# ") else new_code_cell(s) for s in sources]
        return new_notebook(cells=cells, metadata={"workbook": {"title": title, "minutes": 30, "keeps": {}}})

    def solution(self, slug: str, *sources: str):
        """Write solutions/<slug>.ipynb with these cells; the Lesson it defines."""
        import nbformat

        nbformat.write(self.notebook(*sources), str(self.course.solutions / f"{slug}.ipynb"))
        return self.course.find(slug)


@pytest.fixture
def maker(tmp_path) -> CourseMaker:
    return CourseMaker(tmp_path / "repo")
