"""Lesson 06's planted bugs (milestone/planted_bugs.toml) load, and break exactly what their words say.

Two proofs for each bug planted in the reference 06 app, independent of any learner's suite:
- the earlier milestone test written for that behaviour (05, or 03 under /api/v1 as a signed-in
  user) fails on it, and the app still loads;
- of the reference learner suite, exactly the tests about that behaviour fail on it, and the rest pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook import mutation
from workbook.grading import run_suite
from workbook.lessons import find_lesson

LESSON = find_lesson("06_testing")
BUGS = {bug["id"]: bug for bug in mutation.planted_bugs(LESSON.suite)}
AS_A_USER = ["--api-prefix", "/api/v1", "--as-user"]

# bug -> (earlier suite, its options, the test of that behaviour, the reference learner tests that fail)
PROOFS = {
    "list_shows_other_users_tasks": ("05_auth", [], "test_another_users_task_cannot_be_read_or_listed",
                                     {"test_the_list_shows_only_my_own_tasks"}),
    "other_users_task_readable": ("05_auth", [], "test_another_users_task_cannot_be_read_or_listed",
                                  {"test_another_users_task_cannot_be_read"}),
    "other_users_task_changeable": ("05_auth", [], "test_another_users_task_cannot_be_changed_or_deleted",
                                    {"test_another_users_task_cannot_be_changed"}),
    "other_users_task_deletable": ("05_auth", [], "test_another_users_task_cannot_be_changed_or_deleted",
                                   {"test_another_users_task_cannot_be_deleted"}),
    "task_list_open_without_token": ("05_auth", [], "test_every_task_route_needs_a_valid_token",
                                     {"test_the_task_list_needs_a_token"}),
    "expired_token_accepted": ("05_auth", [], "test_an_expired_token_is_rejected",
                               {"test_an_expired_token_is_rejected"}),
    "tampered_token_accepted": ("05_auth", [], "test_a_tampered_token_is_rejected",
                                {"test_a_token_whose_payload_was_edited_is_rejected"}),
    "wrong_password_accepted": ("05_auth", [], "test_an_unknown_email_and_a_wrong_password_get_the_same_answer",
                                {"test_a_wrong_password_gets_no_token",
                                 "test_an_unknown_email_and_a_wrong_password_get_the_same_answer"}),
    "duplicate_email_accepted": ("05_auth", [], "test_an_email_already_registered_answers_409",
                                 {"test_an_email_already_registered_answers_409"}),
    "password_hash_in_response": ("05_auth", [], "test_registering_answers_201_with_the_public_user",
                                  {"test_registering_answers_201_with_the_public_user"}),
    "patch_clears_unsent_fields": ("03_database", AS_A_USER, "test_patch_changes_only_the_fields_sent",
                                   {"test_patch_changes_only_the_fields_sent"}),
    "limit_not_capped": ("03_database", AS_A_USER, "test_out_of_range_paging_is_rejected",
                         {"test_out_of_range_paging_answers_422[limit 101]"}),
    "title_length_unchecked": ("03_database", AS_A_USER, "test_patch_validates_what_it_is_sent",
                               {"test_an_invalid_task_answers_422[201-character title]"}),
    "delete_not_saved": ("03_database", AS_A_USER, "test_delete_answers_204_with_no_body_then_the_task_is_gone",
                         {"test_a_deleted_task_is_gone"}),
}


def planted(bug_id: str, folder: Path) -> Path:
    """Checkpoint 06's app with the bug planted, in folder (no tests/: an earlier suite grades only the app)."""
    return mutation.make_copy(LESSON.checkpoint / "app", LESSON.checkpoint / "tests", folder, BUGS[bug_id])


def test_every_planted_bug_has_its_proof():
    assert sorted(PROOFS) == sorted(BUGS)


@pytest.mark.parametrize("bug_id", sorted(PROOFS))
def test_the_earlier_milestone_test_of_that_behaviour_fails_on_the_bug(bug_id, tmp_path):
    slug, options, test, _ = PROOFS[bug_id]
    result = run_suite(find_lesson(slug), planted(bug_id, tmp_path), extra_args=[*options, "-k", test])
    assert result.load_error is None, f"{bug_id} should still load: {result.load_error}"
    assert result.exit_code == 1 and {failure.test.split("[")[0] for failure in result.failures} == {test}, (
        f"{bug_id} ({BUGS[bug_id]['bug']}) should fail {slug}'s {test}: exit {result.exit_code}, "
        f"{result.passed} of {result.total} passed\n{result.output[-1500:]}"
    )


@pytest.mark.parametrize("bug_id", sorted(PROOFS))
def test_exactly_the_reference_tests_of_that_behaviour_fail_on_the_bug(bug_id, tmp_path):
    run, _ = mutation.run_target(LESSON.checkpoint / "app", LESSON.checkpoint / "tests", tmp_path, BUGS[bug_id])
    assert run.finished and not run.collect_errors, run.outcome.stdout[-1500:]
    assert {test.name for test in run.with_outcome("failed")} == PROOFS[bug_id][3]
    assert len(run.with_outcome("passed")) == len(run.tests) - len(PROOFS[bug_id][3])
