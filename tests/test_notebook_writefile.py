"""workbook.notebook_writefile: a lesson grows one file in steps, and running a step's cell again replaces what
it appended before instead of leaving the old code first in the file."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbook.notebook_writefile import install_rerunnable_writefile


@pytest.fixture
def run_cell(tmp_path, monkeypatch):
    """run_cell(cell_id, "%%writefile ...\\n<body>"): the cell run by an IPython shell with the workbook's magic."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()  # one shell for the whole test process: each test writes in a folder of its own
    assert install_rerunnable_writefile(shell) and install_rerunnable_writefile(shell)  # once, however often asked
    monkeypatch.chdir(tmp_path)

    def run(cell_id: str, cell: str) -> str:
        shell.events.trigger("pre_run_cell", SimpleNamespace(cell_id=cell_id))
        first, _, body = cell.partition("\n")
        shell.run_cell_magic("writefile", first.removeprefix("%%writefile").strip(), body)
        return (tmp_path / "main.py").read_text()

    return run


def test_a_step_run_again_replaces_what_it_appended(run_cell, capsys):
    run_cell("models", "%%writefile main.py\nclass Task: ...\n")
    run_cell("routes", "%%writefile -a main.py\ndef read(): return None\n")
    fixed = run_cell("routes", "%%writefile -a main.py\ndef read(): return Task()\n")
    assert fixed == "class Task: ...\ndef read(): return Task()\n"
    assert "Writing main.py" in capsys.readouterr().out  # as IPython says it: the solutions' outputs hold it


def test_the_first_step_run_again_starts_the_file_over_and_later_steps_append_once(run_cell):
    run_cell("models", "%%writefile main.py\nA = 1\n")
    run_cell("routes", "%%writefile -a main.py\nB = 2\n")
    run_cell("models", "%%writefile main.py\nA = 10\n")
    assert run_cell("routes", "%%writefile -a main.py\nB = 2\n") == "A = 10\nB = 2\n"


def test_after_a_restart_a_cell_the_file_already_ends_with_is_not_appended_twice(run_cell):
    run_cell("models", "%%writefile main.py\nA = 1\n")
    run_cell("routes", "%%writefile -a main.py\nB = 2\n")
    assert run_cell("forgotten", "%%writefile -a main.py\nB = 2\n") == "A = 1\nB = 2\n"
    assert run_cell("other", "%%writefile -a main.py\nC = 3\n") == "A = 1\nB = 2\nC = 3\n"


def test_a_file_edited_outside_the_notebook_is_appended_to_as_ipython_would(run_cell, tmp_path):
    run_cell("models", "%%writefile main.py\nA = 1\n")
    run_cell("routes", "%%writefile -a main.py\nB = 2\n")
    (tmp_path / "main.py").write_text("A = 1\nB = 20\n")
    assert run_cell("routes", "%%writefile -a main.py\nB = 3\n") == "A = 1\nB = 20\nB = 3\n"
