"""A Dockerfile's Python steps carried out without an engine (lesson 08): `carry_out` builds the image here.

Each stage gets a folder of its own standing for the image's `/` (workbook.built_image maps its paths).
The base image's Python is this machine's: a fresh virtual environment at the stage's
`/usr/local` (where the python images keep theirs), so `pip install` without a venv lands there too.
uv, which images copy from astral's image, is this machine's `uv` binary.

Only Python steps run: a RUN command whose program is python, pip or uv (and `cd`). Everything else
(apt-get, useradd, chown, ...) is read, not run, and listed. COPY and ADD copy from the build context,
minus `.dockerignore` (workbook.build_context), or from an earlier stage; `RUN --mount=type=bind` copies
its source in first. Every step runs in the sandbox (workbook.sandbox), with the network (installs
download packages). The image's command then runs from the result: workbook.image_server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from workbook import sandbox
from workbook.build_context import BuildContext
from workbook.built_image import Built, StepFailed, map_env, map_path, map_word
from workbook.dockerfile import IMAGE_PATH, PYTHON_TOOLS, Dockerfile, Instruction, Stage
from workbook.dockerfile_words import mount_options, simple_commands, substitute
from workbook.image_server import ImageServer  # noqa: F401 (lesson 08's cells import it from here)
from workbook.sandbox import Limits

STEP_SECONDS = 300
# How this machine reaches the package index (its certificates, a proxy, a mirror): passed on to install steps.
NETWORK_SETTINGS = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
    "PIP_DEFAULT_TIMEOUT", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_NATIVE_TLS",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


def uv_binary() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


class Carrier:
    """Carries out a Dockerfile's stages in `scratch`, from the build context `context`."""

    def __init__(self, dockerfile: Dockerfile, context: Path, scratch: Path, seconds: float = STEP_SECONDS):
        self.dockerfile, self.context, self.scratch = dockerfile, Path(context), Path(scratch)
        self.seconds = seconds
        self.files = BuildContext(self.context)  # COPY and ADD sources, minus .dockerignore
        self.roots: dict[int, Path] = {}
        self.tools = self.scratch / "tools"  # uv and uvx: this machine's
        self.ran: list[str] = []
        self.read: list[str] = []

    # --- the stages -----------------------------------------------------------------------------------------

    def build(self) -> Built:
        started = time.monotonic()
        self.tools.mkdir(parents=True, exist_ok=True)
        binary = uv_binary()
        if binary:
            for name in ("uv", "uvx"):
                target = Path(binary).with_name(name)
                if target.exists():
                    (self.tools / name).symlink_to(target)
        built = None
        for stage in self.dockerfile.stages:
            built = self.stage(stage)
        built.ran, built.read, built.seconds = self.ran, self.read, time.monotonic() - started
        return built

    def stage(self, stage: Stage) -> Built:
        root = self.scratch / "stages" / str(stage.index)
        parent = self.dockerfile.stage(stage.base)
        if parent is not None and parent.index < stage.index:
            shutil.copytree(self.roots[parent.index], root, symlinks=True)
        else:
            self.python_image(root, needs_pip=self.uses_pip(stage))
        self.roots[stage.index] = root
        workdir = "/"
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "WORKDIR":
                workdir = self.workdir(root, workdir, instruction.body.strip())
            elif keyword in ("COPY", "ADD"):
                self.copy(root, workdir, instruction)
            elif keyword == "RUN":
                self.run(root, workdir, instruction)
        env = self.environment(root, stage.instructions[-1].env if stage.instructions else {})
        final = Path(map_path(root, workdir))
        final.mkdir(parents=True, exist_ok=True)
        return Built(root, final, env)

    def uses_pip(self, stage: Stage) -> bool:
        pattern = re.compile(r"(^|[\s/;&|])(pip3?(\.\d+)?\s|python3?(\.\d+)?\s+-m\s+pip\s)")
        return any(pattern.search(each.body + " ") for each in stage.all("RUN"))

    def python_image(self, root: Path, needs_pip: bool) -> None:
        """The base image: this machine's Python, as a fresh environment at /usr/local."""
        root.mkdir(parents=True)
        for folder in ("tmp", "root", "app"):
            (root / folder).mkdir()
        python = getattr(sys, "_base_executable", sys.executable)
        command = [python, "-m", "venv", str(root / "usr" / "local")]
        if not needs_pip:
            command.insert(3, "--without-pip")
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise StepFailed(f"Could not make a fresh Python environment here: {done.stderr.strip()[-300:]}")

    def workdir(self, root: Path, current: str, wanted: str) -> str:
        path = wanted if wanted.startswith("/") else f"{current.rstrip('/')}/{wanted}"
        Path(map_path(root, path)).mkdir(parents=True, exist_ok=True)
        return path

    def environment(self, root: Path, values: dict[str, str]) -> dict[str, str]:
        env = map_env(root, {"PATH": IMAGE_PATH, **values})
        env["PATH"] = f"{env['PATH']}:{self.tools}"
        return env

    # --- COPY and ADD ------------------------------------------------------------------------------------------

    def copy(self, root: Path, workdir: str, instruction: Instruction) -> None:
        words = instruction.words
        if len(words) < 2:
            return
        *sources, destination = words
        if not destination.startswith("/"):
            destination = f"{workdir.rstrip('/')}/{destination}"
        into_folder = destination.endswith("/") or len(sources) > 1
        target = Path(map_path(root, destination))
        origin = instruction.flags.get("from")
        if origin:
            stage = self.dockerfile.stage(origin)
            if stage is None:  # another image: astral's uv is the only one a Python step needs
                self.copy_from_image(origin, sources, target, into_folder, instruction)
                return
            base = self.roots[stage.index]
            paths = [Path(map_path(base, source if source.startswith("/") else "/" + source)) for source in sources]
        else:
            paths = [path for source in sources for path in self.files.paths(source)]
            if not paths:
                raise StepFailed(
                    f"line {instruction.line}: COPY {' '.join(sources)}: no such file in the build context."
                )
        for path in paths:
            self.files.place(path, target, into_folder)

    def copy_from_image(self, image: str, sources, target: Path, into_folder: bool, instruction: Instruction):
        names = [Path(source).name for source in sources]
        if "uv" in image and all(name in ("uv", "uvx") for name in names):
            for name in names:
                place = target / name if into_folder or target.is_dir() else target
                place.parent.mkdir(parents=True, exist_ok=True)
                if (self.tools / name).exists():
                    shutil.copy2(os.path.realpath(self.tools / name), place)
            self.ran.append(f"line {instruction.line}: COPY --from={image} ({', '.join(names)}: this machine's uv)")
        else:
            self.read.append(f"line {instruction.line}: COPY --from={image} (read, not run)")

    # --- RUN ---------------------------------------------------------------------------------------------------

    def run(self, root: Path, workdir: str, instruction: Instruction) -> None:
        values = instruction.env
        form = instruction.exec_form
        segments = [form] if form is not None else simple_commands(substitute(instruction.body, values))
        cwd = workdir
        added = self.bind_mounts(root, workdir, instruction)
        try:
            for words in segments:
                while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                    name, _, value = words.pop(0).partition("=")
                    values = {**values, name: value}
                if not words:
                    continue
                shown = " ".join(words)
                program = Path(words[0]).name
                if program == "cd" and len(words) > 1:
                    cwd = words[1] if words[1].startswith("/") else f"{cwd.rstrip('/')}/{words[1]}"
                    continue
                if not PYTHON_TOOLS.match(program):
                    self.read.append(f"line {instruction.line}: {shown} (read, not run)")
                    continue
                self.execute(root, cwd, [map_word(root, word) for word in words], values, instruction, shown)
        finally:
            for path in added:
                path.unlink(missing_ok=True)

    def bind_mounts(self, root: Path, workdir: str, instruction: Instruction) -> list[Path]:
        """RUN --mount=type=bind,source=X,target=Y copies X from the context; cache mounts are plain folders."""
        added = []
        for mount in instruction.mounts:
            options = mount_options(mount)
            target = options.get("target") or options.get("dst") or options.get("destination")
            if not target:
                continue
            path = target if target.startswith("/") else f"{workdir.rstrip('/')}/{target}"
            mapped = Path(map_path(root, path))
            if options.get("type") == "cache":
                mapped.mkdir(parents=True, exist_ok=True)
            elif options.get("type", "bind") == "bind" and not options.get("from"):
                source = self.context / options.get("source", options.get("src", ".")).lstrip("/")
                if source.is_file() and not mapped.exists():
                    mapped.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, mapped)
                    added.append(mapped)
        return added

    def execute(self, root: Path, cwd: str, argv: list[str], values, instruction: Instruction, shown: str) -> None:
        folder = Path(map_path(root, cwd))
        folder.mkdir(parents=True, exist_ok=True)
        env = {name: os.environ[name] for name in NETWORK_SETTINGS if name in os.environ}
        env.update(self.environment(root, values))
        env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # the image's Python only, as in an engine with no network
        # The image's Python is the stage's /usr/local: uv (--system included) must not find this machine's.
        env.setdefault("UV_PYTHON", str(root / "usr" / "local" / "bin" / "python"))
        env["HOME"] = str(root / "root")
        env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        program = shutil.which(argv[0], path=env["PATH"]) if "/" not in argv[0] else argv[0]
        if program is None:
            raise StepFailed(f"line {instruction.line}: {shown}: there is no {argv[0]} on the image's PATH.")
        outcome = sandbox.run(
            [program, *argv[1:]],
            workdir=folder,
            env=env,
            limits=Limits(seconds=self.seconds, memory_mb=4096, processes=256, file_size_mb=1024),
            writable=(self.scratch,),
            network=True,
        )
        if not outcome.ok:
            said = (outcome.stderr.strip() or outcome.stdout.strip()).splitlines()[-6:]
            end = "exit " + str(outcome.returncode) if outcome.verdict == "finished" else outcome.verdict
            raise StepFailed(f"line {instruction.line}: `{shown}` failed ({end}):\n    " + "\n    ".join(said))
        self.ran.append(f"line {instruction.line}: {shown}")


def carry_out(dockerfile: Dockerfile, context: Path, scratch: Path, seconds: float = STEP_SECONDS) -> Built:
    """Carry out the Dockerfile's steps from `context` into `scratch` (raises StepFailed)."""
    return Carrier(dockerfile, context, scratch, seconds).build()
