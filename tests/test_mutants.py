"""Planted bugs: every mutant in checkpoints/NN_slug/milestone/mutants.toml must make that lesson's suite fail.

A mutant is the reference checkpoint with one realistic learner mistake (`bug` says what it
does, in a learner's words). It must still load (exit 2 would mean the mutant is broken, not
caught), and the suite must fail on it (exit 1).
"""

import tomllib
from pathlib import Path

import pytest

from workbook.appfiles import copy_app_folder
from workbook.grading import run_suite
from workbook.lessons import all_lessons, find_lesson

MINIMUM = {
    "01_hello_world": 3,
    "02_requests_and_validation": 8,
    "03_database": 8,
    "04_project_structure": 6,
    "05_auth": 12,
    "06_testing": 5,
    "07_production_hardening": 12,
    "08_docker": 10,
}


def load_mutants() -> list[tuple[str, dict]]:
    found = []
    for lesson in all_lessons():
        if lesson.mutants.is_file():
            found.extend((lesson.slug, mutant) for mutant in tomllib.loads(lesson.mutants.read_text())["mutant"])
    return found


MUTANTS = load_mutants()


def plant(slug: str, mutant: dict, destination: Path) -> Path:
    copy_app_folder(find_lesson(slug).checkpoint, destination)
    for edit in mutant["edit"]:
        target = destination / edit["file"]
        source = target.read_text()
        assert source.count(edit["find"]) == 1, (
            f"mutant {mutant['id']}: the text to replace should occur once in {edit['file']}, "
            f"found {source.count(edit['find'])} times; update checkpoints/{slug}/milestone/mutants.toml"
        )
        target.write_text(source.replace(edit["find"], edit["replace"]))
    return destination


@pytest.mark.parametrize(("slug", "mutant"), MUTANTS, ids=[f"{slug[:2]}-{m['id']}" for slug, m in MUTANTS])
def test_the_suite_catches_the_planted_bug(slug, mutant, tmp_path):
    mutated = plant(slug, mutant, tmp_path / "mutant")
    result = run_suite(find_lesson(slug), mutated, extra_args=["-x"])
    assert result.load_error is None, f"mutant {mutant['id']} should still load: {result.load_error}"
    assert result.exit_code == 1, (
        f"the {slug} suite did not catch this bug: {mutant['bug']} (mutant {mutant['id']}, exit {result.exit_code})"
    )


@pytest.mark.parametrize("slug", sorted({slug for slug, _ in MUTANTS}))
def test_each_lesson_has_enough_distinct_mutants(slug):
    mine = [m for s, m in MUTANTS if s == slug]
    assert len(mine) >= MINIMUM.get(slug, 3), f"{slug} has {len(mine)} mutants"
    assert len({m["id"] for m in mine}) == len(mine), f"{slug} has duplicate mutant ids"
    assert all(m.get("bug", "").strip() for m in mine), f"every mutant in {slug} says what its bug does"
