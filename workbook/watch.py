"""`workbook watch NN`: check the workspace again whenever one of its files changes, as rustlings does.

Built on watchfiles (installed with uvicorn[standard]). Changes to caches, databases and the
workbook's own state are not the learner's edits (workbook.appfiles.is_ignored): they start no check.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from workbook.appfiles import is_ignored

DEBOUNCE_MS = 200  # a save that writes several files is one change


def learner_files(workspace: Path) -> Callable[[object, str], bool]:
    """watchfiles' filter: a path inside the workspace that is the learner's (not a cache or a database)."""
    workspace = Path(workspace).resolve()

    def wanted(_change, path: str) -> bool:
        try:
            return not is_ignored(Path(path).resolve().relative_to(workspace))
        except ValueError:
            return False

    return wanted


def changes(workspace: Path, stop_event=None) -> Iterator[list[str]]:
    """Each batch of changed files (relative paths), until Ctrl-C or stop_event is set."""
    from watchfiles import watch

    workspace = Path(workspace).resolve()
    for batch in watch(
        workspace,
        watch_filter=learner_files(workspace),
        debounce=DEBOUNCE_MS,
        stop_event=stop_event,
        raise_interrupt=False,
        rust_timeout=500,
    ):
        yield sorted({Path(path).resolve().relative_to(workspace).as_posix() for _, path in batch})


def watch_and_check(workspace: Path, check: Callable[[], None], say: Callable[[str], None], stop_event=None) -> None:
    """Run check() once, then after every change, until Ctrl-C (or stop_event).

    The watcher runs in a thread from the start, so a save made during a check is not missed.
    """
    stop = stop_event or threading.Event()
    batches: queue.Queue[list[str]] = queue.Queue()

    def follow() -> None:
        for changed in changes(workspace, stop):
            batches.put(changed)

    threading.Thread(target=follow, daemon=True, name="workbook-watch").start()
    try:
        check()
        while not stop.is_set():
            say("Watching for changes (Ctrl-C to stop).")
            changed = _next_batch(batches, stop)
            if changed is None:
                break
            say(f"\nChanged: {', '.join(changed[:3])}{' ...' if len(changed) > 3 else ''}. Checking again.")
            check()
    finally:
        stop.set()
    say("Stopped watching.")


def _next_batch(batches: queue.Queue, stop) -> list[str] | None:
    """The next batch of changes, with any that came meanwhile (one check for them all); None once stopped."""
    while not stop.is_set():
        try:
            changed = set(batches.get(timeout=0.2))
        except queue.Empty:
            continue
        while not batches.empty():
            changed |= set(batches.get_nowait())
        return sorted(changed)
    return None
