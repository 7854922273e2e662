"""Lesson 05: every task route needs a token, and a user sees and changes only their own tasks."""

from workbook.testing import bearer, show

TASK_KEYS = {"id", "title", "description", "status", "priority", "due_date", "owner_id"}

# Every task route: (method, one task rather than the list, body)
TASK_ROUTES = [
    ("GET", False, None),
    ("POST", False, {"title": "Sneak in"}),
    ("GET", True, None),
    ("PATCH", True, {"title": "Changed"}),
    ("DELETE", True, None),
]
NOT_A_VALID_TOKEN = [
    ({}, "no token", "Give the route a CurrentUser parameter (Annotated[User, Depends(get_current_user)])."),
    (bearer("not-a-token"), "a garbage token", "get_current_user should catch jwt.InvalidTokenError and raise 401."),
    ({"Authorization": "Basic YWRhOnNlY3JldA=="}, "Basic credentials", "Only a bearer token may get through."),
]


def test_every_task_route_needs_a_valid_token(client, why_not_turned_away, routes):
    problems = [
        why_not_turned_away(
            client.request(method, url, json=body, headers=headers), f"{method} {url} with {kind}", where
        )
        for method, url, body in [
            (method, routes.task(1) if one else routes.tasks, body) for method, one, body in TASK_ROUTES
        ]
        for headers, kind, where in NOT_A_VALID_TOKEN
    ]
    problems = [problem for problem in problems if problem]
    assert not problems, (
        f"{len(problems)} of {len(TASK_ROUTES) * len(NOT_A_VALID_TOKEN)} requests without a valid token were not turned away:\n- "
        + "\n- ".join(problems[:6])
        + (f"\n- and {len(problems) - 6} more." if len(problems) > 6 else "")
    )


def add_task(client, routes, account, title: str) -> dict:
    r = client.post(routes.tasks, json={"title": title}, headers=account.headers)
    assert r.status_code == 201, f"POST {routes.tasks} with a valid token should answer 201 Created, got {show(r)}."
    return r.json()


def test_a_task_belongs_to_the_user_who_created_it(people, client, routes):
    ada = people.ada
    r = client.post(
        routes.tasks, json={"title": "Write the first program", "owner_id": ada.user["id"] + 1000}, headers=ada.headers
    )
    assert r.status_code in (201, 422), f"POST {routes.tasks} should answer 201 Created, got {show(r)}."
    if r.status_code == 422:  # an app may refuse a field it does not take; then send the plain task
        r = client.post(routes.tasks, json={"title": "Write the first program"}, headers=ada.headers)
        assert r.status_code == 201, f"POST {routes.tasks} with a valid token should answer 201 Created, got {show(r)}."
    task = r.json()
    assert set(task) == TASK_KEYS, (
        f"A task should hold exactly the keys {sorted(TASK_KEYS)}, got {sorted(task)}: {show(r)}. Add owner_id to TaskPublic."
    )
    assert task["owner_id"] == ada.user["id"], (
        f"The task should belong to its creator (owner_id {ada.user['id']}), got {show(r)}. "
        "Set owner_id from the current user, never from the request body."
    )
    listed = client.get(routes.tasks, headers=ada.headers)
    assert listed.status_code == 200 and [each["id"] for each in listed.json()] == [task["id"]], (
        f"GET {routes.tasks} should list the user's one task, got {show(listed)}."
    )
    moved = client.patch(f"{routes.tasks}/{task['id']}", json={"owner_id": ada.user["id"] + 1000}, headers=ada.headers)
    kept = client.get(f"{routes.tasks}/{task['id']}", headers=ada.headers)
    assert kept.status_code == 200 and kept.json()["owner_id"] == ada.user["id"], (
        f"PATCH with an owner_id answered {show(moved)}, and afterwards the task reads {show(kept)}: "
        "a user must not hand a task to someone else. Leave owner_id out of TaskUpdate."
    )


def test_another_users_task_cannot_be_read_or_listed(people, client, routes):
    ada, bob = people
    task = add_task(client, routes, ada, "Ada's secret plan")
    bobs = add_task(client, routes, bob, "Bob's own task")
    r = client.get(f"{routes.tasks}/{task['id']}", headers=bob.headers)
    assert r.status_code == 404, (
        f"Bob asked for Ada's task with GET {routes.tasks}/{task['id']}: it should answer 404, got {show(r)}. "
        "Look the task up by its id AND the current user's id, and answer 404 when that finds nothing."
    )
    listed = client.get(routes.tasks, headers=bob.headers)
    assert listed.status_code == 200, f"GET {routes.tasks} with a valid token should answer 200, got {show(listed)}."
    assert [each["id"] for each in listed.json()] == [bobs["id"]], (
        f"GET {routes.tasks} for Bob should list only Bob's task (id {bobs['id']}), got {show(listed)}. "
        "Filter the query with .where(Task.owner_id == current_user.id)."
    )
    own = client.get(routes.tasks, headers=ada.headers)
    assert [each["id"] for each in own.json()] == [task["id"]], (
        f"GET {routes.tasks} for Ada should list only Ada's task, got {show(own)}."
    )


def test_another_users_task_cannot_be_changed_or_deleted(people, client, routes):
    ada, bob = people
    task = add_task(client, routes, ada, "Ada's secret plan")
    url = f"{routes.tasks}/{task['id']}"
    r = client.patch(url, json={"title": "Bob was here", "status": "done"}, headers=bob.headers)
    assert r.status_code == 404, (
        f"Bob tried PATCH {url} on Ada's task: it should answer 404, got {show(r)}. "
        "Find the task among the current user's own before changing it."
    )
    r = client.delete(url, headers=bob.headers)
    assert r.status_code == 404, (
        f"Bob tried DELETE {url} on Ada's task: it should answer 404, got {show(r)}. "
        "Find the task among the current user's own before deleting it."
    )
    after = client.get(url, headers=ada.headers)
    assert after.status_code == 200, (
        f"Ada's task should still exist after Bob's attempts, but GET {url} answered {show(after)}."
    )
    assert after.json() == task, (
        f"Ada's task should be unchanged after Bob's attempts: it was {task}, now {show(after)}."
    )
