"""A Dockerfile's Python steps carried out without an engine (lesson 08), and its command run from the result.

Each stage gets a folder of its own standing for the image's `/`: an absolute path in the Dockerfile
(`WORKDIR /app`, `/app/.venv/bin` in PATH, `COPY --from=builder /app/.venv /app/.venv`) means that folder's
`app/...`, except the machine's own system folders (`/usr/bin`, `/bin`, `/etc`, ...) where the stage has
nothing there. The base image's Python is this machine's: a fresh virtual environment at the stage's
`/usr/local` (where the python images keep theirs), so `pip install` without a venv lands there too.
uv, which images copy from astral's image, is this machine's `uv` binary.

Only Python steps run: a RUN command whose program is python, pip or uv (and `cd`). Everything else
(apt-get, useradd, chown, ...) is read, not run, and listed. COPY and ADD copy from the build context,
minus `.dockerignore`, or from an earlier stage; `RUN --mount=type=bind` copies its source in first.
Every step runs in the sandbox (workbook.sandbox), with the network (installs download packages).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from workbook import sandbox
from workbook.dockerfile import IMAGE_PATH, PYTHON_TOOLS, Dockerfile, Instruction, Stage, mount_options, substitute
from workbook.sandbox import Limits

HOST_SYSTEM = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/lib", "/lib64", "/usr/lib", "/usr/share", "/etc")
NEVER_MAPPED = ("/dev", "/proc", "/sys")
STEP_SECONDS = 300
SERVERS = ("fastapi", "uvicorn", "gunicorn")
# How this machine reaches the package index (its certificates, a proxy, a mirror): passed on to install steps.
NETWORK_SETTINGS = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
    "PIP_DEFAULT_TIMEOUT", "UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_NATIVE_TLS",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)  # fmt: skip


class StepFailed(Exception):
    """A step could not be carried out: the message says which line, what it ran, and its last output."""


@dataclass
class Built:
    """What the final stage left: where it runs from and with which environment."""

    root: Path  # the final stage's `/`
    workdir: Path
    env: dict[str, str]  # the image's ENV, paths mapped, PATH included
    ran: list[str] = field(default_factory=list)  # "line 12: uv sync --locked --no-dev"
    read: list[str] = field(default_factory=list)  # "line 17: groupadd ... (read, not run)"
    seconds: float = 0.0

    def map(self, path: str) -> str:
        return map_path(self.root, path)


def uv_binary() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def map_path(root: Path, path: str) -> str:
    """An image path as a path on this machine: under the stage's folder, or the machine's own system folder."""
    if not path.startswith("/") or path.startswith("//"):
        return path
    if any(path == top or path.startswith(top + "/") for top in NEVER_MAPPED):
        return path
    mapped = root / path.lstrip("/")
    if mapped.exists():
        return str(mapped)
    if any(path == top or path.startswith(top + "/") for top in HOST_SYSTEM) and Path(path).exists():
        return path
    return str(mapped)


def map_word(root: Path, word: str) -> str:
    """A command word with its paths mapped: /app/x, --target=/opt/venv, VAR=/opt/venv."""
    if word.startswith("/"):
        return map_path(root, word)
    match = re.match(r"^(-{1,2}[\w-]+=|[A-Za-z_][A-Za-z0-9_]*=)(/.*)$", word)
    if match:
        return match[1] + map_path(root, match[2])
    return word


def map_env(root: Path, values: dict[str, str]) -> dict[str, str]:
    """ENV values with absolute paths mapped (PATH-like lists entry by entry)."""
    mapped = {}
    for name, value in values.items():
        if value.startswith("/") and ":" in value:
            mapped[name] = ":".join(map_path(root, part) for part in value.split(":"))
        elif value.startswith("/"):
            mapped[name] = map_path(root, value)
        else:
            mapped[name] = value
    return mapped


def read_dockerignore(context: Path) -> list[str]:
    path = context / ".dockerignore"
    if not path.is_file():
        return []
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `relative` (a POSIX path in the context) out; `!` patterns put it back."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        parts = relative.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        simple = pattern.removeprefix("**/")
        hit = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or (
            pattern.startswith("**/") and any(fnmatch.fnmatch(part, simple) for part in parts)
        )
        if hit:
            result = not negate
    return result


class Carrier:
    """Carries out a Dockerfile's stages in `scratch`, from the build context `context`."""

    def __init__(self, dockerfile: Dockerfile, context: Path, scratch: Path, seconds: float = STEP_SECONDS):
        self.dockerfile, self.context, self.scratch = dockerfile, Path(context), Path(scratch)
        self.seconds = seconds
        self.ignore = read_dockerignore(self.context)
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
            paths = [path for source in sources for path in self.context_paths(source)]
            if not paths:
                raise StepFailed(
                    f"line {instruction.line}: COPY {' '.join(sources)}: no such file in the build context."
                )
        for path in paths:
            self.place(path, target, into_folder)

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

    def context_paths(self, source: str) -> list[Path]:
        source = source.lstrip("/")
        if source in ("", "."):
            return [self.context]
        return sorted(
            path
            for path in self.context.glob(source)
            if not ignored(path.relative_to(self.context).as_posix(), self.ignore)
        )

    def place(self, path: Path, target: Path, into_folder: bool) -> None:
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            for child in sorted(path.iterdir()):
                relative = child.relative_to(self.context).as_posix() if child.is_relative_to(self.context) else None
                if relative is not None and ignored(relative, self.ignore):
                    continue
                if child.is_dir() and not child.is_symlink():
                    self.place(child, target / child.name, False)
                else:
                    self.place(child, target / child.name, False)
            return
        destination = target / path.name if into_folder or target.is_dir() else target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            destination.unlink(missing_ok=True)
            destination.symlink_to(os.readlink(path))
        else:
            shutil.copy2(path, destination)

    # --- RUN ---------------------------------------------------------------------------------------------------

    def run(self, root: Path, workdir: str, instruction: Instruction) -> None:
        values = instruction.env
        form = instruction.exec_form
        segments = [form] if form is not None else self.segments(substitute(instruction.body, values))
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

    @staticmethod
    def segments(body: str) -> list[list[str]]:
        """A shell command line as its simple commands (split at &&, ||, ; and |)."""
        lexer = shlex.shlex(body, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        commands, current = [], []
        try:
            for token in lexer:
                if token in ("&&", "||", ";", "|", "&"):
                    commands.append(current)
                    current = []
                else:
                    current.append(token)
        except ValueError:
            return [body.split()]
        commands.append(current)
        return [command for command in commands if command]

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


# --- the container command ---------------------------------------------------------------------------------


def serving_command(words: list[str], port: int) -> list[str]:
    """The command with its server bound to 127.0.0.1:port (fastapi run, uvicorn or gunicorn; raises StepFailed)."""
    words = list(words)
    index = server_index(words)
    if index is None:
        raise StepFailed(
            f"The command {shlex.join(words)} starts none of {', '.join(SERVERS)} directly. Write CMD in exec form, "
            'running the server itself (CMD ["fastapi", "run", ...]), so that it gets the signals a stop sends.'
        )
    program, head, rest = server_name(words, index), words[: index + 1], words[index + 1 :]
    if program == "gunicorn":
        rest = _without_options(rest, ("-b", "--bind"))
        return [*head, *rest, "--bind", f"127.0.0.1:{port}"]
    rest = _without_options(rest, ("--host", "--port", "--uds", "--fd"))
    return [*head, *rest, "--host", "127.0.0.1", "--port", str(port)]


def server_index(words: list[str]) -> int | None:
    for index, word in enumerate(words):
        if Path(word).name in SERVERS:
            return index
        if word == "-m" and index + 1 < len(words) and words[index + 1] in SERVERS:
            return index + 1
    return None


def server_name(words: list[str], index: int) -> str:
    return Path(words[index]).name


def _without_options(words: list[str], names: tuple[str, ...]) -> list[str]:
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in names:
            skip = True
            continue
        if any(word.startswith(name + "=") for name in names if name.startswith("--")):
            continue
        if any(word.startswith(name) and len(word) > 2 for name in names if len(name) == 2):
            continue
        kept.append(word)
    return kept


def listening_inodes(port: int) -> set[str]:
    """The inodes of the TCP sockets listening on 127.0.0.1:port (or any address), from /proc/net/tcp."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    found.add(inode)
    return found


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            ppid = int(text.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(parents.get(current, []))
    return found


def serving_processes(pid: int, port: int) -> list[int]:
    """The processes under pid that hold the socket listening on port: a server's master and its workers."""
    inodes = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    holding = []
    for process in descendants(pid):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{process}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        holding.append(process)
                        break
    return holding


def workers(pid: int, port: int) -> int:
    """How many worker processes serve the port: those holding its socket, less the master that hands it out."""
    holding = len(serving_processes(pid, port))
    return holding - 1 if holding > 1 else holding


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def last_lines(outcome, lines: int = 8) -> str:
    """The end of what a sandboxed child printed (stderr, then stdout), indented, for a failure message."""
    said = (outcome.stderr.strip() + "\n" + outcome.stdout.strip()).strip().splitlines()
    verdict = "" if outcome.verdict == "finished" else f" ({outcome.verdict})"
    return "    " + "\n    ".join(said[-lines:] or ["(no output)"]) + verdict


class ImageServer:
    """The image's command, run from what carry_out built, bound to 127.0.0.1 on a free port, in the sandbox.

    `with ImageServer(built, command, env) as server:` waits for GET /health (raises StepFailed if it never
    answers); then .url, .workers(), .stop().
    """

    def __init__(self, built: Built, command: list[str], env: dict[str, str], scratch: Path, seconds: float = 120):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = serving_command(command, self.port)
        self.env = {**built.env, **env}
        self.built, self.scratch, self.seconds = built, Path(scratch), seconds
        self.child = None
        self.health_seconds: float | None = None

    def start(self) -> ImageServer:
        import httpx

        program = self.command[0]
        program = shutil.which(program, path=self.env["PATH"]) if "/" not in program else self.built.map(program)
        if not program:
            raise StepFailed(f"{self.command[0]} is not on the image's PATH once its steps are done.")
        limits = Limits(seconds=self.seconds + 600, processes=256)
        self.child = sandbox.start(
            [program, *self.command[1:]],
            workdir=self.built.workdir,
            env=self.env,
            limits=limits,
            writable=(self.scratch,),
            network=True,
        )
        started = time.monotonic()
        while time.monotonic() - started < self.seconds and self.child.running:
            try:
                httpx.get(f"{self.url}/health", timeout=2)
                self.health_seconds = time.monotonic() - started
                return self  # it answers: the caller judges what
            except httpx.HTTPError:
                time.sleep(0.1)
        outcome = self.child.stop()
        ended = "it stopped" if time.monotonic() - started < self.seconds else f"nothing within {self.seconds:g} s"
        raise StepFailed(f"GET /health got no answer ({ended}). Its last output:\n{last_lines(outcome, 12)}")

    def workers(self, settle: float = 10) -> int:
        """Worker processes serving the port, counted until there are two (or `settle` seconds pass)."""
        seen, deadline = 0, time.monotonic() + settle
        while time.monotonic() < deadline:
            seen = max(seen, workers(self.child.pid, self.port))
            if seen >= 2:
                break
            time.sleep(0.2)
        return seen

    def started_workers(self, wanted: int, seconds: float = 20) -> int:
        """Wait until `wanted` workers say their startup is complete (uvicorn's words); how many did."""
        deadline = time.monotonic() + seconds
        while True:
            done = self.child.output_so_far().count("Application startup complete")
            if done >= wanted or time.monotonic() > deadline or not self.child.running:
                return done
            time.sleep(0.1)

    def stop(self):
        return self.child.stop() if self.child is not None else None

    def __enter__(self) -> ImageServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
