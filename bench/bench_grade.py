"""What grading a class costs: `workbook grade NN` of N correct submissions, per submission.

Usage: python bench/bench_grade.py [--lesson 05] [--submissions 30] [--jobs 2]
Prints wall seconds, CPU seconds (user + system of every process the run started and waited for) per
submission, and the largest resident set of any one of them. Each submission is a copy of the
lesson's checkpoint, so every one is graded passed (the run fails loudly otherwise).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.lessons import REPO, find_lesson


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
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        rows = list(csv.DictReader(table.open(encoding="utf-8"))) if table.exists() else []
        if done.returncode != 0 or [row for row in rows if row["result"] != "passed"]:
            sys.exit(f"grading failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    n = args.submissions
    print(f"workbook grade {lesson.number}: {n} submissions, --jobs {args.jobs}")
    print(f"  wall {wall:.1f} s ({wall / n:.2f} s each)   CPU {cpu:.1f} s ({cpu / n:.2f} CPU-s each)")
    print(f"  largest single process: {after.ru_maxrss / 2**20:.2f} GB resident")


if __name__ == "__main__":
    main()
