"""Time what a learner waits for: `workbook check NN` on a correct workspace, for every lesson.

Usage: python bench/bench_check.py [--runs 5] [--lessons 02 05] [--full]
Prints the median (and min-max) wall seconds of each command, beside the floor every check
pays: a bare `python -c "import fastapi, sqlmodel"`. --full also times the whole `pytest -n auto`
once (minutes). Each run is a fresh process; the first run of each command is a warm-up (and
writes the bytecode caches a learner's install already has).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.lessons import REPO, all_lessons


def wall_seconds(command: list[str], env: dict[str, str], runs: int, warmup: int = 1) -> list[float]:
    times = []
    for attempt in range(warmup + runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(
                f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        if attempt >= warmup:  # warm-up runs fill the disk cache
            times.append(time.perf_counter() - started)
    return times


def row(label: str, times: list[float]) -> str:
    return f"{label:<44} median {statistics.median(times):6.2f} s   (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="also time the whole pytest -n auto once")
    parser.add_argument("--lessons", nargs="*", metavar="NN", help="only these lessons' checks (default: every one)")
    args = parser.parse_args()
    env = dict(os.environ)
    # A learner's environment compiles modules once (pip does it at install); with this set, every
    # run would compile FastAPI, SQLAlchemy and pydantic again and time that instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    print(
        row(
            'python -c "import fastapi, sqlmodel"',
            wall_seconds([sys.executable, "-c", "import fastapi, sqlmodel"], env, args.runs),
        )
    )
    workbook = shutil.which("workbook") or sys.exit("`workbook` is not on PATH: pip install -e . first")
    for lesson in all_lessons():
        if not lesson.has_checkpoint or (args.lessons and lesson.number not in args.lessons):
            continue
        with tempfile.TemporaryDirectory() as scratch:
            workspace = Path(scratch) / "workspace"
            copy_app_folder(lesson.checkpoint, workspace)
            times = wall_seconds(
                [workbook, "check", lesson.number], {**env, "WORKBOOK_WORKSPACE": str(workspace)}, args.runs
            )
        print(row(f"workbook check {lesson.number}  ({lesson.slug})", times))
    if args.full:
        print(
            row(
                "pytest -n auto (whole suite)",
                wall_seconds([sys.executable, "-m", "pytest", "-n", "auto", "-q"], env, 1, warmup=0),
            )
        )


if __name__ == "__main__":
    main()
