"""The image, without an engine: its Python steps carried out into a fresh environment, then its command run
from there with the image's ENV, a migrated DATABASE_URL and a SECRET_KEY, bound to 127.0.0.1."""

import secrets
import shutil
import time

import httpx

from workbook import sandbox
from workbook.container import StepFailed, free_port, serving_command, workers
from workbook.sandbox import Limits
from workbook.testing import show

START_SECONDS = 45


def test_the_dockerfiles_python_steps_install_the_app_into_a_fresh_environment(image):
    assert image.problem is None, (
        f"Carried out without an engine (with this machine's Python {'.'.join(map(str, __import__('sys').version_info[:2]))}"
        f" for the image's), a step of the Dockerfile failed: {image.problem}"
    )


def test_the_command_serves_health_with_several_workers(image, dockerfile, migrated, routes):
    assert image.problem is None, f"The image's steps did not all work, so its command cannot run: {image.problem}"
    built, port = image.built, free_port()
    try:
        command = serving_command(dockerfile.command or [], port)
    except StepFailed as failed:
        raise AssertionError(str(failed)) from None
    env = {**built.env, "DATABASE_URL": migrated, "SECRET_KEY": secrets.token_urlsafe(64)}
    program = shutil.which(command[0], path=env["PATH"]) if "/" not in command[0] else built.map(command[0])
    assert program, f"CMD runs {command[0]}, which is not on the image's PATH ({env['PATH']}) once its steps are done."
    limits = Limits(seconds=START_SECONDS + 30, processes=256)
    with sandbox.start(
        [program, *command[1:]], workdir=built.workdir, env=env, limits=limits, writable=(image.folder,), network=True
    ) as server:
        answer, waited = wait_for_health(f"http://127.0.0.1:{port}{routes.health}", server)
        output = server.stop() if answer is None else None
        assert answer is not None, (
            f"The image's command ({' '.join(dockerfile.command)}) did not answer GET {routes.health} within "
            f"{START_SECONDS} s. Its last output:\n    " + "\n    ".join(tail_of(output))
        )
        assert answer.status_code == 200, f"GET {routes.health} answered {show(answer)}, not 200."
        count = count_workers(server.pid, port)
        assert count >= 2, (
            f"The image's command serves with {count} worker process: {' '.join(dockerfile.command)}. One process "
            "uses one core and stops everything while it restarts; run several: `fastapi run --workers 4`, "
            "or gunicorn with `-k uvicorn.workers.UvicornWorker -w 4`."
        )


def wait_for_health(url: str, server) -> tuple[httpx.Response | None, float]:
    started = time.monotonic()
    while time.monotonic() - started < START_SECONDS and server.running:
        try:
            return httpx.get(url, timeout=2), time.monotonic() - started
        except httpx.HTTPError:
            time.sleep(0.1)
    return None, time.monotonic() - started


def count_workers(pid: int, port: int) -> int:
    """Workers take a moment to start after the first answers: count until the number holds."""
    seen, deadline = 0, time.monotonic() + 10
    while time.monotonic() < deadline:
        seen = max(seen, workers(pid, port))
        if seen >= 2:
            return seen
        time.sleep(0.2)
    return seen


def tail_of(outcome) -> list[str]:
    if outcome is None:
        return ["(nothing)"]
    said = (outcome.stdout.strip() + "\n" + outcome.stderr.strip()).strip().splitlines()
    return said[-12:] or ["(nothing)"]
