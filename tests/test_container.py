"""Reading a Dockerfile and carrying it out without an engine (lesson 08): the parts that need no server."""

from __future__ import annotations

import pytest

from workbook.build_context import ignored
from workbook.built_image import StepFailed, map_path
from workbook.dockerfile import parse
from workbook.image_server import serving_command

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PYTHON=3.11
FROM python:${PYTHON}-slim AS builder
ENV VENV=/opt/venv
ENV PATH="$VENV/bin:$PATH"
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked
FROM builder AS runtime
USER 10001
HEALTHCHECK CMD ["python", "-c", "print('/health')"]
CMD ["gunicorn", "app.main:app", "-b", "0.0.0.0:80", "-w", "4"]
"""


def test_stages_arguments_and_environment_are_read_as_docker_does():
    parsed = parse(DOCKERFILE)
    assert [(stage.base, stage.name) for stage in parsed.stages] == [
        ("python:3.11-slim", "builder"),
        ("builder", "runtime"),
    ]
    assert parsed.env["PATH"].startswith("/opt/venv/bin:/usr/local/sbin:")  # ENV of the stage it is FROM
    assert parsed.user == "10001" and "/health" in parsed.healthcheck.body
    assert parsed.stages[0].all("RUN")[0].mounts == ["type=cache,target=/root/.cache/uv"]
    assert parsed.command == ["gunicorn", "app.main:app", "-b", "0.0.0.0:80", "-w", "4"]


def test_secrets_and_build_tools_in_the_image_are_found():
    parsed = parse(
        "FROM python:3.11\nARG DB_PASSWORD\nENV SECRET_KEY=abc API=1\n"
        "RUN apt-get update && apt-get install -y build-essential\n"
    )
    assert parsed.secrets_set() == ["ARG DB_PASSWORD (line 2)", "ENV SECRET_KEY (line 3)"]
    problems = parsed.build_tools_in_final()
    assert "full image" in problems[0] and "build-essential" in problems[1]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["fastapi", "run", "app/main.py", "--port", "8000", "--workers", "4"],
         ["fastapi", "run", "app/main.py", "--workers", "4", "--host", "127.0.0.1", "--port", "5555"]),
        (["python", "-m", "uvicorn", "app.main:app", "--host=0.0.0.0", "--workers", "2"],
         ["python", "-m", "uvicorn", "app.main:app", "--workers", "2", "--host", "127.0.0.1", "--port", "5555"]),
        (["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-b", "0.0.0.0:80", "-w", "3", "app.main:app"],
         ["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "-w", "3", "app.main:app", "--bind", "127.0.0.1:5555"]),
    ],
)  # fmt: skip
def test_the_command_is_bound_to_loopback_on_the_graders_port(command, expected):
    assert serving_command(command, 5555) == expected


def test_a_command_that_starts_no_server_directly_is_refused():
    with pytest.raises(StepFailed, match="exec form"):
        serving_command(["sh", "-c", "alembic upgrade head && fastapi run"], 5555)


def test_image_paths_land_in_the_stage_folder_and_system_folders_stay_the_machines(tmp_path):
    assert map_path(tmp_path, "/app/.venv/bin") == str(tmp_path / "app/.venv/bin")
    assert map_path(tmp_path, "/usr/bin") == "/usr/bin"
    assert map_path(tmp_path, "relative/path") == "relative/path"


def test_dockerignore_patterns_leave_files_out_and_negations_put_them_back():
    patterns = [".env", "**/__pycache__", "*.db", "tests", "!tests/keep.txt"]
    assert ignored(".env", patterns) and ignored("app/__pycache__/x.pyc", patterns) and ignored("tasks.db", patterns)
    assert ignored("tests/test_x.py", patterns) and not ignored("tests/keep.txt", patterns)
    assert not ignored("app/main.py", patterns)
