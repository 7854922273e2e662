"""What grading a class costs: `workbook grade NN` of N correct submissions, per submission.

Usage: python bench/bench_grade.py [--lesson 05] [--submissions 30] [--jobs 2]
Prints wall seconds and CPU seconds per submission, and the memory in use at the peak. CPU and memory are
the machine's (/proc/stat, /proc/meminfo): the sandboxed processes are not all waited for by the grader,
so its own accounting misses them. Run it on a quiet machine. Each submission is a copy of the lesson's
checkpoint, so every one is graded passed (the run fails loudly otherwise).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.lessons import REPO, find_lesson


def busy_seconds() -> float:
    """CPU time the whole machine spent busy (not idle, not waiting on I/O) since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def used_bytes() -> int:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])) * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lesson", default="05")
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    lesson = find_lesson(args.lesson)
    workbook = shutil.which("workbook") or sys.exit("`workbook` is not on PATH: pip install -e . first")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a learner's install has its bytecode; don't time compiling it
    with tempfile.TemporaryDirectory() as scratch:
        folders = [copy_app_folder(lesson.checkpoint, Path(scratch) / f"s{n:02}") for n in range(args.submissions)]
        table = Path(scratch) / "grades.csv"
        command = [workbook, "grade", lesson.number, *map(str, folders), "--csv", str(table), "--jobs", str(args.jobs)]
        baseline, peak, done_event = used_bytes(), [0], threading.Event()

        def sample() -> None:
            while not done_event.wait(0.2):
                peak[0] = max(peak[0], used_bytes() - baseline)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        busy, started = busy_seconds(), time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - started, busy_seconds() - busy
        done_event.set()
        sampler.join()
        rows = list(csv.DictReader(table.open(encoding="utf-8"))) if table.exists() else []
        if done.returncode != 0 or [row for row in rows if row["result"] != "passed"]:
            sys.exit(f"grading failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    n = args.submissions
    print(f"workbook grade {lesson.number}: {n} submissions, --jobs {args.jobs}")
    print(f"  wall {wall:.1f} s ({wall / n:.2f} s each)   CPU {cpu:.1f} s ({cpu / n:.2f} CPU-s each)")
    print(f"  memory in use at the peak, above the machine's before: {peak[0] / 2**30:.2f} GB")


if __name__ == "__main__":
    main()
