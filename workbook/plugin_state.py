"""What one grading session keeps in config.stash, the graded folders' sandboxes, and which folder a test grades.

No hooks here: the plugin's modules (workbook.plugin and the hook modules it loads) and the fixtures share this
state, and import it from here so that none of them imports another plugin module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

LOAD_ERRORS = pytest.StashKey[dict]()
RESULTS = pytest.StashKey[dict]()  # node id -> its result (a dict: nodeid, name, outcome, message)
MILESTONE_IDS = pytest.StashKey[set]()
EXPECTED = pytest.StashKey[list]()  # the milestone tests collected, in order: what must run and pass
GRADER_ERRORS = pytest.StashKey[list]()
HUNG = pytest.StashKey[set]()  # folders whose app already left a request unanswered
AFTER_A_HANG = 2.0  # seconds: one hung request is enough evidence; later ones fail fast
EARLY = pytest.StashKey[dict]()  # preflights started before collection
HOSTS = pytest.StashKey[dict]()  # graded folder -> its AppHost (the sandbox side: snapshot, zygote, loads)
PARTIAL = ".partial"  # the report's sibling, written as tests end: what finished, should the run be killed


def grading_run(config: pytest.Config) -> bool:
    """A run whose exit code is a verdict: it grades a folder, or reports to a grader."""
    return bool(config.getoption("app_dir") or config.getoption("workbook_report"))


def host_for(config: pytest.Config, folder: Path):
    """The AppHost of a graded folder, started on first use (its zygote imports the frameworks meanwhile)."""
    from workbook.sandbox_apps import AppHost

    hosts = config.stash[HOSTS]
    if folder not in hosts:
        network = bool(config.getoption("postgres", False))  # lesson 08: the grading server is on 127.0.0.1
        handed = json.loads(config.getoption("workbook_host") or "null")
        fits = handed and Path(handed["folder"]) == folder and bool(handed.get("network")) == network
        if fits and not config.stash.get(_ADOPTED, False):
            config.stash[_ADOPTED] = True  # one process, one session: an xdist worker after the first starts its own
            hosts[folder] = AppHost(folder, handed=handed)
        else:
            hosts[folder] = AppHost(folder, network=network)
    return hosts[folder]


_ADOPTED = pytest.StashKey[bool]()


def start_preflight(config: pytest.Config, folder: Path):
    from workbook.preflight import Preflight

    return Preflight(host_for(config, folder))


def verdict_of(config: pytest.Config, preflight) -> str | None:
    from workbook.sandbox_apps import GraderError

    try:
        return preflight.verdict()
    except GraderError as error:
        config.stash[GRADER_ERRORS].append(str(error))
        return None


def write_partial(config: pytest.Config, event: dict, fresh: bool = False) -> None:
    """One line of what happened so far, beside the report (a run killed from outside leaves this much)."""
    report_file = config.getoption("workbook_report")
    if not report_file or hasattr(config, "workerinput"):
        return
    with open(f"{report_file}{PARTIAL}", "w" if fresh else "a", encoding="utf-8") as partial:
        partial.write(json.dumps(event) + "\n")


# --- which folder a test grades ------------------------------------------------------------------


def graded_folder(config: pytest.Config, test_path: Path) -> Path:
    """--app-dir when given, else the checkpoint folder (the nearest one holding app/) of the test."""
    chosen = config.getoption("app_dir")
    if chosen:
        return Path(chosen).expanduser().resolve()
    for parent in Path(test_path).resolve().parents:
        if (parent / "app").is_dir():
            return parent
    raise pytest.UsageError(f"No app/ folder found above {test_path}. Pass --app-dir PATH.")


def is_milestone(item: pytest.Item) -> bool:
    return "app_dir" in getattr(item, "fixturenames", ())


def is_suite_id(nodeid: str) -> bool:
    return "/milestone/" in f"/{nodeid}"
