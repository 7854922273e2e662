"""Fixtures for the lesson 06 suite: the learner's own tests/, run on their app, the reference and each planted bug.

All the runs happen once per graded folder, in parallel, the first time a test asks for `grade`
(workbook.mutation); each test then reads its own target's verdict from it.
"""

from pathlib import Path

import pytest

from workbook import mutation, mutation_report

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent  # checkpoints/06_testing: its app/ is the reference app
BUGS = mutation.planted_bugs(HERE)
GRADES = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def grades(request, tmp_path_factory):
    """grades(folder) -> the folder's mutation.Grade, made on first use."""
    made = request.config.stash.setdefault(GRADES, {})

    def grade_of(folder: Path) -> mutation.Grade:
        if folder not in made:
            bugs = bugs_checked(request.session)
            made[folder] = mutation.grade(folder, REFERENCE, bugs, tmp_path_factory.mktemp("targets"))
        return made[folder]

    return grade_of


def bugs_checked(session: pytest.Session) -> list[dict]:
    """The planted bugs whose checks run: one exercise's check (`--exercise`) plants only its own, each a run."""
    params = [item.callspec.params for item in session.items if hasattr(item, "callspec")]
    running = {each["bug"]["id"] for each in params if "bug" in each}
    return [bug for bug in BUGS if bug["id"] in running]


@pytest.fixture
def grade(app_dir: Path, grades) -> mutation.Grade:
    return grades(app_dir)


def pytest_terminal_summary(terminalreporter, config):
    """One line per planted bug: caught, or missed, in the contract's words."""
    for result in config.stash.get(GRADES, {}).values():
        if result.bugs_ungraded():
            continue
        terminalreporter.section(f"what your tests catch in {result.where}")
        for bug in result.bugs:
            caught, _ = mutation_report.bug_verdict(result, bug)
            verdict = "caught" if caught else "MISSED"
            terminalreporter.write_line(f"{verdict}  {bug['bug']}", green=caught, red=not caught)
