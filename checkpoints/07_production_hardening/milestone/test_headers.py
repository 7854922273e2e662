"""Lesson 07: every response tells the browser how to protect its user, errors and preflights included."""

from workbook.testing import show


def test_every_response_carries_the_security_headers(client, every_kind_of_answer, assert_security_headers):
    assert_security_headers(every_kind_of_answer(client), "of the app")


def test_a_500_carries_the_security_headers_too(
    app_with_a_failing_route, make_client, failing_route, assert_security_headers
):
    app, _secret = app_with_a_failing_route
    client = make_client(app, raise_server_exceptions=False)
    r = client.get(failing_route)
    assert r.status_code == 500, (
        f"GET {failing_route}, a route that raises RuntimeError, should answer 500, got {show(r)}."
    )
    assert_security_headers([(f"GET {failing_route} (it raises)", r)], "(an unexpected error included)")
