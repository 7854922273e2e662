"""Fixtures for the lesson 03 suite: a quick way to add tasks through the API."""

import pytest

from workbook.testing import show


@pytest.fixture
def add_task(client, routes):
    """add_task(title, **fields) -> the created task (a dict), made with POST."""

    def add(title: str, **fields) -> dict:
        r = client.post(routes.tasks, json={"title": title, **fields})
        assert r.status_code == 201, f"POST {routes.tasks} should answer 201 Created, got {show(r)}."
        return r.json()

    return add
