"""Lesson 07 under a real server: `python -m uvicorn app.main:app`, as the app is deployed.

The suite starts these servers when its first test begins; by now they have had time to start, or to refuse.
"""

from workbook.testing import show


def test_under_uvicorn_every_response_carries_the_security_headers(
    servers, routes, every_kind_of_answer, assert_security_headers
):
    server = servers.development
    started = server.wait()
    assert started is not None and started.status_code == 200, (
        f"The app under uvicorn (python -m uvicorn app.main:app) should answer GET {routes.health} with 200, "
        f"got {started and show(started)}. Its last output:\n    {server.last_lines()}"
    )
    with server.client(timeout=10) as client:
        answers = every_kind_of_answer(client)
    assert_security_headers(answers, "under uvicorn")


def test_under_uvicorn_in_production_the_server_refuses_to_start_without_a_SECRET_KEY(servers, routes):
    refused, control = servers.production_without_key, servers.production_with_key
    answer = refused.wait()
    assert answer is None and refused.stopped(), (
        "With ENVIRONMENT=production and no SECRET_KEY, `python -m uvicorn app.main:app` should stop before it serves, "
        f"but it answered GET {routes.health} with {answer and show(answer)}. In app/config.py, add a validator that "
        "raises ValueError naming SECRET_KEY when environment == 'production' and the key is missing or the default."
    )
    assert "secret_key" in refused.output.lower(), (
        "With ENVIRONMENT=production and no SECRET_KEY the server stopped, but what it printed does not name "
        f"SECRET_KEY:\n    {refused.last_lines()}\nSay which setting is wrong in the error you raise."
    )
    answer = control.wait()
    assert answer is not None and answer.status_code == 200, (
        "With ENVIRONMENT=production and a random SECRET_KEY of 80 characters, the server should start and answer "
        f"GET {routes.health} with 200, got {answer and show(answer)}. Its last output:\n    {control.last_lines()}"
    )
