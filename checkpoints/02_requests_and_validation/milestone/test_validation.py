"""Milestone 02: POST /tasks rejects invalid bodies with 422 and accepts every valid one."""

import pytest


def test_missing_title_is_rejected(expect_rejected):
    expect_rejected({"description": "No title here"}, "a body without a title")


def test_empty_title_is_rejected(expect_rejected):
    expect_rejected({"title": ""}, "an empty title")


def test_title_of_201_characters_is_rejected(expect_rejected):
    expect_rejected({"title": "t" * 201}, "a title of 201 characters (the limit is 200)")


def test_title_of_200_characters_is_accepted(expect_accepted):
    task = expect_accepted({"title": "t" * 200}, "a title of 200 characters")
    assert task.get("title") == "t" * 200, f"The 200-character title should come back unchanged, got {task!r:.120}."


def test_description_of_2001_characters_is_rejected(expect_rejected):
    expect_rejected(
        {"title": "Long", "description": "d" * 2001}, "a description of 2001 characters (the limit is 2000)"
    )


def test_description_of_2000_characters_is_accepted(expect_accepted):
    task = expect_accepted({"title": "Long", "description": "d" * 2000}, "a description of 2000 characters")
    assert task.get("description") == "d" * 2000, "The 2000-character description should come back unchanged."


def test_null_description_is_accepted(expect_accepted):
    task = expect_accepted({"title": "No description", "description": None}, "a description of null")
    assert task.get("description") is None, f"A null description should come back null, got {task!r}."


def test_unknown_status_is_rejected(expect_rejected):
    expect_rejected({"title": "Odd", "status": "started"}, 'the status "started" (only todo, doing, done)')


@pytest.mark.parametrize("status", ["todo", "doing", "done"])
def test_every_known_status_is_accepted(expect_accepted, status):
    task = expect_accepted({"title": "Known", "status": status}, f'the status "{status}"')
    assert task.get("status") == status, f'The status "{status}" should come back unchanged, got {task!r}.'


def test_unknown_priority_is_rejected(expect_rejected):
    expect_rejected({"title": "Odd", "priority": "urgent"}, 'the priority "urgent" (only low, medium, high)')


@pytest.mark.parametrize("priority", ["low", "medium", "high"])
def test_every_known_priority_is_accepted(expect_accepted, priority):
    task = expect_accepted({"title": "Known", "priority": priority}, f'the priority "{priority}"')
    assert task.get("priority") == priority, f'The priority "{priority}" should come back unchanged, got {task!r}.'


@pytest.mark.parametrize("due_date", ["tomorrow", "2026-02-30", "31/12/2026"])
def test_bad_due_date_is_rejected(expect_rejected, due_date):
    expect_rejected({"title": "Dated", "due_date": due_date}, f'the due_date "{due_date}" (not an ISO date YYYY-MM-DD)')


def test_iso_due_date_is_accepted(expect_accepted):
    task = expect_accepted({"title": "Dated", "due_date": "2026-02-28"}, 'the due_date "2026-02-28"')
    assert task.get("due_date") == "2026-02-28", (
        f'The due_date "2026-02-28" should come back as the same ISO date, got {task.get("due_date")!r}. '
        "Type the field as a date (datetime.date) or null."
    )
