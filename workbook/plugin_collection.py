"""The plugin's collection hooks: what must run and pass (--exercise: one exercise's checks), and a preflight of
every graded folder before it does.

Loaded with workbook.plugin (its `pytest_plugins`). A folder whose app cannot load has its tests removed, and the
reason becomes the run's load error (workbook.plugin_results reports it).
"""

from __future__ import annotations

import os

import pytest

from workbook.plugin_state import (
    EARLY,
    EXPECTED,
    LOAD_ERRORS,
    MILESTONE_IDS,
    graded_folder,
    is_milestone,
    is_suite_id,
    start_preflight,
    verdict_of,
    write_partial,
)


@pytest.hookimpl(specname="pytest_collection_modifyitems")  # a second implementation in this module
def pytest_collection_modifyitems_exercise(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--exercise NAME: keep only the checks the lesson maps to that exercise (workbook.exercises)."""
    name = config.getoption("exercise")
    if not name:
        return
    from workbook.exercises import UnknownExercise, find_exercise
    from workbook.lessons import Course

    chosen, dropped = [], []
    for item in items:
        checkpoint = item.path.parent.parent  # checkpoints/NN_slug/milestone/test_x.py
        lesson = Course(checkpoint.parent.parent).of_checkpoint(checkpoint) if is_milestone(item) else None
        try:
            keep = lesson is not None and find_exercise(lesson, name).selects(item.name)
        except UnknownExercise as unknown:
            raise pytest.UsageError(str(unknown)) from None
        (chosen if keep else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = chosen


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Preflight every graded folder once; a folder whose app cannot load has its tests removed.

    Trylast: the suites' own hooks (their order) have run, and this list is what must run and pass.
    """
    config.stash[MILESTONE_IDS] = {item.nodeid for item in items if is_milestone(item)}
    config.stash[EXPECTED] = [item.nodeid for item in items if is_milestone(item)]
    write_partial(config, {"event": "collected", "expected": config.stash[EXPECTED]})
    folders = {graded_folder(config, item.path) for item in items if is_milestone(item)}
    early = config.stash[EARLY]
    for unused in set(early) - folders:
        verdict_of(config, early.pop(unused))  # reap it
    if not folders or config.option.collectonly:
        return
    # One preflight per core at a time: many at once (one run grading every checkpoint) would slow
    # each past its time limit and report a hang that is only a crowd.
    waiting = sorted(folders)
    running = {folder: early.pop(folder) for folder in list(early) if folder in folders}
    waiting = [folder for folder in waiting if folder not in running]
    while len(running) < (os.cpu_count() or 2) and waiting:
        folder = waiting.pop(0)
        running[folder] = start_preflight(config, folder)
    found = {}
    while running:
        folder = next(iter(running))
        found[folder] = verdict_of(config, running.pop(folder))
        if waiting:
            folder = waiting.pop(0)
            running[folder] = start_preflight(config, folder)
    errors = {folder: message for folder, message in found.items() if message}
    if not errors:
        return
    config.stash[LOAD_ERRORS].update(errors)
    items[:] = [item for item in items if not (is_milestone(item) and graded_folder(config, item.path) in errors)]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """Under xdist the controller collects nothing: what its workers collected is what must run."""
    config = node.config
    for nodeid in ids:
        if nodeid not in config.stash[MILESTONE_IDS] and is_suite_id(nodeid):
            config.stash[MILESTONE_IDS].add(nodeid)
            config.stash[EXPECTED].append(nodeid)
