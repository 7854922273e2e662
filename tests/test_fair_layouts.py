"""Suites judge the contract, not the reference's file names: a correct app laid out like the
full-stack FastAPI template (settings in app/core/config.py, the engine in app/core/db.py, routes
in app/api/routes/, queries in app/crud.py) passes lesson 04's suite.
"""

from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.grading import run_suite
from workbook.lessons import find_lesson

# (file of the reference, where the template keeps it); imports are rewritten to follow.
TEMPLATE_LAYOUT = {
    "app/config.py": "app/core/config.py",
    "app/database.py": "app/core/db.py",
    "app/routers/tasks.py": "app/api/routes/tasks.py",
    "app/services/tasks.py": "app/crud.py",
}
IMPORTS = {
    "from app.config import": "from app.core.config import",
    "from app.database import": "from app.core.db import",
    "from app.routers import tasks": "from app.api.routes import tasks",
    "from app.services import tasks as service": "from app import crud as service",
}


def laid_out_like_the_template(reference: Path, destination: Path) -> Path:
    app = copy_app_folder(reference, destination) / "app"
    for old, new in TEMPLATE_LAYOUT.items():
        (destination / new).parent.mkdir(parents=True, exist_ok=True)
        (destination / old).rename(destination / new)
    for package in ("app/api", "app/api/routes"):
        (destination / package / "__init__.py").touch()
    for emptied in ("routers", "services"):
        for leftover in (app / emptied).glob("*"):
            leftover.unlink()
        (app / emptied).rmdir()
    for path in app.rglob("*.py"):
        source = path.read_text()
        for old, new in IMPORTS.items():
            source = source.replace(old, new)
        path.write_text(source)
    return destination


def test_an_app_laid_out_like_the_full_stack_template_passes_lesson_04(tmp_path):
    lesson = find_lesson("04")
    app = laid_out_like_the_template(lesson.checkpoint, tmp_path / "template-style")
    assert not (app / "app/config.py").exists() and (app / "app/core/db.py").is_file()

    result = run_suite(lesson, app)

    failures = "\n".join(f"- {f.test}: {f.message}" for f in result.failures)
    assert result.exit_code == 0, f"{result.passed} of {result.total} passed: {result.load_error or failures}"
