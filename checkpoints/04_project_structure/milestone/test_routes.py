"""Lesson 04: the task API moves under /api/v1; / and /health stay at the root."""

import pytest

from workbook.testing import show

TASKS = "/api/v1/tasks"


def test_task_api_lives_under_api_v1(client):
    r = client.post(TASKS, json={"title": "Moved under the prefix"})
    assert r.status_code == 201, (
        f"POST {TASKS} should answer 201 Created, got {show(r)}. "
        "Include the tasks router with app.include_router(router, prefix=\"/api/v1\")."
    )
    task = r.json()
    r = client.get(f"{TASKS}/{task['id']}")
    assert r.status_code == 200 and r.json()["title"] == "Moved under the prefix", f"GET {TASKS}/{task['id']} should find the task, got {show(r)}."
    r = client.get(TASKS)
    assert r.status_code == 200 and task["id"] in [each["id"] for each in r.json()], f"GET {TASKS} should list the task, got {show(r)}."
    r = client.patch(f"{TASKS}/{task['id']}", json={"status": "done"})
    assert r.status_code == 200 and r.json()["status"] == "done", f"PATCH {TASKS}/{task['id']} should change the status, got {show(r)}."
    r = client.delete(f"{TASKS}/{task['id']}")
    assert r.status_code == 204, f"DELETE {TASKS}/{task['id']} should answer 204, got {show(r)}."


@pytest.mark.parametrize("method, path", [("GET", "/tasks"), ("POST", "/tasks"), ("GET", "/tasks/{id}"), ("PATCH", "/tasks/{id}"), ("DELETE", "/tasks/{id}")])
def test_old_task_paths_are_gone(client, method, path):
    """The API moved: does the old path still answer? (It should not.)"""
    task = client.post(TASKS, json={"title": "Only under /api/v1"}).json()
    url = path.format(id=task.get("id", 1))
    r = client.request(method, url, json={"title": "Old path"} if method in ("POST", "PATCH") else None)
    assert r.status_code == 404, (
        f"{method} {url} should answer 404 now that tasks live under /api/v1, got {show(r)}. "
        "Register the task routes only through the router with the /api/v1 prefix."
    )


@pytest.mark.parametrize("path, body", [("/", {"message": "Hello World"}), ("/health", {"status": "ok"})])
def test_root_routes_stay_at_the_root(client, path, body):
    r = client.get(path)
    assert r.status_code == 200 and r.json() == body, (
        f"GET {path} should still answer 200 {body}, got {show(r)}. Keep it on the app itself, outside the /api/v1 router."
    )
