"""Spare loads: the next test's app, loaded while this test runs.

Most tests need only a started app with the default settings (`client`). While one runs, the next such test's
app is loaded on the other core, in a place of its own: that test then gets this place, these settings and this
load, which it cannot tell from ones made at its own start (it asks for nothing that could change them first).

workbook.plugin_runtest prepares them as each test starts; the fixtures (workbook.fixtures: place, grading_env,
client) hand a test the spare made for it.
"""

from __future__ import annotations

import pytest

from workbook.keeps import option
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
    for item in ahead:
        if item.nodeid in spares or not is_plain(item) or option(item, "as_user"):
            continue  # --as-user (for its suite): its database and SECRET_KEY are Ada's, set when the test starts
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
