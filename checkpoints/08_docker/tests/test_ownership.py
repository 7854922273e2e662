"""Ada's tasks are hers: Bob can neither see nor touch them."""

import pytest

TASKS = "/api/v1/tasks"


@pytest.fixture
def adas_task(client, ada_headers):
    r = client.post(TASKS, json={"title": "Ada's plan"}, headers=ada_headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_list_shows_only_my_own_tasks(client, adas_task, ada_headers, bob_headers):
    assert client.get(TASKS, headers=ada_headers).json() == [adas_task]
    assert client.get(TASKS, headers=bob_headers).json() == []


def test_another_users_task_cannot_be_read(client, adas_task, bob_headers):
    assert client.get(f"{TASKS}/{adas_task['id']}", headers=bob_headers).status_code == 404


def test_another_users_task_cannot_be_changed(client, adas_task, ada_headers, bob_headers):
    r = client.patch(f"{TASKS}/{adas_task['id']}", json={"title": "Bob's now"}, headers=bob_headers)
    assert r.status_code == 404, r.text
    assert client.get(f"{TASKS}/{adas_task['id']}", headers=ada_headers).json() == adas_task


def test_another_users_task_cannot_be_deleted(client, adas_task, ada_headers, bob_headers):
    r = client.delete(f"{TASKS}/{adas_task['id']}", headers=bob_headers)
    assert r.status_code == 404, r.text
    assert client.get(f"{TASKS}/{adas_task['id']}", headers=ada_headers).status_code == 200
