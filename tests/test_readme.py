"""README's promises that a test can keep: CI runs the test command README gives, word for word."""

import re

from workbook.lessons import REPO, all_lessons

README = (REPO / "README.md").read_text()


def commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_ci_runs_exactly_the_test_command_readme_gives():
    test_command = next(command for command in commands() if "pytest" in command and "venv" in command)
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command in ci, f".ci/run should run README's test command:\n{test_command}"


def test_the_learner_command_opens_the_first_lesson():
    learner = next(command for command in commands() if "workbook start" in command)
    assert learner.endswith(f"workbook start {all_lessons()[0].number}")


def test_every_lesson_is_in_the_readmes_table_with_its_time():
    for lesson in all_lessons():
        row = next(
            (line for line in README.splitlines() if line.startswith(f"| {lesson.slug.replace('_', ' ', 1)} |")), None
        )
        assert row, f"README's lesson table should list {lesson.slug}"
        assert row.endswith(f"| {lesson.minutes} min |"), f"README says {row!r}; the notebook says {lesson.minutes} min"


def test_the_set_up_commands_work_with_any_python_from_3_11():
    for command in commands():
        named = re.findall(r"\bpython3\.\d+\b", command)
        assert not named, f"README's command asks for {named[0]} by name; `python3` is any Python 3.11+:\n{command}"
