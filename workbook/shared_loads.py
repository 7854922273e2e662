"""A kept suite's plain tests share one started app (workbook.keeps): an earlier lesson's checks, run against the
learner's app one after another in the same load and database, instead of a fresh load each.

Most of those checks only read what they create, or are turned away (422, 404): sharing a load halves what
`workbook check 05`'s four kept suites cost. A check that fails there is run again on a load of its own, and only
that run counts, so what another check left behind (a listing that finds more tasks than its own) can never fail
a correct app. A shared load that died or left a request unanswered is ended: the next check starts a new one.

A pass on the shared load counts: an app that misbehaves only while fresh could pass a kept check there. The
lesson's own checks always get fresh loads, and each earlier lesson ran these checks fresh in its own check.
"""

from __future__ import annotations

import contextlib

import pytest
from _pytest.runner import runtestprotocol

from workbook.keeps import kept_suites, option, suite_of
from workbook.plugin_state import GRADER_ERRORS, HUNG, graded_folder

SHARED = pytest.StashKey[dict]()  # (graded folder, suite) -> the spares.Spare its plain tests share
ALONE = pytest.StashKey[bool]()  # on a test item: run on a load of its own (its shared run failed)
USED = pytest.StashKey[bool]()  # on a test item: this run took the shared load


def shares(item: pytest.Item) -> bool:
    """Whether this test runs on its kept suite's shared load: a kept suite's plain test (spares.is_plain)."""
    from workbook.spares import is_plain

    if item.stash.get(ALONE, False) or suite_of(item.nodeid) not in kept_suites(item.config):
        return False
    return is_plain(item)


def _key(item: pytest.Item) -> tuple:
    return graded_folder(item.config, item.path), suite_of(item.nodeid), bool(option(item, "as_user"))


def current(item: pytest.Item):
    """The live shared load of this test's suite, if any."""
    spare = item.config.stash.setdefault(SHARED, {}).get(_key(item))
    if spare is None or spare.load.failure is not None or spare.load._ended:
        return None
    return spare


def take(request: pytest.FixtureRequest, app_host, spare):
    """For the `place` fixture: the shared Spare this test runs on (its own spare, loaded ahead, becomes the
    shared one when there is none yet), or None for a place of its own."""
    item = request.node
    if not shares(item):
        return None
    shared = current(item)
    if shared is not None and shared.host is not app_host:
        shared = None
    if shared is None:
        if spare is None or spare.host is not app_host:
            return None
        shared = spare
        item.config.stash[SHARED][_key(item)] = shared
    elif spare is not None and spare is not shared:
        spare.load.end()
    item.stash[USED] = True
    return shared


def release(client) -> None:
    """After a test: its client leaves the shared load's list (the load keeps serving the next test)."""
    load = getattr(client, "load", None)
    if load is not None and client in getattr(load, "clients", ()):
        load.clients.remove(client)


def _end(item: pytest.Item) -> None:
    shared = item.config.stash[SHARED].pop(_key(item), None)
    if shared is not None:
        with contextlib.suppress(Exception):
            shared.load.end()


def end_all(config: pytest.Config) -> None:
    for spare in config.stash.get(SHARED, {}).values():
        spare.load.end()
    config.stash[SHARED] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """A test on a shared load that fails is run again alone; only the run that counts is reported."""
    if not shares(item):
        return None
    errors = item.config.stash[GRADER_ERRORS]
    before = len(errors)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    if item.stash.get(USED, False) and any(report.failed for report in reports):
        del errors[before:]  # what went wrong on the shared load is told by the run alone, if it goes wrong again
        if current(item) is None or graded_folder(item.config, item.path) in item.config.stash[HUNG]:
            _end(item)  # it died or left a request unanswered: the next check starts a new one
        item.stash[ALONE] = True
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
