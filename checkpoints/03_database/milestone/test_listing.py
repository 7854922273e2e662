"""Lesson 03: listing tasks a page at a time, in id order, filtered by status and priority."""

import pytest

from workbook.testing import show


def ids(response) -> list[int]:
    return [task["id"] for task in response.json()]


def test_tasks_are_listed_in_id_order(client, routes, add_task):
    made = [add_task(f"Task {n}")["id"] for n in range(4)]
    r = client.get(routes.tasks)
    assert r.status_code == 200, f"GET {routes.tasks} should answer 200, got {show(r)}."
    assert ids(r) == sorted(made), (
        f"GET {routes.tasks} should list every task by id ascending ({sorted(made)}), got ids {ids(r)}. Use .order_by(Task.id)."
    )


def test_offset_and_limit_select_a_page(client, routes, add_task):
    made = [add_task(f"Task {n}")["id"] for n in range(5)]
    r = client.get(routes.tasks, params={"offset": 1, "limit": 2})
    assert r.status_code == 200, f"GET {routes.tasks}?offset=1&limit=2 should answer 200, got {show(r)}."
    assert ids(r) == made[1:3], (
        f"offset=1&limit=2 should skip one task and return the next two ({made[1:3]}), got ids {ids(r)}."
    )
    r = client.get(routes.tasks, params={"offset": 4})
    assert ids(r) == made[4:], (
        f"offset=4 should return only the last of 5 tasks ({made[4:]}), got ids {ids(r)}. Apply .offset(offset)."
    )
    r = client.get(routes.tasks, params={"offset": 5})
    assert r.status_code == 200 and r.json() == [], f"An offset past the end should give an empty list, got {show(r)}."


def test_limit_defaults_to_100(client, routes, add_task):
    made = [add_task(f"Task {n}")["id"] for n in range(101)]
    r = client.get(routes.tasks)
    assert ids(r) == made[:100], (
        f"Without a limit, GET {routes.tasks} should return the first 100 of 101 tasks, got {len(r.json())}. Give limit the default 100."
    )
    r = client.get(routes.tasks, params={"limit": 100, "offset": 100})
    assert ids(r) == made[100:], f"offset=100&limit=100 should return the 101st task, got {show(r)}."


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": -1}, {"offset": -1}, {"limit": "ten"}, {"offset": "first"}]
)
def test_out_of_range_paging_is_rejected(client, routes, params):
    r = client.get(routes.tasks, params=params)
    assert r.status_code == 422, (
        f"GET {routes.tasks} with {params} should answer 422 (offset >= 0, limit 1..100), got {show(r)}. "
        "Declare them with Query(ge=..., le=...)."
    )


@pytest.mark.parametrize("params", [{"limit": 1}, {"limit": 100}, {"offset": 0}])
def test_paging_bounds_are_accepted(client, routes, params):
    r = client.get(routes.tasks, params=params)
    assert r.status_code == 200, (
        f"GET {routes.tasks} with {params} is within the bounds and should answer 200, got {show(r)}."
    )


def test_filter_by_status_and_priority(client, routes, add_task):
    a = add_task("A", status="done", priority="high")["id"]
    b = add_task("B", status="todo", priority="high")["id"]
    c = add_task("C", status="done", priority="low")["id"]
    d = add_task("D", status="doing", priority="medium")["id"]
    cases = [
        ({"status": "done"}, [a, c]),
        ({"status": "doing"}, [d]),
        ({"priority": "high"}, [a, b]),
        ({"status": "done", "priority": "high"}, [a]),
        ({"status": "todo", "priority": "low"}, []),
    ]
    for params, expected in cases:
        r = client.get(routes.tasks, params=params)
        assert r.status_code == 200, f"GET {routes.tasks} with {params} should answer 200, got {show(r)}."
        assert ids(r) == expected, (
            f"GET {routes.tasks} with {params} should list ids {expected}, got {ids(r)}. "
            "Add a .where(...) for each filter that is given."
        )


def test_filters_and_paging_combine(client, routes, add_task):
    done = [add_task(f"Done {n}", status="done")["id"] for n in range(3)]
    add_task("Not done")
    r = client.get(routes.tasks, params={"status": "done", "offset": 1, "limit": 1})
    assert ids(r) == done[1:2], (
        f"status=done&offset=1&limit=1 should give the second done task ({done[1:2]}), got {ids(r)}. Filter before paging."
    )


@pytest.mark.parametrize("params", [{"status": "later"}, {"priority": "urgent"}])
def test_unknown_filter_value_is_rejected(client, routes, params):
    r = client.get(routes.tasks, params=params)
    assert r.status_code == 422, (
        f"GET {routes.tasks} with {params} should answer 422 (not a known value), got {show(r)}. Type the filter with the enum."
    )
