"""The compose file, read: `app` and `db` with healthchecks, the app waiting for a healthy database,
the data in a named volume, and no secret written into the file."""

import re

import pytest

SECRET = re.compile(r"secret|password|passwd|token|api_?key", re.IGNORECASE)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:(?P<password>[^@\s]+)@")


def services(compose) -> dict:
    found = compose.get("services")
    assert isinstance(found, dict) and found, "The compose file has no `services:`: lesson 08 defines `app` and `db`."
    return found


def environment(service: dict) -> dict[str, str]:
    """A service's `environment:`, as a mapping (compose also takes a list of NAME=value)."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(str(item).partition("=")[::2] for item in raw)
    return {str(name): "" if value is None else str(value) for name, value in raw.items()}


def test_compose_defines_app_and_db(compose):
    found = services(compose)
    missing = [name for name in ("app", "db") if name not in found]
    assert not missing, (
        f"The compose file's services are {', '.join(found)}; lesson 08 names them `app` (built from the Dockerfile) "
        f"and `db` (PostgreSQL), and {' and '.join(missing)} is missing."
    )
    assert found["app"].get("build") is not None, "The `app` service should be built from this folder: `build: .`."
    image = str(found["db"].get("image", ""))
    assert image.startswith(("postgres", "docker.io/library/postgres")), (
        f"The `db` service should run PostgreSQL (image: postgres:17), not {image or 'no image'}."
    )


def test_db_has_a_healthcheck(compose):
    db = services(compose).get("db") or {}
    check = db.get("healthcheck") or {}
    test = check.get("test")
    disabled = check.get("disable") or (isinstance(test, list) and test[:1] == ["NONE"])
    assert test and not disabled, (
        "The `db` service has no healthcheck, so nothing can wait for PostgreSQL to accept connections. Add "
        'healthcheck: {test: ["CMD-SHELL", "pg_isready -U ... -d ..."], interval: 5s, retries: 10}.'
    )


def test_app_waits_for_a_healthy_db(compose):
    app = services(compose).get("app") or {}
    depends = app.get("depends_on")
    condition = depends.get("db", {}).get("condition") if isinstance(depends, dict) else None
    assert condition == "service_healthy", (
        f"`app` should wait until `db` is healthy, not merely started (found depends_on: {depends!r}). Write "
        "depends_on: {db: {condition: service_healthy}}: a started PostgreSQL refuses connections for a while."
    )


def test_the_database_keeps_its_data_in_a_named_volume(compose):
    db = services(compose).get("db") or {}
    named = set((compose.get("volumes") or {}).keys())
    mounts = [str(m if not isinstance(m, dict) else m.get("source", "")) for m in db.get("volumes") or []]
    used = [mount.split(":")[0] for mount in mounts if mount.split(":")[0] in named]
    assert used, (
        "The `db` service should keep its data in a named volume (volumes: [db-data:/var/lib/postgresql/data], and "
        "db-data under the top-level volumes:), so that `docker compose down` and a rebuild keep the tasks."
    )


@pytest.mark.parametrize("service_name", ["app", "db"])
def test_no_secret_is_written_into_the_compose_file(compose, service_name):
    service = services(compose).get(service_name) or {}
    literals = []
    for name, value in environment(service).items():
        if SECRET.search(name) and value and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[?][^}]*)?\}", value):
            literals.append(name)
        match = URL_PASSWORD.match(value)
        if match and not match["password"].startswith("${"):
            literals.append(f"the password in {name}")
    assert not literals, (
        f"The `{service_name}` service writes secrets into the compose file: {', '.join(literals)}. The file is "
        "committed; take them from the environment or .env instead: SECRET_KEY: ${SECRET_KEY:?set it in .env}."
    )
