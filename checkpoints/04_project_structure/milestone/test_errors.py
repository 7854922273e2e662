"""Lesson 04: every error answers a JSON object with a `detail` key."""

import pytest

from workbook.testing import show

# Paths under the API's prefix ({api}), whatever lesson runs the suite.
CASES = [
    ("GET", "/no/such/route", None, 404, "an unknown route"),
    ("GET", "{api}/no-such-thing", None, 404, "an unknown route under the prefix"),
    ("PUT", "/health", None, 405, "a method the route does not allow"),
    ("DELETE", "{api}/tasks", None, 405, "a method the route does not allow"),
    ("POST", "{api}/tasks", {"title": ""}, 422, "an invalid body"),
    ("GET", "{api}/tasks/not-a-number", None, 422, "a path parameter that is not an int"),
    ("GET", "{api}/tasks/999999", None, 404, "a task that does not exist"),
    ("PATCH", "{api}/tasks/999999", {"status": "done"}, 404, "a task that does not exist"),
    ("DELETE", "{api}/tasks/999999", None, 404, "a task that does not exist"),
]


@pytest.mark.parametrize("method, where, body, status, what", CASES, ids=[f"{c[3]}-{c[0]} {c[1]}" for c in CASES])
def test_every_error_is_json_with_detail(client, routes, method, where, body, status, what):
    path = where.format(api=routes.prefix)
    r = client.request(method, path, json=body)
    assert r.status_code == status, f"{method} {path} ({what}) should answer {status}, got {show(r)}."
    assert r.headers.get("content-type", "").startswith("application/json"), (
        f"{method} {path} ({what}) should answer JSON, got content-type {r.headers.get('content-type')!r}: {show(r)}."
    )
    assert isinstance(r.json(), dict) and "detail" in r.json(), (
        f"{method} {path} ({what}) should answer a JSON object with a `detail` key, got {show(r)}. "
        'Check what your exception handlers return: JSONResponse(status_code=..., content={"detail": ...}).'
    )
