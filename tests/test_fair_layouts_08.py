"""Lesson 08's suite judges the contract, not the reference's style: submissions shipped in unlike ways pass.

- pip: a pinned requirements.txt (no uv, no pyproject.toml) installed with pip into /opt/venv, gunicorn with
  uvicorn workers on port 8080, the health check in compose instead of the Dockerfile, docker-compose.yml with
  list-form environments and an env_file, an ARG for the Python version;
- uv pip: the same requirements synced with `uv pip sync` into the image's Python, `python -m uvicorn --workers 3`,
  the app in /srv/tracker, compose.yml.

Both are made from the reference checkpoint (its app and migrations); a copy with one realistic bug fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbook.appfiles import copy_app_folder
from workbook.grading import run_suite
from workbook.lessons import find_lesson

LESSON = find_lesson("08")

PIP_DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /build
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

FROM python:${PYTHON_VERSION}-slim
RUN useradd --create-home --uid 1000 tracker
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /home/tracker/service
COPY --chown=1000:1000 . .
USER 1000
EXPOSE 8080
CMD ["gunicorn", "app.main:app", "-k", "uvicorn.workers.UvicornWorker", "-w", "3", "-b", "0.0.0.0:8080"]
"""

PIP_COMPOSE = """\
services:
  db:
    image: postgres:16-alpine
    env_file: .env
    environment:
      - POSTGRES_DB=tracker
      - POSTGRES_USER=tracker
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: pg_isready -U tracker
      interval: 3s
  app:
    build:
      context: .
    env_file: .env
    environment:
      - DATABASE_URL=postgresql+psycopg://tracker:${POSTGRES_PASSWORD}@db/tracker
      - ENVIRONMENT=production
    ports: ["8080:8080"]
    depends_on:
      db:
        condition: service_healthy
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request as u; u.urlopen('http://localhost:8080/health')"]
      interval: 15s
volumes:
  pgdata: {}
"""

UV_PIP_DOCKERFILE = """\
FROM python:3.11-slim AS builder
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
COPY requirements.txt /tmp/requirements.txt
RUN uv pip sync --system --no-cache /tmp/requirements.txt

FROM python:3.11-slim
COPY --from=builder /usr/local /usr/local
RUN groupadd --gid 2000 web && useradd --uid 2000 --gid 2000 --no-create-home web
WORKDIR /srv/tracker
COPY app/ app/
COPY migrations/ migrations/
COPY alembic.ini .
USER 2000:2000
HEALTHCHECK CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/health')"]
CMD ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "9000", "--workers", "3"]
"""

UV_PIP_COMPOSE = """\
name: tracker
services:
  app:
    build: .
    environment:
      DATABASE_URL: "postgresql+psycopg://postgres:${PGPASSWORD:?}@db:5432/postgres"
      SECRET_KEY: ${SECRET_KEY:?}
    depends_on:
      db: {condition: service_healthy, restart: true}
  db:
    image: docker.io/library/postgres:17
    environment:
      POSTGRES_PASSWORD: ${PGPASSWORD:?}
    volumes: ["dbdata:/var/lib/postgresql/data"]
    healthcheck: {test: ["CMD", "pg_isready"], interval: 2s, retries: 20}
volumes:
  dbdata:
"""

DOCKERIGNORE = ".env\n*.db\n**/__pycache__\n.venv\ntests\noutbox\n"


def pinned_requirements(checkpoint: Path, extra: list[str]) -> str:
    """The reference lock as a requirements file pinned with == (what `uv export` writes), plus extra pins."""
    exported = subprocess.run(
        [str(Path(sys.executable).with_name("uv")), "export", "--frozen", "--no-dev", "--no-hashes", "-q"],
        cwd=checkpoint,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return exported + "".join(f"{line}\n" for line in extra)


def shipped_like(style: str, destination: Path) -> Path:
    reference = LESSON.checkpoint
    folder = copy_app_folder(reference, destination)
    for name in ("Dockerfile", "compose.yaml", "uv.lock", "pyproject.toml", ".dockerignore"):
        (folder / name).unlink()
    (folder / ".dockerignore").write_text(DOCKERIGNORE)
    if style == "pip":
        (folder / "Dockerfile").write_text(PIP_DOCKERFILE)
        (folder / "docker-compose.yml").write_text(PIP_COMPOSE)
        (folder / "requirements.txt").write_text(pinned_requirements(reference, ["gunicorn==27.0.1"]))
    else:
        (folder / "Dockerfile").write_text(UV_PIP_DOCKERFILE)
        (folder / "compose.yml").write_text(UV_PIP_COMPOSE)
        (folder / "requirements.txt").write_text(pinned_requirements(reference, []))
    return folder


def summary(result) -> str:
    failures = "\n".join(f"- {f.test}: {f.message[:600]}" for f in result.failures)
    return f"{result.passed} of {result.total} passed: {result.load_error or failures}"


@pytest.mark.parametrize("style", ["pip", "uv_pip"])
def test_a_submission_shipped_in_another_style_passes_lesson_08(style, tmp_path):
    folder = shipped_like(style, tmp_path / style)
    assert not (folder / "uv.lock").exists() and (folder / "requirements.txt").is_file()

    result = run_suite(LESSON, folder, timeout=600)

    assert result.exit_code == 0, summary(result)


def test_the_same_style_with_an_unpinned_requirement_fails(tmp_path):
    folder = shipped_like("pip", tmp_path / "unpinned")
    requirements = folder / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("fastapi==", "fastapi>="))

    result = run_suite(LESSON, folder, extra_args=["-x"], timeout=600)

    assert result.exit_code == 1, summary(result)
    assert any("fastapi>=" in failure.message for failure in result.failures), summary(result)
