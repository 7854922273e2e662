"""Lesson 04: the task API moves under /api/v1; / and /health stay at the root."""

import pytest

from workbook.testing import Routes, show

UNPREFIXED = Routes()  # where lessons 02 and 03 had the task routes


def test_task_api_lives_under_api_v1(client, routes):
    r = client.post(routes.tasks, json={"title": "Moved under the prefix"})
    assert r.status_code == 201, (
        f"POST {routes.tasks} should answer 201 Created, got {show(r)}. "
        'Include the tasks router with app.include_router(router, prefix="/api/v1").'
    )
    task = r.json()
    r = client.get(routes.task(task["id"]))
    assert r.status_code == 200 and r.json()["title"] == "Moved under the prefix", (
        f"GET {routes.task(task['id'])} should find the task, got {show(r)}."
    )
    r = client.get(routes.tasks)
    assert r.status_code == 200 and task["id"] in [each["id"] for each in r.json()], (
        f"GET {routes.tasks} should list the task, got {show(r)}."
    )
    r = client.patch(routes.task(task["id"]), json={"status": "done"})
    assert r.status_code == 200 and r.json()["status"] == "done", (
        f"PATCH {routes.task(task['id'])} should change the status, got {show(r)}."
    )
    r = client.delete(routes.task(task["id"]))
    assert r.status_code == 204, f"DELETE {routes.task(task['id'])} should answer 204, got {show(r)}."


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/tasks"),
        ("POST", "/tasks"),
        ("GET", "/tasks/{id}"),
        ("PATCH", "/tasks/{id}"),
        ("DELETE", "/tasks/{id}"),
    ],
)
def test_old_task_paths_are_gone(client, routes, method, path):
    """The API moved: does the old path still answer? (It should not.)"""
    task = client.post(routes.tasks, json={"title": "Only under /api/v1"}).json()
    url = UNPREFIXED.task(task.get("id", 1)) if "{id}" in path else UNPREFIXED.tasks
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
