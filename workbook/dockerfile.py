"""Reading a Dockerfile without an engine (lesson 08): its stages, their instructions, what the image holds.

`parse(text)` gives the stages in order; each keeps its base image, name, and instructions with ARG
and ENV values substituted as Docker would (`$NAME`, `${NAME}`, `${NAME:-default}`: workbook.dockerfile_words).
The facts a suite checks (the final stage's user, healthcheck, command, environment) are properties of
`Dockerfile`. Nothing here runs anything: workbook.container carries out the Python steps.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

from workbook.dockerfile_words import env_pairs, strip_flags, substitute

PYTHON_TOOLS = re.compile(r"^(python(\d(\.\d+)?)?|pip(\d(\.\d+)?)?|uv|uvx)$")
# What compiles C: a runtime image should hold none of it.
BUILD_TOOLS = ("build-essential", "gcc", "g++", "clang", "make", "cmake", "python3-dev", "libpq-dev", "cargo", "rustc")
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # the python images' default PATH
SECRET_NAME = re.compile(r"secret|password|passwd|token|api_?key|private_?key", re.IGNORECASE)


@dataclass
class Instruction:
    keyword: str  # upper case: RUN, COPY, ...
    text: str  # the arguments as written (continuations joined)
    line: int
    flags: dict[str, str] = field(default_factory=dict)  # --from=builder, --mount=... (last one wins)
    mounts: list[str] = field(default_factory=list)  # every RUN --mount=...
    env: dict[str, str] = field(default_factory=dict)  # the stage's ENV and ARG values when it runs

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON array form's words (CMD ["a", "b"]), or None for the shell form."""
        body = self.body.strip()
        if not body.startswith("["):
            return None
        try:
            words = json.loads(body)
        except ValueError:
            return None
        return [str(word) for word in words] if isinstance(words, list) else None

    @property
    def body(self) -> str:
        """The arguments after the instruction's own --flags."""
        return strip_flags(self.text)[1]

    @property
    def words(self) -> list[str]:
        """The arguments as words: the exec form's, or the shell form split as sh would."""
        form = self.exec_form
        if form is not None:
            return form
        try:
            return shlex.split(self.body, comments=False)
        except ValueError:
            return self.body.split()


@dataclass
class Stage:
    index: int
    base: str  # the image it starts from, ARGs substituted
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [each for each in self.instructions if each.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    stages: list[Stage]
    global_args: dict[str, str]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, reference: str) -> Stage | None:
        """The earlier stage a COPY --from or FROM names (by name or index), if it is one."""
        for each in self.stages:
            if each.name and each.name.lower() == reference.lower():
                return each
        if reference.isdigit() and int(reference) < len(self.stages):
            return self.stages[int(reference)]
        return None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built FROM, oldest first."""
        chain = [stage]
        while (parent := self.stage(chain[0].base)) is not None and parent.index < chain[0].index:
            chain.insert(0, parent)
        return chain

    def final_instructions(self, keyword: str) -> list[Instruction]:
        """keyword's instructions in the final image: its own stage's and those of the stages it is FROM."""
        return [each for stage in self.lineage(self.final) for each in stage.all(keyword)]

    @property
    def user(self) -> str | None:
        found = self.final_instructions("USER")
        return found[-1].body.strip() if found else None

    @property
    def healthcheck(self) -> Instruction | None:
        found = self.final_instructions("HEALTHCHECK")
        return found[-1] if found else None

    @property
    def command(self) -> list[str] | None:
        """ENTRYPOINT + CMD of the final image, as words (None when there is neither)."""
        entry, cmd = self.final_instructions("ENTRYPOINT"), self.final_instructions("CMD")
        words = (entry[-1].words if entry else []) + (cmd[-1].words if cmd else [])
        return words or None

    @property
    def command_instruction(self) -> Instruction | None:
        found = self.final_instructions("CMD") or self.final_instructions("ENTRYPOINT")
        return found[-1] if found else None

    @property
    def env(self) -> dict[str, str]:
        """The final image's ENV (ARGs are build-time only)."""
        values: dict[str, str] = {}
        for instruction in self.final_instructions("ENV"):
            values.update(env_pairs(instruction.body, instruction.env))
        return values

    def secrets_set(self) -> list[str]:
        """'ENV SECRET_KEY (line 9)' for each ENV or ARG, in any stage, whose name is a secret's."""
        found = []
        for stage in self.stages:
            for instruction in stage.instructions:
                if instruction.keyword == "ENV":
                    names = env_pairs(instruction.body, instruction.env)
                elif instruction.keyword == "ARG":
                    names = dict.fromkeys(arg.split("=", 1)[0] for arg in instruction.words)
                else:
                    continue
                for name in names:
                    if SECRET_NAME.search(name):
                        found.append(f"{instruction.keyword} {name} (line {instruction.line})")
        found += [f"ARG {name} (line 1)" for name in self.global_args if SECRET_NAME.search(name)]
        return found

    def build_tools_in_final(self) -> list[str]:
        """Why the final image holds compilers: its base is a full python image, or it installs some."""
        problems = []
        root = self.lineage(self.final)[0].base.lower()
        if re.match(r"^(docker\.io/)?(library/)?python(:|$)", root):
            tag = root.partition(":")[2]
            if not any(slim in tag for slim in ("slim", "alpine")):
                problems.append(f"it starts FROM {root}, the full image with gcc and make (use a -slim one)")
        for instruction in self.final_instructions("RUN"):
            words = re.split(r"[\s;&|]+", instruction.body.lower())
            if any(word in ("apt-get", "apt", "apk", "yum", "dnf") for word in words):
                tools = [tool for tool in BUILD_TOOLS if tool in words]
                if tools:
                    problems.append(f"line {instruction.line} installs {', '.join(tools)}")
        return problems


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, instruction) with continuations joined and comments dropped."""
    escape = "\\"
    found, current, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not current and number <= 5 and re.match(r"#\s*escape\s*=\s*`", stripped):
            escape = "`"
        if stripped.startswith("#") or (not stripped and current):
            continue
        if not current:
            start = number
        if stripped.endswith(escape):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current.strip():
            found.append((start, current.strip()))
        current = ""
    if current.strip():
        found.append((start, current.strip()))
    return found


def parse(text: str) -> Dockerfile:
    """The stages of a Dockerfile, with ARG and ENV values substituted as each instruction would see them."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    values: dict[str, str] = {}
    for line, instruction in logical_lines(text):
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            flags, body = strip_flags(rest)
            words = substitute(body, global_args).split()
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            parent = next((s for s in stages if s.name and s.name.lower() == base.lower()), None)
            values = dict(parent.instructions[-1].env) if parent and parent.instructions else {"PATH": IMAGE_PATH}
            stages.append(Stage(len(stages), base, name, line))
            continue
        if not stages:
            if keyword == "ARG":
                for word in shlex.split(rest):
                    name, _, default = word.partition("=")
                    global_args[name] = default
            continue
        flags, body = strip_flags(rest)
        parsed = Instruction(
            keyword, substitute(rest, values) if keyword not in ("RUN", "CMD", "ENTRYPOINT") else rest, line
        )
        for flag in flags:
            name, _, value = flag[2:].partition("=")
            parsed.flags[name] = value
            if name == "mount":
                parsed.mounts.append(value)
        if keyword == "ARG":
            for word in shlex.split(body):
                name, _, default = word.partition("=")
                values[name] = substitute(default, values) if default else global_args.get(name, "")
        elif keyword == "ENV":
            values.update(env_pairs(body, values))
        parsed.env = dict(values)
        stages[-1].instructions.append(parsed)
    return Dockerfile(stages, global_args)
