"""The preflight: load a learner's app in a subprocess first, and explain in one message why it cannot load."""

from __future__ import annotations

import json
import os
import pkgutil
import re
import subprocess
import sys
import tempfile
from difflib import get_close_matches
from pathlib import Path

from workbook.appfiles import copy_app_folder
from workbook.lessons import current_course
from workbook.loader import COPY_NAME, display_path, grading_settings

PREFLIGHT_SECONDS = 20


_PROBE = r"""
import faulthandler, json, sys, traceback
faulthandler.dump_traceback_later(float(sys.argv[2]), exit=True)
here = sys.path[0] = "."
out = sys.argv[1]

def frames(tb):
    return [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]

def report(**fields):
    with open(out, "w") as f:
        json.dump(fields, f)
    sys.stdout.flush()
    import os; os._exit(0)

stage = "import"
try:
    import app.main as main
    app = getattr(main, "app", None)
    if app is None:
        report(kind="no_app")
    if not callable(app):
        report(kind="not_asgi", type=type(app).__name__)
    stage = "startup"
    import asyncio

    async def run_lifespan():  # what a server does: startup, then shutdown (no HTTP client to import)
        messages = asyncio.Queue()
        messages.put_nowait({"type": "lifespan.startup"})

        async def send(message):
            if message["type"] == "lifespan.startup.complete":
                messages.put_nowait({"type": "lifespan.shutdown"})

        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        await app(scope, messages.get, send)

    asyncio.run(run_lifespan())
except SystemExit as e:
    report(kind="exit", stage=stage, code=repr(e.code), frames=frames(e.__traceback__))
except SyntaxError as e:
    report(kind="syntax", file=e.filename, line=e.lineno, text=e.text, offset=e.offset, message=e.msg)
except ModuleNotFoundError as e:
    report(kind="missing", stage=stage, name=e.name, message=str(e), frames=frames(e.__traceback__))
except BaseException as e:
    report(kind="error", stage=stage, type=type(e).__name__, message=str(e), frames=frames(e.__traceback__))
report(kind="ok")
"""

_HUNG_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<name>\S+)')


