"""Lesson 03: create, read, change and delete tasks in the database."""

import pytest

from workbook.testing import show

TASK_KEYS = {"id", "title", "description", "status", "priority", "due_date"}


def test_created_task_comes_back_with_its_id_and_defaults(client, routes):
    r = client.post(routes.tasks, json={"title": "Write the report"})
    assert r.status_code == 201, f"POST {routes.tasks} should answer 201 Created, got {show(r)}."
    task = r.json()
    assert TASK_KEYS <= set(task), f"A task should hold the keys {sorted(TASK_KEYS)}, got {show(r)}. Return TaskPublic."
    assert isinstance(task["id"], int), f"The database should assign an integer id, got {show(r)}."
    expected = {
        "title": "Write the report",
        "description": None,
        "status": "todo",
        "priority": "medium",
        "due_date": None,
    }
    got = {key: task[key] for key in expected}
    assert got == expected, f"A new task should get the defaults {expected}, got {got}."

    r = client.get(routes.task(task["id"]))
    assert r.status_code == 200, f"GET {routes.task(task['id'])} should find the task just created, got {show(r)}."
    assert r.json() == task, f"GET should return the task as POST did: {task}, got {show(r)}."


def test_unknown_task_is_not_found(client, routes):
    r = client.get(f"{routes.tasks}/999999")
    assert r.status_code == 404, (
        f"GET {routes.tasks}/999999 should answer 404 when there is no such task, got {show(r)}."
    )


def test_patch_changes_only_the_fields_sent(client, routes, add_task):
    task = add_task("Plan the trip", description="Book the train", priority="high", due_date="2026-05-01")
    r = client.patch(routes.task(task["id"]), json={"status": "doing"})
    assert r.status_code == 200, f"PATCH {routes.task(task['id'])} should answer 200, got {show(r)}."
    expected = {**task, "status": "doing"}
    got = {key: r.json().get(key) for key in expected}
    assert got == expected, (
        f"PATCH with only a status should leave every other field alone: expected {expected}, got {got}. "
        "Apply task.model_dump(exclude_unset=True), so fields not sent are not reset to their defaults."
    )
    r = client.get(routes.task(task["id"]))
    assert r.json().get("status") == "doing", (
        f"The change should be saved: GET after PATCH gave {show(r)}. Commit the session."
    )


def test_patch_with_description_null_clears_it(client, routes, add_task):
    task = add_task("Call the plumber", description="Before noon")
    r = client.patch(routes.task(task["id"]), json={"description": None})
    assert r.status_code == 200, f"PATCH with description null should answer 200, got {show(r)}."
    assert r.json()["description"] is None, f"description: null should clear the description, got {show(r)}."
    assert r.json()["title"] == "Call the plumber", f"PATCH changed the title it was not sent: {show(r)}."


@pytest.mark.parametrize("field", ["title", "status", "priority"])
def test_patch_cannot_set_a_required_field_to_null(client, routes, add_task, field):
    task = add_task("Water the plants")
    r = client.patch(routes.task(task["id"]), json={field: None})
    assert r.status_code == 422, (
        f"PATCH with {field}: null should answer 422 (a task always has a {field}), got {show(r)}. "
        f"In TaskUpdate, {field} may be left out but must not accept None."
    )
    r = client.get(routes.task(task["id"]))
    assert r.json().get(field) is not None, f"After the refused PATCH the task lost its {field}: {show(r)}."


@pytest.mark.parametrize(
    "body", [{"title": ""}, {"title": "x" * 201}, {"status": "later"}, {"priority": "urgent"}, {"due_date": "soon"}]
)
def test_patch_validates_what_it_is_sent(client, routes, add_task, body):
    task = add_task("Fix the bike")
    r = client.patch(routes.task(task["id"]), json=body)
    assert r.status_code == 422, (
        f"PATCH with {str(body)[:60]} should answer 422, got {show(r)}. TaskUpdate keeps the same rules as TaskCreate."
    )


def test_patch_of_an_unknown_task_is_not_found(client, routes):
    r = client.patch(f"{routes.tasks}/999999", json={"status": "done"})
    assert r.status_code == 404, (
        f"PATCH {routes.tasks}/999999 should answer 404 when there is no such task, got {show(r)}."
    )


def test_delete_answers_204_with_no_body_then_the_task_is_gone(client, routes, add_task):
    task = add_task("Take out the bins")
    r = client.delete(routes.task(task["id"]))
    assert r.status_code == 204, (
        f"DELETE {routes.task(task['id'])} should answer 204 No Content, got {show(r)}. Pass status_code=204."
    )
    assert r.content == b"", f"A 204 answer has no body, got {r.content[:80]!r}. Return None from the route."
    r = client.get(routes.task(task["id"]))
    assert r.status_code == 404, f"After DELETE, GET {routes.task(task['id'])} should answer 404, got {show(r)}."
    r = client.delete(routes.task(task["id"]))
    assert r.status_code == 404, f"Deleting a task twice should answer 404 the second time, got {show(r)}."


def test_delete_leaves_other_tasks_alone(client, routes, add_task):
    keep, drop = add_task("Keep me"), add_task("Drop me")
    client.delete(routes.task(drop["id"]))
    r = client.get(routes.tasks)
    assert [each["id"] for each in r.json()] == [keep["id"]], f"Only the deleted task should disappear, got {show(r)}."
