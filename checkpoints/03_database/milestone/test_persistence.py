"""Lesson 03: tasks live in the database named by DATABASE_URL and survive a restart."""

from workbook.testing import database_values, show


def stored_values(url: str) -> list:
    return [value for _table, _column, value in database_values(url)]


def test_tasks_are_stored_in_the_database_that_DATABASE_URL_names(workdir, grading_env, make_client, load_app, routes):
    """Does the app write to the file DATABASE_URL names, rather than to a file of its own?"""
    path = workdir / "named-by-env.db"
    url = f"sqlite:///{path}"
    grading_env["DATABASE_URL"] = url
    client = make_client(load_app())
    r = client.post(routes.tasks, json={"title": "Stored where DATABASE_URL says"})
    assert r.status_code == 201, f"POST {routes.tasks} should answer 201 Created, got {show(r)}."
    assert path.exists(), (
        f"DATABASE_URL was {url}, but the app never created that file. "
        "Build the engine from os.environ['DATABASE_URL'] (with a SQLite file as the default)."
    )
    assert "Stored where DATABASE_URL says" in stored_values(url), (
        f"The task's title is not in the database DATABASE_URL names ({path.name}). "
        "Create the engine from DATABASE_URL and commit the session after adding the task."
    )


def test_tasks_survive_a_restart(load_app, make_client, routes):
    """Stop the app, start it again on the same database: is the task still there?"""
    first = make_client(load_app())
    r = first.post(routes.tasks, json={"title": "Still here after a restart", "priority": "high"})
    assert r.status_code == 201, f"POST {routes.tasks} should answer 201 Created, got {show(r)}."
    task = r.json()

    second = make_client(load_app())  # a fresh import of app.main: nothing kept in memory survives
    r = second.get(routes.task(task["id"]))
    assert r.status_code == 200, (
        f"After a restart, GET {routes.task(task['id'])} should find the task, got {show(r)}. "
        "Keep tasks in the database (session.add, session.commit), not in a Python list or dict."
    )
    assert r.json()["title"] == "Still here after a restart", f"After a restart the task changed: {show(r)}."
    assert r.json()["priority"] == "high", f"After a restart the task lost its priority: {show(r)}."
    listed = second.get(routes.tasks)
    assert task["id"] in [each["id"] for each in listed.json()], (
        f"After a restart, GET {routes.tasks} should list the task, got {show(listed)}."
    )


def test_a_new_database_file_starts_empty(client, routes):
    """A fresh database (a new DATABASE_URL) holds no tasks."""
    r = client.get(routes.tasks)
    assert r.status_code == 200, f"GET {routes.tasks} should answer 200, got {show(r)}."
    assert r.json() == [], f"A fresh database should hold no tasks, but GET {routes.tasks} gave {show(r)}."
