"""The image, without an engine: its Python steps carried out into a fresh environment, then its command run
from there with the image's ENV, a migrated DATABASE_URL and a SECRET_KEY, bound to 127.0.0.1."""

import platform
import secrets

import httpx

from workbook.built_image import StepFailed
from workbook.image_server import ImageServer
from workbook.testing import show

START_SECONDS = 120  # several workers that compile their imports, on a busy machine


def test_the_dockerfiles_python_steps_install_the_app_into_a_fresh_environment(image):
    assert image.problem is None, (
        f"Carried out without an engine (this machine's Python {platform.python_version()} standing for the "
        f"image's), a step of the Dockerfile failed: {image.problem}"
    )


def test_the_command_serves_health_with_several_workers(image, dockerfile, migrated, routes):
    assert image.problem is None, f"The image's steps did not all work, so its command cannot run: {image.problem}"
    command = dockerfile.command or []
    settings = {"DATABASE_URL": migrated, "SECRET_KEY": secrets.token_urlsafe(64)}
    try:
        server = ImageServer(image.built, command, settings, image.folder, seconds=START_SECONDS).start()
    except StepFailed as failed:
        raise AssertionError(f"The image's command ({' '.join(command)}) did not serve: {failed}") from None
    try:
        answer = httpx.get(f"{server.url}{routes.health}", timeout=10)
        assert answer.status_code == 200, f"GET {routes.health} answered {show(answer)}, not 200."
        count = server.workers()
        assert count >= 2, (
            f"The image's command serves with {count} worker process: {' '.join(command)}. One process uses one "
            "core and stops everything while it restarts; run several: `fastapi run --workers 4`, or gunicorn "
            "with `-k uvicorn.workers.UvicornWorker -w 4`."
        )
    finally:
        server.stop()
