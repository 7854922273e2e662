"""Spare loads: the next test's app, loaded while this test runs.

Most tests need only a started app with the default settings (`client`). While one runs, the next such test's
app is loaded on the other core, in a place of its own: that test then gets this place, these settings and this
load, which it cannot tell from ones made at its own start (it asks for nothing that could change them first).

workbook.plugin_runtest prepares them as each test starts; the fixtures (workbook.fixtures: place, grading_env;
workbook.client_fixtures: client) hand a test the spare made for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook import shared_loads
from workbook.keeps import held_back, option
from workbook.plugin_state import HOSTS, graded_folder
from workbook.sandbox_apps import AppHost

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


SEEDS = pytest.StashKey[dict]()  # graded folder -> auth_fixtures.Seed: Ada and Bob, once signed up


class Spare:
    """A place and a load started in it; `seed`: Ada and Bob's database copied in first, under their SECRET_KEY
    (a test of a suite kept with --as-user: workbook.keeps), so the test's `people` need not copy it again."""

    def __init__(self, host: AppHost, seed=None):
        self.host = host
        self.place = host.place()
        self.env = host.settings(self.place)
        self.seeded = seed is not None
        if seed is not None:
            from workbook import sandbox_files

            self.env["SECRET_KEY"] = seed.secret_key
            database = Path(self.env["DATABASE_URL"].removeprefix("sqlite:///"))
            sandbox_files.copy_file(seed.template, database, owner=host.owner)
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
    for item in ahead:
        if item.nodeid in spares or not is_plain(item) or held_back(item):
            continue
        if shared_loads.shares(item) and shared_loads.current(item) is not None:
            continue  # it runs on its kept suite's shared load
        folder = graded_folder(config, item.path)
        seed = config.stash.get(SEEDS, {}).get(folder) if option(item, "as_user") else None
        if option(item, "as_user") and (seed is None or seed.people is None or seed.template is None):
            continue  # Ada and Bob are not signed up yet (or not in SQLite): the test makes its own place
        host = config.stash[HOSTS].get(folder)
        if host is None or host.ready is None or host.gone or host.snapshot is None:
            continue
        try:
            spares[item.nodeid] = Spare(host, seed)
        except Exception:  # noqa: BLE001 - no spare: the test loads its own
            return


def drop_spares(config: pytest.Config) -> None:
    for spare in config.stash.get(SPARES, {}).values():
        spare.load.end()
    config.stash[SPARES] = {}
