"""Lesson 07: an unexpected error answers 500 JSON with the request id; its details stay in the log.

The suite adds a route that raises a RuntimeError whose text is a secret. A traceback or an
exception's text tells an attacker how the app is built; the request id is enough to find them in the log.
"""

import uuid

from workbook.testing import show


def test_an_unexpected_error_answers_500_json_with_the_request_id_and_no_traceback(
    app_with_a_failing_route, make_client, failing_route, routes
):
    app, secret = app_with_a_failing_route
    client = make_client(app, raise_server_exceptions=False)
    control = client.get(routes.health)
    assert control.status_code == 200, f"GET {routes.health} should answer 200, got {show(control)}."
    sent = str(uuid.uuid4())
    r = client.get(failing_route, headers={"X-Request-ID": sent})
    assert r.status_code == 500, (
        f"GET {failing_route}, a route that raises RuntimeError, should answer 500, got {show(r)}."
    )
    try:
        body = r.json()
    except ValueError:
        body = None
    assert isinstance(body, dict) and "detail" in body, (
        f"An unexpected error should answer a JSON object with a `detail` key, got {show(r)}. Catch the exception "
        "in your request middleware (around the whole app) and answer JSONResponse({'detail': ...}, status_code=500)."
    )
    for leak in (secret, "Traceback", "RuntimeError"):
        assert leak not in r.text, (
            f"The 500's body shows what went wrong inside ({leak!r} is in {show(r)}). Answer a fixed message; "
            "log the exception with logger.exception(...) so the traceback goes to the log, never to the client."
        )
    assert sent in r.text or r.headers.get("x-request-id") == sent, (
        f"The request sent X-Request-ID: {sent}, but the 500 carries it neither in its body nor in its X-Request-ID "
        f"header (got {show(r)}, X-Request-ID {r.headers.get('x-request-id')!r}). Build the 500 inside the request "
        "middleware, where the id is known: an exception handler for Exception runs outside every middleware."
    )
