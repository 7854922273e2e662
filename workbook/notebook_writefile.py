"""`%%writefile -a` that a learner can run again: a lesson grows one file in steps, one cell per step.

IPython's own magic appends the cell once more each time it runs, so fixing a step and running its cell again
would leave the old code in the file, first (a route defined twice: FastAPI keeps the first). This one replaces
what the same cell appended before, when the file still holds it as it was; a cell whose text the file already
ends with is not appended again (a kernel restarted, then the cell run again). A cell without `-a` writes the
file as IPython's does. The kernel tells cells apart by their notebook id (IPython's `pre_run_cell` event).
"""

from __future__ import annotations

import shlex
from pathlib import Path


class RerunnableWritefile:
    def __init__(self):
        self.cell_id: str | None = None
        self.appended: dict[tuple[Path, str], str] = {}  # (file, cell id) -> the text that cell appended

    def note_cell(self, info) -> None:  # IPython's pre_run_cell event
        self.cell_id = getattr(info, "cell_id", None)

    def __call__(self, line: str, cell: str) -> None:
        words = shlex.split(line)
        append = bool(words) and words[0] in ("-a", "--append")
        if append:
            words = words[1:]
        if len(words) != 1:
            print("Usage: %%writefile [-a] PATH")
            return
        path = Path(words[0]).expanduser()
        if not append or not path.exists():  # said as IPython says it: the solutions' outputs hold it
            print(f"{'Overwriting' if path.exists() else 'Writing'} {words[0]}")
            path.write_text(cell, encoding="utf-8")
            self.appended = {key: text for key, text in self.appended.items() if key[0] != path.resolve()}
            if append and self.cell_id:
                self.appended[(path.resolve(), self.cell_id)] = cell
            return
        print(self.append(path, cell, words[0]))

    def append(self, path: Path, cell: str, shown: str) -> str:
        text = path.read_text(encoding="utf-8")
        key = (path.resolve(), self.cell_id) if self.cell_id else None
        before = self.appended.get(key) if key else None
        if before is not None and before in text:
            at = text.rindex(before)
            path.write_text(text[:at] + cell + text[at + len(before) :], encoding="utf-8")
            said = f"Replacing what this cell appended to {shown} before"
        elif cell and text.endswith(cell):
            said = f"{shown} already ends with this cell: nothing appended"
        else:
            with path.open("a", encoding="utf-8") as file:
                file.write(cell)
            said = f"Appending to {shown}"
        if key:
            self.appended[key] = cell
        return said


def ipython_shell(shell=None):
    """`shell`, else the running IPython shell; None when there is none (plain Python, or no IPython)."""
    if shell is not None:
        return shell
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def install_rerunnable_writefile(shell=None) -> bool:
    """Make the shell's `%%writefile` the rerunnable one, once. False when there is no IPython shell."""
    shell = ipython_shell(shell)
    if shell is None:
        return False
    current = shell.magics_manager.magics["cell"].get("writefile")
    if isinstance(getattr(current, "__self__", None), RerunnableWritefile):
        return True
    magic = RerunnableWritefile()
    shell.events.register("pre_run_cell", magic.note_cell)
    shell.register_magic_function(magic.__call__, magic_kind="cell", magic_name="writefile")
    return True
