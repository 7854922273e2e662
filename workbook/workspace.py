"""The learner's workspace: where each lesson starts, backups, resets, and progress."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbook.appfiles import is_ignored, read_app_files, write_app_files
from workbook.lessons import REPO, Lesson

# Caches are not the learner's work: backups leave them out.
CACHE_NAMES = ("__pycache__", "*.pyc", ".pytest_cache")


def state_dir(workspace: Path) -> Path:
    """Where the workbook keeps its own state for a workspace: .workbook/ beside it."""
    return Path(workspace).parent / ".workbook"


def display(workspace: Path) -> str:
    """A workspace named on one line: `workspace/` for the default one, else its full path."""
    workspace = Path(workspace).resolve()
    if workspace == (REPO / "workspace").resolve():
        return "workspace/"
    return f"{workspace}/"


def display_backup(saved: Path) -> str:
    """A backup named on one line: `.workbook/backups/<name>/` beside the default workspace, else in full."""
    if saved.parent.parent == state_dir(REPO / "workspace"):
        return f".workbook/backups/{saved.name}/"
    return f"{saved}/"


def starting_files(lesson: Lesson) -> dict[str, bytes]:
    """The files lesson NN starts from: checkpoint NN-1's app files, or none (an empty app/) for the first."""
    previous = lesson.previous
    return read_app_files(previous.checkpoint) if previous else {}


def write_starting_files(lesson: Lesson, folder: Path) -> Path:
    """Lay out lesson NN's starting files in `folder` (which must hold nothing yet)."""
    return write_app_files(Path(folder), starting_files(lesson))


def is_blank(workspace: Path) -> bool:
    """True when the workspace is missing or holds no file but caches and databases."""
    workspace = Path(workspace)
    if not workspace.is_dir():
        return True
    return not any(path.is_file() and not is_ignored(path.relative_to(workspace)) for path in workspace.rglob("*"))


def _holds_anything(workspace: Path) -> bool:
    return workspace.is_dir() and any(path.is_file() for path in workspace.rglob("*"))


def at_start_or_beyond(lesson: Lesson, workspace: Path) -> tuple[bool, str]:
    """Can lesson NN carry on from this workspace? (answer, the reason in one sentence).

    Yes when NN has no previous lesson, when the files equal checkpoint NN-1's (no
    subprocess), or when the app passes milestone NN-1 (the learner's own code carries on).
    """
    previous = lesson.previous
    if previous is None:
        return True, f"The workspace already holds files; lesson {lesson.number} carries on with them."
    if read_app_files(workspace) == starting_files(lesson):
        return True, f"The workspace holds checkpoint {previous.slug}, where lesson {lesson.number} starts."
    from workbook.grading import run_suite

    options = lesson.keeps.get(previous.slug) or []
    attempts = [()] + ([tuple(options)] if options else [])
    for extra in attempts:
        result = run_suite(previous, workspace, extra_args=extra)
        if result.exit_code == 0:
            return True, f"The workspace passes milestone {previous.number}, so your own code carries on."
    if result.load_error:
        return (
            False,
            f"The workspace app does not load, so it is not at the start of lesson {lesson.number}.\n{result.load_error}",
        )
    return False, (
        f"The workspace does not pass milestone {previous.number} ({result.passed} of {result.total} checks pass), "
        f"so it is not at the start of lesson {lesson.number}."
    )


def prepare(lesson: Lesson, workspace: Path, confirm: Callable[[str], bool] | None = None) -> str:
    """Get the workspace ready for lesson NN; returns what happened, in sentences.

    A blank workspace gets the lesson's starting files. One at the lesson's start (or past
    it) is kept. Any other is replaced, after a backup, only when `confirm` says yes; without
    `confirm` (a notebook cell) nothing is changed and the answer says how to start over.
    """
    workspace = Path(workspace)
    if is_blank(workspace):
        start_from(lesson, workspace)
        return f"The workspace was empty: it now starts from {lesson.starting_point}."
    ready, reason = at_start_or_beyond(lesson, workspace)
    if ready:
        return reason
    if confirm is None:
        return (
            f"{reason}\nNothing was changed. To start from {lesson.starting_point} instead, run\n"
            "    lesson.start_from_checkpoint()\n"
            "It backs up your workspace under .workbook/backups/ first."
        )
    if not confirm(
        f"{reason}\nReplace {display(workspace)} with {lesson.starting_point}? Your files are backed up first"
    ):
        return f"Kept {display(workspace)} as it is."
    saved = start_from(lesson, workspace)
    return f"{display(workspace)} now starts from {lesson.starting_point}." + kept_in(saved)


def kept_in(saved: Path | None) -> str:
    """ " Your previous files are in <backup>" when there was a backup, else nothing."""
    return f" Your previous files are in {display_backup(saved)}" if saved else ""


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(workspace: Path, label: str) -> Path:
    """Copy the whole workspace, as plain files, to .workbook/backups/<UTC time>-<label>/."""
    workspace = Path(workspace)
    backups = state_dir(workspace) / "backups"
    target = backups / f"{_timestamp()}-{label}"
    suffix = 2
    while target.exists():
        target = backups / f"{_timestamp()}-{label}-{suffix}"
        suffix += 1
    shutil.copytree(
        workspace,
        target,
        symlinks=False,
        ignore=shutil.ignore_patterns(*CACHE_NAMES),
        ignore_dangling_symlinks=True,
    )
    return target


def _empty(workspace: Path) -> None:
    """Remove what is inside the workspace, keeping the folder (a kernel may stand in it)."""
    for child in workspace.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def start_from(lesson: Lesson, workspace: Path, label: str | None = None) -> Path | None:
    """Make the workspace the start of lesson NN. Returns the backup of what was there, if anything."""
    workspace = Path(workspace)
    saved = backup(workspace, label or f"before-{lesson.number}") if _holds_anything(workspace) else None
    workspace.mkdir(parents=True, exist_ok=True)
    _empty(workspace)
    write_starting_files(lesson, workspace)
    return saved


def reset(lesson: Lesson, workspace: Path) -> Path | None:
    """Back to the start of lesson NN; the old workspace is kept. Returns the backup's path."""
    return start_from(lesson, workspace, label=f"reset-{lesson.number}")


# --- progress ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    passed: bool
    checks_passed: int
    checks_total: int
    when: str  # UTC, ISO 8601
    loaded: bool = True  # False: the app could not load, so no check ran


def _progress_file(workspace: Path) -> Path:
    return state_dir(workspace) / "progress.json"


def progress(workspace: Path) -> dict[str, Progress]:
    """The latest check of each lesson (slug -> Progress); {} before any check."""
    path = _progress_file(workspace)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return {slug: Progress(**entry) for slug, entry in stored.items()}


def record(workspace: Path, lesson: Lesson, result) -> Progress:
    """Remember a check's outcome (a suite_result.SuiteResult) for `workbook status`."""
    entry = Progress(
        passed=result.exit_code == 0,
        checks_passed=result.passed,
        checks_total=result.total,
        loaded=not result.load_error,
        when=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    )
    stored = {slug: asdict(each) for slug, each in progress(workspace).items()}
    stored[lesson.slug] = asdict(entry)
    path = _progress_file(workspace)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
    return entry
