"""Fixtures for milestone 02: post tasks and read the answers as a learner would."""

import pytest

from workbook.keeps import option
from workbook.testing import show

PUBLIC_KEYS = {"id", "title", "description", "status", "priority", "due_date"}


def where_to_look_after_post(r) -> str:
    """Where a learner should look when POST /tasks did not answer 201."""
    if r.status_code in (404, 405):
        return 'There is no POST /tasks route yet: add one with @app.post("/tasks", ...) in app/main.py.'
    if r.status_code == 200:
        return 'The route works but answers 200: pass status_code=201 to @app.post("/tasks", ...).'
    if r.status_code == 422:
        return "The app rejected a valid body: the limits on the body model's fields are too strict (compare them with the lesson)."
    return "Look at the POST /tasks route in app/main.py."


@pytest.fixture
def public_keys(request):
    """The keys of a task in a response; from lesson 05 on (--as-user) a task also names its owner."""
    return PUBLIC_KEYS | ({"owner_id"} if option(request, "as_user") else set())


@pytest.fixture
def create_task(client, routes):
    """create_task(**fields) -> the task the app answered, after checking it answered 201."""

    def create(**fields):
        body = {"title": "Write the report", **fields}
        r = client.post(routes.tasks, json=body)
        assert r.status_code == 201, (
            f"POST {routes.tasks} with {body} should answer 201 Created, got {show(r)}. {where_to_look_after_post(r)}"
        )
        task = r.json()
        assert isinstance(task, dict) and isinstance(task.get("id"), int), (
            f"POST {routes.tasks} should answer the new task, with an integer id, got {show(r)}. "
            "Return the stored task from the route, and declare response_model=TaskPublic, whose id is an int."
        )
        return task

    return create


@pytest.fixture
def expect_accepted(client, routes):
    """expect_accepted(body, why) -> the task, after checking the app answered 201."""

    def accepted(body, why):
        r = client.post(routes.tasks, json=body)
        assert r.status_code == 201, (
            f"POST {routes.tasks} should accept {why} with 201 Created, got {show(r)}. {where_to_look_after_post(r)}"
        )
        return r.json()

    return accepted


@pytest.fixture
def expect_rejected(client, routes):
    """expect_rejected(body, why): POST the body, check the app answers 422 and stores nothing."""

    def rejected(body, why):
        before = client.get(routes.tasks)
        r = client.post(routes.tasks, json=body)
        assert r.status_code == 422, (
            f"POST {routes.tasks} should reject {why} with 422 Unprocessable Content, got {show(r)}. "
            + (
                where_to_look_after_post(r)
                if r.status_code in (404, 405)
                else "Declare the limit on the body model's field (Field(...), an Enum or Literal, a date type) "
                "so that FastAPI validates the body before your function runs."
            )
        )
        error = r.json()
        assert isinstance(error, dict) and "detail" in error, (
            f"A 422 answer should be a JSON object with a detail key, got {show(r)}."
        )
        after = client.get(routes.tasks)
        if before.status_code == 200:
            assert after.json() == before.json(), (
                f"After POST {routes.tasks} was rejected ({why}), GET {routes.tasks} should list the same tasks as before; "
                f"before: {show(before)}, after: {show(after)}. Validate the body before storing it."
            )

    return rejected
