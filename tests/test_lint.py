"""The code reads one way everywhere: ruff's lint and format are clean on the tooling, the tests and the suites."""

import shutil
import subprocess

import pytest

from workbook.lessons import REPO

CHECKED = ["workbook", "tests", "checkpoints", "bench", "solutions/conftest.py"]
ruff = shutil.which("ruff")
needs_ruff = pytest.mark.skipif(ruff is None, reason="ruff is not installed: pip install -e '.[test]' brings it")


@needs_ruff
def test_ruff_finds_nothing_to_lint():
    run = subprocess.run([ruff, "check", *CHECKED], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"ruff check {' '.join(CHECKED)} found problems:\n{run.stdout[-3000:]}"


@needs_ruff
def test_ruff_finds_nothing_to_reformat():
    run = subprocess.run([ruff, "format", "--check", *CHECKED], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, (
        f"ruff format would change these files (run `ruff format {' '.join(CHECKED)}`):\n{run.stdout[-3000:]}"
    )
