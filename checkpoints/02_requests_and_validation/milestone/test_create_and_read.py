"""Milestone 02: create tasks with POST /tasks and read them back."""

from workbook.testing import show


def test_creating_a_task_answers_201_with_the_task(client, routes):
    r = client.post(routes.tasks, json={"title": "Buy milk"})
    assert r.status_code == 201, (
        f"POST {routes.tasks} should answer 201 Created, got {show(r)}. "
        'A 404 or 405 means there is no POST /tasks route yet: add one with @app.post("/tasks", ...) in app/main.py; '
        "any other status: pass status_code=201 to that decorator."
    )
    assert r.json().get("title") == "Buy milk", (
        f"POST {routes.tasks} should answer the task it created, title included, got {show(r)}. Return the stored task."
    )


def test_created_task_has_an_integer_id(create_task):
    task = create_task()
    assert isinstance(task["id"], int) and not isinstance(task["id"], bool), (
        f"A created task's id should be an integer assigned by the app, got {task['id']!r}."
    )


def test_created_task_echoes_every_field_sent(create_task, routes):
    sent = {
        "title": "Plan the sprint",
        "description": "Pick the stories for next week",
        "status": "doing",
        "priority": "high",
        "due_date": "2026-12-01",
    }
    task = create_task(**sent)
    got = {key: task.get(key, "(missing)") for key in sent}
    assert got == sent, (
        f"POST {routes.tasks} should answer the fields it was sent; sent {sent}, got back {got}. "
        "A key shown as (missing) is not declared on the body model or the response model; a changed value was not copied from the body (task_in.model_dump())."
    )


def test_fields_left_out_get_their_defaults(create_task):
    task = create_task(title="Only a title")
    expected = {"description": None, "status": "todo", "priority": "medium", "due_date": None}
    got = {key: task.get(key, "(missing)") for key in expected}
    assert got == expected, (
        f"A task created with only a title should get the defaults {expected}, got {got}. "
        "Check that the body's model declares each field with its default."
    )


def test_created_task_holds_exactly_the_public_keys(create_task, public_keys):
    task = create_task(description="Some words", due_date="2026-01-31")
    assert set(task) == public_keys, (
        f"A task in a response should hold exactly the keys {sorted(public_keys)}, got {sorted(task)}. "
        f"Missing: {sorted(public_keys - set(task)) or 'none'}; extra: {sorted(set(task) - public_keys) or 'none'}. "
        "Declare response_model=TaskPublic on the route and give TaskPublic exactly these fields."
    )


def test_each_task_gets_its_own_id(create_task):
    ids = [create_task(title=f"Task {n}")["id"] for n in range(3)]
    assert len(set(ids)) == 3, (
        f"Three tasks created one after the other should get three different ids, got {ids}. "
        "Assign a new id for every task the app stores."
    )


def test_client_cannot_choose_the_id(client, routes):
    answers = [client.post(routes.tasks, json={"title": f"Task {n}", "id": 4242}) for n in range(2)]
    if all(r.status_code == 422 for r in answers):
        return  # rejecting an id in the body is fine too
    assert all(r.status_code == 201 for r in answers), (
        f"POST {routes.tasks} with an id in the body should answer 201 (the id ignored) or 422, "
        f"got {show(answers[0])} and {show(answers[1])}."
    )
    ids = [r.json().get("id") for r in answers]
    assert ids[0] != ids[1], (
        f'Two tasks posted with "id": 4242 in the body both got id {ids[0]}: the client chose the id. '
        "The app assigns ids: TaskCreate (the body) should have no id field, only TaskPublic does."
    )


def test_each_task_can_be_read_by_its_id(client, create_task, routes):
    created = [create_task(title="Read me first", priority="low"), create_task(title="Read me second", status="done")]
    for task in created:
        r = client.get(routes.task(task["id"]))
        assert r.status_code == 200, (
            f"GET {routes.tasks}/{task['id']} should answer 200 with the task just created, got {show(r)}. "
            'Add a route @app.get("/tasks/{task_id}", ...) in app/main.py.'
        )
        assert r.json() == task, (
            f"GET {routes.tasks}/{task['id']} should answer the task POST answered: {task}, got {show(r)}. "
            "Look the task up by the task_id from the path."
        )


def test_reading_an_absent_task_is_not_found(make_client, create_task, routes):
    known = create_task()["id"]
    absent = known + 1000
    client = make_client(raise_server_exceptions=False)
    r = client.get(routes.task(absent))
    assert r.status_code == 404, (
        f"GET {routes.tasks}/{absent}, an id no task has, should answer 404 Not Found, got {show(r)}. "
        'When the task is not stored, raise HTTPException(status_code=404, detail="Task not found").'
    )
    assert isinstance(r.json(), dict) and "detail" in r.json(), (
        f"A 404 answer should be a JSON object with a detail key, got {show(r)}."
    )


def test_reading_a_task_with_a_non_integer_id_is_rejected(make_client, routes):
    client = make_client(raise_server_exceptions=False)
    for bad in ("abc", "1.5"):
        r = client.get(routes.task(bad))
        assert r.status_code == 422, (
            f"GET {routes.tasks}/{bad} should answer 422, since ids are integers, got {show(r)}. "
            "Annotate the path parameter as an int (task_id: int) so FastAPI validates it. "
            "A 404 means there is no GET /tasks/{task_id} route yet."
        )


def test_tasks_are_listed(client, create_task, public_keys, routes):
    created = [create_task(title=title) for title in ("First", "Second")]
    r = client.get(routes.tasks)
    assert r.status_code == 200 and isinstance(r.json(), list), (
        f"GET {routes.tasks} should answer 200 with a JSON array of tasks, got {show(r)}. "
        'Add a route @app.get("/tasks", response_model=list[TaskPublic]) in app/main.py.'
    )
    listed = {task.get("id"): task for task in r.json() if isinstance(task, dict)}
    for task in created:
        assert listed.get(task["id"]) == task, (
            f"GET {routes.tasks} should list the task {task}, got {show(r)}. Return every stored task."
        )


def test_listed_tasks_hold_exactly_the_public_keys(client, create_task, public_keys, routes):
    create_task(description="Listed", due_date="2026-03-01")
    r = client.get(routes.tasks)
    assert r.status_code == 200 and r.json(), f"GET {routes.tasks} should list the task just created, got {show(r)}."
    for task in r.json():
        assert set(task) == public_keys, (
            f"Each task GET {routes.tasks} lists should hold exactly the keys {sorted(public_keys)}, got {sorted(task)}. "
            "Declare response_model=list[TaskPublic] on the route."
        )


def test_tasks_are_listed_in_id_order(client, create_task, routes):
    created = [create_task(title=title)["id"] for title in ("Banana", "Cherry", "Apple")]
    r = client.get(routes.tasks)
    assert r.status_code == 200 and isinstance(r.json(), list), (
        f"GET {routes.tasks} should answer 200 with a JSON array, got {show(r)}."
    )
    ids = [task.get("id") for task in r.json() if isinstance(task, dict)]
    ours = [each for each in ids if each in created]
    assert ids == sorted(ids) and ours == sorted(created), (
        f"GET {routes.tasks} should list tasks by id, ascending; it listed the ids {ids}. "
        "Return the stored tasks sorted by id (a dict keeps the order tasks were added in)."
    )