class Preflight:
    """Load the app in folder in a subprocess, started at once; verdict() waits for the outcome.

    Starting early lets the grading process import FastAPI meanwhile (two cores, half the wait).
    """

    def __init__(self, folder: Path, env: dict[str, str] | None = None, seconds: float = PREFLIGHT_SECONDS):
        self.folder = Path(folder).resolve()
        self.seconds = seconds
        self.where = display_path(self.folder)
        self.process = None
        if not (self.folder / "app" / "main.py").is_file():
            return
        self.scratch = tempfile.TemporaryDirectory(prefix="workbook-preflight-")
        scratch = Path(self.scratch.name)
        self.copy = copy_app_folder(self.folder, scratch / COPY_NAME)
        self.result_file = scratch / "result.json"
        self.process = subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(self.result_file), str(seconds)],
            cwd=self.copy,
            env={**os.environ, **grading_settings(scratch), **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def verdict(self) -> str | None:
        """None when the app loads, else one clear message for the learner."""
        if self.process is None:
            return (
                f"There is no app/main.py in {self.where}. Lesson 01 creates it (run `workbook start 01`); "
                "or point --app-dir at the folder that holds app/."
            )
        with self.scratch:
            try:
                stdout, stderr = self.process.communicate(timeout=self.seconds + 10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.communicate()
                return f"Could not load the app in {self.where}: loading it did not finish within {self.seconds:g} s."
            if not self.result_file.exists():
                finished = subprocess.CompletedProcess(self.process.args, self.process.returncode, stdout, stderr)
                return _explain_crash(self.where, self.copy, finished, self.seconds)
            return _explain(json.loads(self.result_file.read_text()), self.where, self.copy)


def _relative(filename: str | None, copy: Path) -> str | None:
    if not filename:
        return None
    try:
        return str(Path(filename).resolve().relative_to(copy))
    except ValueError:
        return None


def _learner_frame(frames, copy: Path) -> str:
    """' (app/main.py, line 3: `import foo`)' for the deepest frame in the learner's files."""
    for filename, line, _name, code in reversed(frames or []):
        relative = _relative(filename, copy)
        if relative:
            return f" at {relative}, line {line}" + (f": `{code.strip()}`" if code else "")
    return ""


def _explain(outcome: dict, where: str, copy: Path) -> str | None:
    kind = outcome["kind"]
    head = f"Could not load the app in {where}:"
    when = "while starting up (lifespan)" if outcome.get("stage") == "startup" else "while being imported"
    if kind == "ok":
        return None
    if kind == "no_app":
        return f"{head} app/main.py defines no `app`. Create it at module level: app = FastAPI()."
    if kind == "not_asgi":
        return f"{head} `app` in app/main.py is not an ASGI app (its type is {outcome['type']}). It should be app = FastAPI()."
    if kind == "syntax":
        file = _relative(outcome["file"], copy) or outcome["file"]
        text = (outcome.get("text") or "").rstrip()
        pointer = f"\n    {text.strip()}" if text else ""
        return f"{head} {file}, line {outcome['line']}: SyntaxError: {outcome['message']}{pointer}\nFix the syntax there, then run the check again."
    if kind == "exit":
        return (
            f"{head} the app called sys.exit({outcome['code']}) {when}{_learner_frame(outcome['frames'], copy)}. "
            "Code that runs on import must not exit; move it into a function."
        )
    if kind == "missing":
        return head + " " + _explain_missing(outcome, copy)
    return f"{head} {outcome['type']}: {outcome['message']} {when}{_learner_frame(outcome['frames'], copy)}."


def _explain_missing(outcome: dict, copy: Path) -> str:
    name = outcome.get("name") or ""
    where = _learner_frame(outcome["frames"], copy)
    if name == "app" or name.startswith("app."):
        relative = name.replace(".", "/")
        known = [
            ".".join(p.relative_to(copy).with_suffix("").parts).removesuffix(".__init__")
            for p in copy.glob("app/**/*.py")
        ]
        nearest = get_close_matches(name, known, n=1, cutoff=0.8)
        if nearest:
            return f"no module named '{name}' (imported{where}). Did you mean '{nearest[0]}'?"
        course = current_course()
        creator = course.creating(f"{relative}/__init__.py") or course.creating(f"{relative}.py")
        fix = (
            f"Lesson {creator.number} creates {relative}{'/__init__.py' if (creator.checkpoint / relative).is_dir() else '.py'}."
            if creator
            else f"Create {relative}.py."
        )
        return f"no module named '{name}' (imported{where}). {fix}"
    installed = sorted({module.name for module in pkgutil.iter_modules()})
    nearest = get_close_matches(name.split(".")[0], installed, n=1, cutoff=0.8)
    if nearest:  # a typo: never suggest installing a misspelt name
        return f"no module named '{name}' (imported{where}). Did you mean '{nearest[0]}'?"
    return f"no module named '{name}' (imported{where}). Check the spelling; if it is right, install it in this environment (pip install {name.split('.')[0]})."


def _explain_crash(where: str, copy: Path, finished: subprocess.CompletedProcess, seconds: float) -> str:
    """The probe wrote nothing: faulthandler stopped a hang, or the interpreter died."""
    if "Timeout" in finished.stderr or "most recent call first" in finished.stderr:
        for match in _HUNG_FRAME.finditer(finished.stderr):
            relative = _relative(match["file"], copy)
            if relative:
                line = int(match["line"])
                source = (copy / relative).read_text(errors="replace").splitlines()
                code = source[line - 1].strip() if line <= len(source) else ""
                return (
                    f"Could not load the app in {where}: loading it did not finish within {seconds:g} s; "
                    f"it is stuck at {relative}, line {line}: `{code}`. "
                    "Look for an endless loop or a blocking call that runs at import or startup."
                )
        return f"Could not load the app in {where}: loading it did not finish within {seconds:g} s."
    last = (finished.stderr.strip().splitlines() or ["(no output)"])[-1]
    return f"Could not load the app in {where}: Python stopped while loading it (exit {finished.returncode}): {last}"
