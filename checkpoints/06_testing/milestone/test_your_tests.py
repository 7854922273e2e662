"""Lesson 06: your own tests pass on correct apps and catch each planted bug.

Your tests/ run on your app, on the reference app, and on the reference app with each of the planted
bugs in planted_bugs.toml: every test must pass on the two correct apps, and on each bug at least
one of them must fail.
"""

from pathlib import Path

import pytest

from workbook.mutation import planted_bugs
from workbook.mutation_report import REFERENCE, YOURS, bug_verdict, problem_on

BUGS = planted_bugs(Path(__file__).parent)


def test_your_tests_pass_on_your_app(grade):
    problem = problem_on(grade, YOURS)
    assert problem is None, problem


def test_your_tests_pass_on_the_reference_app(grade):
    if grade.no_tests:
        pytest.skip("no test of yours could run: see test_your_tests_pass_on_your_app")
    problem = problem_on(grade, REFERENCE)
    assert problem is None, problem


@pytest.mark.parametrize("bug", BUGS, ids=[bug["id"] for bug in BUGS])
def test_your_tests_catch_the_bug(grade, bug):
    if grade.bugs_ungraded():
        pytest.skip(grade.bugs_ungraded())
    caught, message = bug_verdict(grade, bug)
    assert caught, message
