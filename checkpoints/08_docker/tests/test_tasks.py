"""Creating, reading, changing, listing and deleting tasks."""

import pytest

TASKS = "/api/v1/tasks"


def test_a_created_task_can_be_read_back(client, ada_headers):
    r = client.post(TASKS, json={"title": "Write tests"}, headers=ada_headers)
    assert r.status_code == 201, r.text
    task = r.json()
    assert task["title"] == "Write tests"
    assert (task["status"], task["priority"], task["description"], task["due_date"]) == ("todo", "medium", None, None)
    r = client.get(f"{TASKS}/{task['id']}", headers=ada_headers)
    assert r.status_code == 200, r.text
    assert r.json() == task


def test_delete_answers_204(client, ada_headers):
    task = client.post(TASKS, json={"title": "Throw away"}, headers=ada_headers).json()
    r = client.delete(f"{TASKS}/{task['id']}", headers=ada_headers)
    assert r.status_code == 204
    assert r.content == b""


def test_a_deleted_task_is_gone(client, ada_headers):
    task = client.post(TASKS, json={"title": "Throw away"}, headers=ada_headers).json()
    client.delete(f"{TASKS}/{task['id']}", headers=ada_headers)
    r = client.get(f"{TASKS}/{task['id']}", headers=ada_headers)
    assert r.status_code == 404, r.text
    assert client.get(TASKS, headers=ada_headers).json() == []


def test_patch_changes_only_the_fields_sent(client, ada_headers):
    body = {"title": "Write tests", "description": "all of them", "priority": "high", "due_date": "2030-01-31"}
    task = client.post(TASKS, json=body, headers=ada_headers).json()
    r = client.patch(f"{TASKS}/{task['id']}", json={"status": "done"}, headers=ada_headers)
    assert r.status_code == 200, r.text
    assert r.json() == {**task, "status": "done"}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "x" * 201},
        {"title": "Ok", "status": "later"},
        {"title": "Ok", "priority": "urgent"},
    ],
    ids=["no title", "empty title", "201-character title", "unknown status", "unknown priority"],
)
def test_an_invalid_task_answers_422(client, ada_headers, body):
    r = client.post(TASKS, json=body, headers=ada_headers)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}], ids=["limit 0", "limit 101", "offset -1"]
)
def test_out_of_range_paging_answers_422(client, ada_headers, params):
    r = client.get(TASKS, params=params, headers=ada_headers)
    assert r.status_code == 422, r.text


def test_the_task_list_needs_a_token(client):
    r = client.get(TASKS)
    assert r.status_code == 401, r.text
