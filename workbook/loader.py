"""Load a learner's app: tried first in a subprocess (preflight), then imported in isolation here."""

from __future__ import annotations

import asyncio
from difflib import get_close_matches
from fnmatch import fnmatch
import importlib
import json
import os
import pkgutil
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from workbook.lessons import lesson_creating

# Names never copied out of a learner's folder, nor compared between app folders (*.eml: lesson 07's outbox mail).
IGNORED_NAMES = (
    "__pycache__", "*.pyc", "*.db", "*.db-journal", "*.db-wal", "*.db-shm", "*.sqlite*", "*.eml", ".ipynb_checkpoints",
    ".pytest_cache", ".workbook", ".venv", "venv", ".git", "node_modules",
)
PREFLIGHT_SECONDS = 20
COPY_NAME = "app-copy"  # every copy of a graded folder is named so: its frames are the learner's own


def is_ignored(relative: Path) -> bool:
    """Whether a path inside an app folder is a cache, a database or tooling state, at any depth."""
    return any(fnmatch(part, pattern) for part in Path(relative).parts for pattern in IGNORED_NAMES)

_imported_from: str | None = None


def grading_settings(scratch: Path) -> dict[str, str]:
    """Every setting the curriculum names, pointed at throwaway places under scratch.

    Grading sets them all, so a learner's own DATABASE_URL (shell or .env) is never opened.
    """
    outbox = scratch / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    return {
        "DATABASE_URL": f"sqlite:///{scratch / 'grading.db'}",
        "SECRET_KEY": secrets.token_hex(32),
        "ACCESS_TOKEN_EXPIRE_MINUTES": "30",
        "ENVIRONMENT": "development",
        "EMAIL_OUTBOX": str(outbox),
        "LOGIN_RATE_LIMIT": "1000/minute",
        "CORS_ORIGINS": "http://localhost:3000",
    }


def copy_app_folder(source: Path, destination: Path) -> Path:
    """Copy a folder that holds app/, leaving out caches, databases and environments."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*IGNORED_NAMES), dirs_exist_ok=True)
    return destination


def display_path(folder: Path) -> str:
    """How to name a folder to the person at the terminal: relative to where they stand if inside it."""
    folder = Path(folder).resolve()
    try:
        return f"{folder.relative_to(Path.cwd())}/"
    except ValueError:
        return f"{folder}/"


# --- in-process import -------------------------------------------------------------------------


def forget_app() -> None:
    """Drop every `app` module and SQLModel's global tables, so the next import starts clean."""
    for module in [m for name, m in sys.modules.items() if name == "app" or name.startswith("app.")]:
        _dispose_engines(module)
    for name in [name for name in sys.modules if name == "app" or name.startswith("app.")]:
        del sys.modules[name]
    if "sqlmodel" in sys.modules:  # table classes register in process-wide metadata
        from sqlmodel import SQLModel
        from sqlmodel.main import default_registry

        SQLModel.metadata.clear()
        default_registry.dispose()
    global _imported_from
    if _imported_from in sys.path:
        sys.path.remove(_imported_from)
    _imported_from = None


def _dispose_engines(module) -> None:
    if "sqlalchemy" not in sys.modules:
        return
    from sqlalchemy.engine import Engine

    for value in list(vars(module).values()):
        if isinstance(value, Engine):
            value.dispose()


def import_app(folder: Path):
    """Import folder/app/main.py afresh and return its `app` (edits made since the last import show)."""
    global _imported_from
    forget_app()
    _imported_from = str(Path(folder).resolve())
    sys.path.insert(0, _imported_from)
    importlib.invalidate_caches()
    # Write no bytecode: an edit within the same second that keeps the file's size would not show.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = importlib.import_module("app.main")
    finally:
        sys.dont_write_bytecode = writes_bytecode
    if not hasattr(module, "app"):
        raise AttributeError("app/main.py defines no `app`. Create it at module level: app = FastAPI().")
    return module.app


class RequestTimedOut(AssertionError):
    """A request the app did not answer in time (an assertion, so it reads as a test failure)."""


def with_time_limit(app, seconds: float):
    """Wrap an ASGI app so a request it does not answer within `seconds` fails instead of hanging."""

    async def limited(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        call = asyncio.ensure_future(app(scope, receive, send))
        done, _ = await asyncio.wait({call}, timeout=seconds)
        if not done:
            call.cancel()  # a sync handler stuck in a worker thread is abandoned, not awaited
            raise RequestTimedOut(
                f"{scope['method']} {scope['path']} did not answer within {seconds:g} s. "
                "Look for an endless loop or a blocking wait in the route that handles it."
            )
        return call.result()

    limited.app = app
    return limited


# --- preflight in a subprocess -----------------------------------------------------------------

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
            cwd=self.copy, env={**os.environ, **grading_settings(scratch), **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
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
    return (
        f"{head} {outcome['type']}: {outcome['message']} {when}{_learner_frame(outcome['frames'], copy)}."
    )


def _explain_missing(outcome: dict, copy: Path) -> str:
    name = outcome.get("name") or ""
    where = _learner_frame(outcome["frames"], copy)
    if name == "app" or name.startswith("app."):
        relative = name.replace(".", "/")
        known = [".".join(p.relative_to(copy).with_suffix("").parts).removesuffix(".__init__") for p in copy.glob("app/**/*.py")]
        nearest = get_close_matches(name, known, n=1, cutoff=0.8)
        if nearest:
            return f"no module named '{name}' (imported{where}). Did you mean '{nearest[0]}'?"
        creator = lesson_creating(f"{relative}/__init__.py") or lesson_creating(f"{relative}.py")
        fix = f"Lesson {creator.number} creates {relative}{'/__init__.py' if (creator.checkpoint / relative).is_dir() else '.py'}." if creator else f"Create {relative}.py."
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
