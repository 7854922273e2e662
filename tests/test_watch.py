"""`workbook watch NN`: a real process, a real file change, a check again within 2 s, and Ctrl-C to stop."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.exercises import exercises
from workbook.lessons import REPO, find_lesson
from workbook.watch import learner_files


def test_only_the_learners_files_count_as_changes(tmp_path):
    wanted = learner_files(tmp_path)
    assert wanted(None, str(tmp_path / "app" / "main.py"))
    assert not wanted(None, str(tmp_path / "app" / "__pycache__" / "main.cpython-311.pyc"))
    assert not wanted(None, str(tmp_path / "tasks.db"))
    assert not wanted(None, str(tmp_path.parent / "elsewhere.py"))


class Lines:
    """The lines a process prints, read in a thread; wait_for(text) returns when one holds text."""

    def __init__(self, stream):
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self._queue.put(line) for line in stream], daemon=True).start()

    def wait_for(self, text: str, seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return time.monotonic() - started
        raise AssertionError(f"{text!r} not printed within {seconds} s; printed:\n{''.join(self.seen)}")


def test_watch_checks_again_within_2_s_of_a_save_and_stops_on_ctrl_c(tmp_path):
    workspace = copy_app_folder(find_lesson("02").checkpoint, tmp_path / "workspace")
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-c", "from workbook.cli import app; app()", "watch", "02"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = Lines(process.stdout)
        lines.wait_for("Lesson 02 is done", 180)
        lines.wait_for("Watching for changes", 10)
        main = workspace / "app" / "main.py"
        main.write_text(main.read_text().replace('"Hello World"', '"Hi"'))
        assert lines.wait_for("Changed: app/main.py", 10) < 2, "the check should start within 2 s of the save"
        lines.wait_for("First failure: test_root_says_hello_world", 180)  # a check of lesson 01, which 02 keeps
        lines.wait_for("Watching for changes", 10)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        lines.wait_for("Stopped watching.", 5)
        assert "Traceback" not in "".join(lines.seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert Path(workspace.parent / ".workbook" / "progress.json").is_file()


def test_watch_of_one_exercise_checks_only_that_exercise_again_after_a_save(tmp_path):
    lesson = find_lesson("02")
    last = exercises(lesson)[-1]
    workspace = copy_app_folder(lesson.checkpoint, tmp_path / "workspace")
    env = {**os.environ, "WORKBOOK_WORKSPACE": str(workspace), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-c", "from workbook.cli import app; app()", "watch", "02", "-e", last.name]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = Lines(process.stdout)
        lines.wait_for(f"Exercise {last.name} passes", 180)
        lines.wait_for("Watching for changes", 10)
        main = workspace / "app" / "main.py"
        main.write_text(main.read_text() + "\nraise RuntimeError('half-written')\n")
        assert lines.wait_for("Changed: app/main.py", 10) < 2, "the check should start within 2 s of the save"
        lines.wait_for("could not load", 180)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert "Lesson 02 is done" not in "".join(lines.seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
