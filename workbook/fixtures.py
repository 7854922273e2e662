"""The fixtures milestone suites get the app through: never a module-level `import app`, never the app object.

Registered by the plugin (workbook.plugin), so every suite has them. The learner's app never runs in this
process: each load is a child in the sandbox (workbook.sandbox_apps), in the test's own copy of the submission,
and a client talks to it over HTTP. What a test needs of the app beyond HTTP is a probe the load answers with
data (AppLoad.probe), or a file the grader reads itself (workbook.testing.database_values).

This module holds the graded folder, its place and settings for the test, the loads, the request time limit and
the people signed in; the clients of the app (make_client, start_served, client, live_server) are in
workbook.client_fixtures. Options that differ per suite (a kept suite's --api-prefix, --as-user) are read through
workbook.keeps.option; with --as-user a client acts as Ada, signed up once per folder (workbook.keeps.act_as).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook import keeps, shared_loads
from workbook.appfiles import SUITE_FOLDER
from workbook.lessons import Course, Lesson
from workbook.plugin_state import AFTER_A_HANG, HUNG, graded_folder, host_for
from workbook.sandbox_apps import AppHost, AppLoad, Place
from workbook.spares import SPARES, TAKEN, is_plain
from workbook.testing import Routes


@pytest.fixture
def app_dir(request: pytest.FixtureRequest) -> Path:
    """The folder being graded. Read only: the app runs from a copy of it."""
    return graded_folder(request.config, request.path)


def suite_lesson(test_path: Path) -> Lesson | None:
    """The lesson whose milestone suite holds this test (checkpoints/NN_slug/milestone/...), if any."""
    for parent in Path(test_path).resolve().parents:
        if parent.name == SUITE_FOLDER:
            return Course(parent.parent.parent.parent).of_checkpoint(parent.parent)
    return None


@pytest.fixture
def routes(request: pytest.FixtureRequest) -> Routes:
    """The contract's URLs: under --api-prefix when given, else where the suite's own lesson has them."""
    chosen = keeps.option(request, "api_prefix")
    if not chosen:
        lesson = suite_lesson(request.path)
        chosen = lesson.api_prefix if lesson else ""
    return Routes(chosen.rstrip("/"))


@pytest.fixture
def app_host(request: pytest.FixtureRequest, app_dir: Path) -> AppHost:
    """The sandbox side of the graded folder: its snapshot, its warm zygote (one per folder and run)."""
    return host_for(request.config, app_dir)


@pytest.fixture
def place(request: pytest.FixtureRequest, app_host: AppHost, app_loads: list) -> Place:
    """This test's folder in the sandbox's area: a fresh copy of the submission, and room for the app's files."""
    spare = request.config.stash.setdefault(SPARES, {}).pop(request.node.nodeid, None)
    shared = shared_loads.take(request, app_host, spare)  # a kept suite's plain test: not ended after it
    if shared is not None:
        request.node.stash[TAKEN] = shared
        return shared.place
    if spare is not None and spare.host is app_host and is_plain(request.node):
        request.node.stash[TAKEN] = spare
        app_loads.append(spare.load)
        return spare.place
    if spare is not None:
        spare.load.end()
    return app_host.place()


@pytest.fixture
def workdir(place: Place) -> Path:
    """A fresh copy of the graded folder: the app's working directory for this test.

    The grader may write files here before the app first loads (a .env); afterwards the app owns the folder:
    read what it wrote with workbook.testing's helpers, which never follow a link.
    """
    return place.workdir


@pytest.fixture
def app_folder(app_host: AppHost, place: Place):
    """app_folder(name) -> a new, empty folder beside this test's copy, the app's to write (a database's folder)."""

    def make(name: str) -> Path:
        folder = place.folder / name
        folder.mkdir()
        if app_host.owner is not None:
            os.chown(folder, app_host.owner, app_host.owner, follow_symlinks=False)  # never through a link
        return folder

    return make


@pytest.fixture
def grading_env(request: pytest.FixtureRequest, app_host: AppHost, place: Place) -> dict[str, str]:
    """Every setting the curriculum names, pointed at throwaway places: the learner's own stay untouched."""
    spare = request.node.stash.get(TAKEN, None)
    if spare is not None and spare.place is place:
        return dict(spare.env)
    return app_host.settings(place)


@pytest.fixture
def app_loads():
    """Every load a test starts, ended after it."""
    started: list[AppLoad] = []
    yield started
    for load in started:
        load.end()


@pytest.fixture
def load_app(app_host: AppHost, place: Place, grading_env: dict[str, str], app_loads: list[AppLoad]):
    """load_app(**overrides) -> an AppLoad: app.main imported afresh in the sandbox, from this test's copy, with
    the grading settings and overrides (None unsets one); call it again for a restart. Not yet started: a client
    of it (make_client) runs its startup. Raises LoadFailed when the app cannot be imported."""

    def load(**overrides: str | None) -> AppLoad:
        started = app_host.start_load(place, {**grading_env, **overrides})
        app_loads.append(started)
        started.wait_imported()
        return started

    return load


@pytest.fixture
def request_time_limit(request: pytest.FixtureRequest) -> float:
    """Seconds a request may take: --request-timeout, or far less once the app has left one unanswered."""
    limit = request.config.getoption("request_timeout")
    if graded_folder(request.config, request.path) in request.config.stash[HUNG]:
        limit = min(limit, AFTER_A_HANG)
    return limit


@pytest.fixture
def mark_hung(request: pytest.FixtureRequest):
    """Called when a request timed out: later requests to this folder's app get AFTER_A_HANG seconds."""
    folder = graded_folder(request.config, request.path)
    return lambda: request.config.stash[HUNG].add(folder)


@pytest.fixture(autouse=True)
def signed_in_people(request: pytest.FixtureRequest):
    """--as-user (for this test's suite: workbook.keeps): Ada and Bob in the test's database, before any fixture or
    the test loads the app; None otherwise. A test that looks at its own settings or files (an empty database
    before startup, say) gets her copied in only into a database that does not exist when its app starts."""
    loads = {"client", "make_client", "load_app", "start_served"} & set(request.fixturenames)
    if not loads or not keeps.option(request, "as_user"):
        return None
    info = getattr(request.node, "_fixtureinfo", None)
    return keeps.signed_in(
        request, copy=not {"grading_env", "workdir", "app_folder"} & set(getattr(info, "argnames", ()))
    )
