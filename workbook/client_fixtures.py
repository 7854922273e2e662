"""The fixtures that give a milestone suite clients of the app: make_client, start_served, client, live_server.

Registered by the plugin (workbook.plugin) beside workbook.fixtures, whose fixtures these build on (the test's
place and settings, its loads, the request time limit, the people signed in with --as-user). Each client talks
to a load of the app in the sandbox over HTTP, and records the requests it sent (AppClient.exchanges), which a
failure's diagnosis reads (workbook.failures). With --as-user (read through workbook.keeps.option) a client
acts as Ada, signed up once per folder (workbook.keeps.act_as).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook import keeps, shared_loads
from workbook.sandbox_apps import AppHost, AppLoad, Place
from workbook.sandbox_client import AppClient
from workbook.spares import TAKEN
from workbook.testing import Routes


@pytest.fixture
def make_client(
    request: pytest.FixtureRequest, start_served, request_time_limit: float, routes: Routes, mark_hung, signed_in_people
):
    """make_client(app=None, *, raise_server_exceptions=True) -> a client of a started app (its lifespan ran).

    `app`: an AppLoad from load_app(); None loads the app afresh. Clients close, and loads end, after the test.
    With --as-user (for this test's suite: workbook.keeps), each client acts as Ada (workbook.keeps.signed_in).
    """

    def make(app: AppLoad | None = None, *, raise_server_exceptions: bool = True) -> AppClient:
        app = start_served() if app is None else app
        keeps.seed_before_start(signed_in_people, app)  # before its startup: not yet served
        client = app.client(
            raise_server_exceptions=raise_server_exceptions, time_limit=request_time_limit, on_timeout=mark_hung
        )
        if signed_in_people is not None:
            keeps.act_as(client, signed_in_people, app, routes)
        make.clients.append(client)  # their requests are what a failure's diagnosis reads (workbook.failures)
        return client

    make.clients = []
    return make


@pytest.fixture
def start_served(app_host: AppHost, place: Place, grading_env: dict[str, str], app_loads: list[AppLoad]):
    """start_served(**overrides) -> an AppLoad asked to serve as soon as it is imported (one round trip less)."""

    def start(**overrides: str | None) -> AppLoad:
        started = app_host.start_load(place, {**grading_env, **overrides}, serve=True)
        app_loads.append(started)
        started.wait_imported()
        return started

    return start


@pytest.fixture
def client(
    request: pytest.FixtureRequest, start_served, request_time_limit: float, routes: Routes, mark_hung, signed_in_people
):
    """A client of the app, loaded and started at its first request: every fixture of the test has run by then
    (the settings, a seeded database), whatever the order the test names them in."""
    lazy: AppClient

    def connect() -> Path:
        spare = request.node.stash.get(TAKEN, None)
        if spare is not None and spare.env == request.getfixturevalue("grading_env"):
            started = spare.load  # loaded while the test before ran, with these very settings, in this place
        else:
            started = start_served()
        started.serve()
        lazy.load = started
        started.clients.append(lazy)
        return started.socket_path

    def signed_in(each: AppClient) -> None:
        keeps.act_as(each, signed_in_people, each.connect_now(), routes)  # its settings tell whose database it has

    lazy = AppClient(
        connect,
        time_limit=request_time_limit,
        on_timeout=mark_hung,
        on_start=signed_in if signed_in_people is not None else None,
    )
    yield lazy
    lazy.close()
    shared_loads.release(lazy)


class LiveServer:
    """The app served as deployed (no exception reports, responses as they come), on a Unix socket."""

    def __init__(self, load: AppLoad):
        self.load = load

    def client(self, timeout: float) -> AppClient:
        """A plain HTTP client of the server: nothing it answers is raised."""
        return AppClient(
            lambda: self.load.socket_path, raise_server_exceptions=False, time_limit=timeout, load=self.load
        )


@pytest.fixture
def live_server(load_app):
    """live_server(**overrides) -> a LiveServer: the app under a real uvicorn, loaded like any test's, with its own
    event loop, so that a route that blocks it shows. Its clients come from .client(timeout)."""

    def start(**overrides: str | None) -> LiveServer:
        started = load_app(**overrides)
        started.serve(hold=False)
        return LiveServer(started)

    return start
