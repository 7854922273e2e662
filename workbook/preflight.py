"""The preflight: load a learner's app once in the sandbox first, and explain in one message why it cannot load.

The load is a fork of the graded folder's zygote (workbook.sandbox_apps): it imports app.main and runs the app's
startup as a server does. What went wrong comes back as data (workbook/sandbox_report.py `describe`: a kind, the
stage, the frames in the learner's files); explain_outcome turns it into one message. Nothing of the learner's
runs in this process.
"""

from __future__ import annotations

import pkgutil
import re
import signal
from difflib import get_close_matches
from pathlib import Path

from workbook import sandbox_files
from workbook.diagnoses import diagnose
from workbook.evidence import from_report, in_learner_terms
from workbook.lessons import current_course
from workbook.loader import display_path

PREFLIGHT_SECONDS = 20

_HUNG_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<name>\S+)')


class Preflight:
    """Load the app of the host's folder in the sandbox, started at once; verdict() waits for the outcome.

    Starting early lets the grading process collect the suite meanwhile.
    """

    def __init__(self, host, seconds: float = PREFLIGHT_SECONDS):
        self.host = host
        self.seconds = seconds
        self.where = display_path(host.folder)
        self.load = None
        self.message: str | None = None
        if host.snapshot is None and not (host.folder / "app" / "main.py").is_file():
            self.message = (
                f"There is no app/main.py in {self.where}. Lesson 01 creates it (run `workbook start 01`); "
                "or point --app-dir at the folder that holds app/."
            )
        elif host.refused is not None:
            self.message = f"Could not load the app in {self.where}: {host.refused}"
        elif not (host.snapshot / "app" / "main.py").is_file():
            self.message = (
                f"There is no app/main.py in {self.where}. Lesson 01 creates it (run `workbook start 01`); "
                "or point --app-dir at the folder that holds app/."
            )
        else:
            from workbook.sandbox_errors import LoadFailed

            try:
                place = host.place()
                self.load = host.start_load(place, host.settings(place), seconds)
            except LoadFailed as error:
                self.message = self._explained(error)

    def verdict(self) -> str | None:
        """None when the app loads and starts, else one clear message for the learner."""
        from workbook.sandbox_errors import GraderError, LoadFailed

        if self.load is None:
            return self.message
        try:
            self.load.wait_imported()
            self.load.serve()
        except LoadFailed as error:
            return self._explained(error)
        except GraderError as error:
            return str(error)
        finally:
            self.load.end()
        return None

    def _explained(self, error) -> str:
        from workbook.sandbox_errors import clean

        return clean(explain_outcome(error.outcome, self.where, error.log, error.workdir, error.snapshot), 4000)


def _learner_frame(frames) -> str:
    """' at app/main.py, line 3: `import foo`' for the deepest frame in the learner's files."""
    for relative, line, _name, code in reversed(frames or []):
        if relative:
            return f" at {relative}, line {line}" + (f": `{code.strip()}`" if code else "")
    return ""


def explain_outcome(
    outcome: dict, where: str, log: str = "", workdir: Path | None = None, snapshot: Path | None = None
) -> str | None:
    """One message for a load that went wrong (None for one that did not): what, and where in the learner's files."""
    kind = outcome.get("kind")
    head = f"Could not load the app in {where}:" if where else "Could not load the app:"
    when = "while starting up (lifespan)" if outcome.get("stage") == "startup" else "while being imported"
    if kind in (None, "ok"):
        return None
    if kind == "no_app":
        return f"{head} app/main.py defines no `app`. Create it at module level: app = FastAPI()."
    if kind == "not_asgi":
        return f"{head} `app` in app/main.py is not an ASGI app (its type is {outcome.get('type')}). It should be app = FastAPI()."
    if kind == "syntax":
        text = (outcome.get("text") or "").rstrip()
        pointer = f"\n    {text.strip()}" if text else ""
        return f"{head} {outcome.get('file')}, line {outcome.get('line')}: SyntaxError: {outcome.get('message')}{pointer}\nFix the syntax there, then run the check again."
    if kind == "exit":
        return (
            f"{head} the app called sys.exit({outcome.get('code')}) {when}{_learner_frame(outcome.get('frames'))}. "
            "Code that runs on import must not exit; move it into a function."
        )
    if kind == "missing":
        return head + " " + _explain_missing(outcome, snapshot)
    if kind == "hang":
        return _explain_hang(head, outcome, log, workdir, snapshot)
    if kind == "died":
        return f"{head} Python stopped {when} ({_how_it_ended(outcome)}): {_last_line(log)}"
    if kind in ("gone", "refused"):
        return f"{head} {outcome.get('message')}"
    if kind == "unreadable":
        return f"{head} its process sent something the grader cannot read {when}."
    if kind == "stopped":
        return f"{head} the server stopped {when} without saying why: {_last_line(log)}"
    said = f"{head} {outcome.get('type')}: {in_learner_terms(str(outcome.get('message')))} {when}{_learner_frame(outcome.get('frames'))}."
    found = diagnose(from_report(outcome))  # a known mistake (workbook.diagnoses): its cause and fix
    return f"{said}\nDiagnosis: {found.text}" if found else said


def _how_it_ended(outcome: dict) -> str:
    if outcome.get("signal"):
        number = outcome["signal"]
        name = signal.Signals(number).name if number in signal.valid_signals() else "?"
        return f"killed by signal {number}, {name}"
    if outcome.get("code") is not None:
        return f"exit {outcome['code']}"
    return "it ended"


def _last_line(log: str) -> str:
    return (log.strip().splitlines() or ["(no output)"])[-1][:300]


def _explain_hang(head: str, outcome: dict, log: str, workdir: Path | None, snapshot: Path | None) -> str:
    seconds = outcome.get("seconds") or PREFLIGHT_SECONDS
    stage = "loading it" if outcome.get("stage") != "startup" else "starting it"
    for match in _HUNG_FRAME.finditer(log):
        relative = _relative(match["file"], workdir)
        if relative:
            line = int(match["line"])
            code = _source_line(snapshot, relative, line)
            return (
                f"{head} {stage} did not finish within {seconds:g} s; "
                f"it is stuck at {relative}, line {line}: `{code}`. "
                "Look for an endless loop or a blocking call that runs at import or startup."
            )
    return f"{head} {stage} did not finish within {seconds:g} s."


def _relative(filename: str, workdir: Path | None) -> str | None:
    if not filename or workdir is None:
        return None
    try:
        return Path(filename).relative_to(workdir).as_posix()
    except ValueError:
        return None


def _source_line(snapshot: Path | None, relative: str, line: int) -> str:
    """A line of the learner's file, read from the grader's own snapshot of the submission."""
    if snapshot is None:
        return ""
    try:
        source = sandbox_files.read_text(snapshot / relative, 2**20).splitlines()
    except OSError:
        return ""
    return source[line - 1].strip()[:200] if 0 < line <= len(source) else ""


def _explain_missing(outcome: dict, snapshot: Path | None) -> str:
    name = outcome.get("name") or ""
    where = _learner_frame(outcome.get("frames"))
    if name == "app" or name.startswith("app."):
        relative = name.replace(".", "/")
        known = []
        if snapshot is not None:
            known = [
                ".".join(p.relative_to(snapshot).with_suffix("").parts).removesuffix(".__init__")
                for p in snapshot.glob("app/**/*.py")
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
