"""The plugin's hooks around each test's run: the next tests' apps loaded meanwhile, and failure output a
learner can read.

Loaded with workbook.plugin (its `pytest_plugins`).
"""

from __future__ import annotations

import pytest

from workbook import loader
from workbook.failures import KIND_PROPERTY, explained
from workbook.keeps import held_back
from workbook.plugin_state import GRADER_ERRORS, HOSTS, HUNG, graded_folder, is_milestone

# --- the next test's app, loaded meanwhile -----------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """While this test runs, load the next ones' apps on the other core (workbook.spares.prepare_spares)."""
    if item.config.stash[HOSTS]:
        from workbook.spares import AHEAD, prepare_spares

        items = item.session.items
        try:
            here = items.index(item)
        except ValueError:
            return
        prepare_spares(item.config, items[here + 1 : here + 1 + AHEAD])


# --- the kept suites run once the lesson's own checks pass -------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A kept suite's test is skipped once a check of the lesson's own has failed (workbook.keeps.held_back)."""
    if held_back(item):
        pytest.skip("not run: the earlier lessons' checks run once this lesson's own pass")


# --- failure output a learner can read ---------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
    """A milestone failure, told in the learner's terms, without formatting the framework's frames.

    pytest's own report would render every Starlette and AnyIO frame first (seconds per failure).
    """
    excinfo = call.excinfo
    if excinfo is None or not is_milestone(item):
        return None
    if excinfo.errisinstance(loader.RequestTimedOut):
        item.config.stash[HUNG].add(graded_folder(item.config, item.path))
    from workbook.sandbox_apps import GraderError

    if excinfo.errisinstance(GraderError):
        item.config.stash[GRADER_ERRORS].append(str(excinfo.value))
    if item.config.option.tbstyle != "auto" or excinfo.errisinstance(
        (pytest.skip.Exception, pytest.exit.Exception, KeyboardInterrupt)
    ):
        return None
    sections = [
        (f"Captured {key} {call.when}", text)
        for when, key, text in getattr(item, "_report_sections", [])
        if when == call.when
    ]
    from workbook.sandbox_apps import clean

    text, kind = explained(item, excinfo)
    return pytest.TestReport(
        item.nodeid,
        item.location,
        dict.fromkeys(item.keywords, 1),
        "failed",
        clean(text, 8000),  # it quotes the app: no control characters, not too long
        call.when,
        sections,
        call.duration,
        call.start,
        call.stop,
        user_properties=[*item.user_properties, (KIND_PROPERTY, kind)],  # how basic it is (workbook.diagnoses)
    )
