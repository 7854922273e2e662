"""The fixtures milestone suites get the app through: never a module-level `import app`, never the app object.

Registered by the plugin (workbook.plugin), so every suite has them. The learner's app never runs in this
process: each load is a child in the sandbox (workbook.sandbox_apps), in the test's own copy of the submission,
and a client talks to it over HTTP. What a test needs of the app beyond HTTP is a probe the load answers with
data (AppLoad.probe), or a file the grader reads itself (workbook.testing.database_values).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook.appfiles import SUITE_FOLDER
from workbook.lessons import Course, Lesson
from workbook.plugin import AFTER_A_HANG, HOSTS, HUNG, graded_folder, host_for
from workbook.sandbox_apps import AppHost, AppLoad, Place
from workbook.sandbox_client import AppClient
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
    chosen = request.config.getoption("api_prefix")
    if not chosen:
        lesson = suite_lesson(request.path)
        chosen = lesson.api_prefix if lesson else ""
    return Routes(chosen.rstrip("/"))


@pytest.fixture
def app_host(request: pytest.FixtureRequest, app_dir: Path) -> AppHost:
    """The sandbox side of the graded folder: its snapshot, its warm zygote (one per folder and run)."""
    return host_for(request.config, app_dir)


# --- a spare load: the next test's app, loaded while this test runs ---------------------------------------
#
# Most tests need only a started app with the default settings (`client`). While one runs, the next such test's
# app is loaded on the other core, in a place of its own: that test then gets this place, these settings and this
# load, which it cannot tell from ones made at its own start (it asks for nothing that could change them first).

SPARES = pytest.StashKey[dict]()  # node id of the test it is for -> Spare
TAKEN = pytest.StashKey[object]()  # on a test item: the Spare it took
PLAIN_CHAIN = {
    "client", "start_served", "place", "grading_env", "app_host", "app_dir", "app_loads", "request_time_limit",
    "mark_hung", "routes", "request",
}  # fmt: skip
CUSTOMIZING = {
    "place", "grading_env", "workdir", "load_app", "make_client", "app_folder", "live_server", "app_loads",
    "app_host", "people", "reader", "seed", "seeds", "one_hash_seconds",
}  # fmt: skip


class Spare:
    def __init__(self, host: AppHost):
        self.host = host
        self.place = host.place()
        self.env = host.settings(self.place)
        self.load = host.start_load(self.place, dict(self.env), serve=True)


def is_plain(item) -> bool:
    """Whether a test uses the app only through `client`, with the default settings, and no fixture of it could
    change the settings or the copy before the app loads."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None or "client" not in getattr(item, "fixturenames", ()):
        return False
    if set(info.argnames) & CUSTOMIZING:
        return False
    if len(info.name2fixturedefs.get("grading_env", ())) != 1:  # a suite's own settings (lesson 07's)
        return False
    for name in item.fixturenames:
        if name in PLAIN_CHAIN:
            continue
        for fixturedef in info.name2fixturedefs.get(name, ()):
            if set(fixturedef.argnames) & CUSTOMIZING:
                return False
    return True


AHEAD = 2  # spares loading at once: the zygote's side of a test costs more than this side's, on two cores


def prepare_spares(config: pytest.Config, upcoming: list) -> None:
    """Load the apps of the next AHEAD plain tests now (those that have none yet); drop spares no test will take."""
    spares: dict = config.stash.setdefault(SPARES, {})
    ahead = [item for item in upcoming[:AHEAD] if item is not None]
    wanted = {item.nodeid for item in ahead}
    for nodeid in [nodeid for nodeid in spares if nodeid not in wanted]:
        spares.pop(nodeid).load.end()
    if config.getoption("as_user"):
        return
    for item in ahead:
        if item.nodeid in spares or not is_plain(item):
            continue
        host = config.stash[HOSTS].get(graded_folder(config, item.path))
        if host is None or host.ready is None or host.gone or host.snapshot is None:
            continue
        try:
            spares[item.nodeid] = Spare(host)
        except Exception:  # noqa: BLE001 - no spare: the test loads its own
            return


def drop_spares(config: pytest.Config) -> None:
    for spare in config.stash.get(SPARES, {}).values():
        spare.load.end()
    config.stash[SPARES] = {}


@pytest.fixture
def place(request: pytest.FixtureRequest, app_host: AppHost, app_loads: list) -> Place:
    """This test's folder in the sandbox's area: a fresh copy of the submission, and room for the app's files."""
    spare = request.config.stash.setdefault(SPARES, {}).pop(request.node.nodeid, None)
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
            os.chown(folder, app_host.owner, app_host.owner)
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


@pytest.fixture
def make_client(request: pytest.FixtureRequest, start_served, request_time_limit: float, routes: Routes, mark_hung):
    """make_client(app=None, *, raise_server_exceptions=True) -> a client of a started app (its lifespan ran).

    `app`: an AppLoad from load_app(); None loads the app afresh. Clients close, and loads end, after the test.
    """
    as_user = request.config.getoption("as_user")

    def make(app: AppLoad | None = None, *, raise_server_exceptions: bool = True) -> AppClient:
        app = start_served() if app is None else app
        client = app.client(
            raise_server_exceptions=raise_server_exceptions, time_limit=request_time_limit, on_timeout=mark_hung
        )
        if as_user:
            from workbook.testing import sign_in_grader

            sign_in_grader(client, routes)
        return client

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
def client(request: pytest.FixtureRequest, start_served, request_time_limit: float, routes: Routes, mark_hung):
    """A client of the app, loaded and started at its first request: every fixture of the test has run by then
    (the settings, a seeded database), whatever the order the test names them in."""
    as_user = request.config.getoption("as_user")
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
        from workbook.testing import sign_in_grader

        sign_in_grader(each, routes)

    lazy = AppClient(
        connect, time_limit=request_time_limit, on_timeout=mark_hung, on_start=signed_in if as_user else None
    )
    yield lazy
    lazy.close()


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
