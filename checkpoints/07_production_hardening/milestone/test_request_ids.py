"""Lesson 07: each request has an id, X-Request-ID: the caller's own when it sends one, else a new one.

The id ties together every log line of one request, and a user's report ("it failed, request id
...") to those lines.
"""

import uuid

from workbook.testing import show

WHERE = (
    "In a middleware, take the request's X-Request-ID or make one with uuid.uuid4(), keep it in a ContextVar, "
    "and set it on the response's headers."
)


def test_an_incoming_X_Request_ID_is_echoed(client, routes):
    for url in (routes.health, routes.tasks):
        sent = str(uuid.uuid4())
        r = client.get(url, headers={"X-Request-ID": sent})
        echoed = r.headers.get("x-request-id")
        assert echoed == sent, (
            f"GET {url} with X-Request-ID: {sent} should answer with the same X-Request-ID, "
            f"got {echoed!r} ({show(r)}). {WHERE}"
        )


def test_a_request_without_an_id_gets_a_new_one_every_time(client, routes):
    sent = str(uuid.uuid4())
    client.get(routes.health, headers={"X-Request-ID": sent})
    answers = [client.get(routes.health) for _ in range(3)]
    ids = [r.headers.get("x-request-id") for r in answers]
    assert all(ids), (
        f"GET {routes.health} without an X-Request-ID should answer with a new one, got the ids {ids}. {WHERE}"
    )
    assert len(set(ids)) == len(ids), (
        f"Three requests without an X-Request-ID should get three different ids, got {ids}. "
        "Make a new id for each request (uuid.uuid4() inside the middleware, not once at import)."
    )
    assert sent not in ids, (
        f"After a request that sent X-Request-ID: {sent}, a request without one was answered with that same id: "
        "the id must belong to one request only. Keep it in a ContextVar, not in a global variable."
    )
