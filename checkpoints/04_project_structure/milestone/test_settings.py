"""Lesson 04: settings come from the environment and from .env (the environment wins); tables appear at startup."""

from workbook.testing import Routes, database_tables, database_values, show, write_file


def add_task(client, routes: Routes, title: str) -> None:
    r = client.post(routes.tasks, json={"title": title})
    assert r.status_code == 201, f"POST {routes.tasks} should answer 201 Created, got {show(r)}."


def stored_in(url: str, title: str) -> bool:
    return title in [value for _table, _column, value in database_values(url)]


def test_database_url_is_read_from_the_environment(workdir, load_app, make_client, routes):
    url = f"sqlite:///{workdir / 'from-environment.db'}"
    add_task(make_client(load_app(DATABASE_URL=url)), routes, "Set by the environment")
    assert stored_in(url, "Set by the environment"), (
        f"DATABASE_URL was {url} in the environment, but the task is not in that database. "
        "Declare database_url in your Settings class and build the engine from settings.database_url."
    )


def test_database_url_is_read_from_a_dotenv_file(workdir, load_app, make_client, routes):
    url = f"sqlite:///{workdir / 'from-dotenv.db'}"
    write_file(workdir / ".env", f"DATABASE_URL={url}\n")
    add_task(make_client(load_app(DATABASE_URL=None)), routes, "Set by .env")
    assert stored_in(url, "Set by .env"), (
        f"With no DATABASE_URL in the environment and DATABASE_URL={url} in .env, the task is not in that database. "
        'Point your settings at the file: model_config = SettingsConfigDict(env_file=".env").'
    )


def test_the_environment_wins_over_dotenv(workdir, load_app, make_client, routes):
    from_env = f"sqlite:///{workdir / 'from-environment.db'}"
    from_dotenv = f"sqlite:///{workdir / 'from-dotenv.db'}"
    write_file(workdir / ".env", f"DATABASE_URL={from_dotenv}\n")
    add_task(make_client(load_app(DATABASE_URL=from_env)), routes, "Environment first")
    assert stored_in(from_env, "Environment first"), (
        "DATABASE_URL was set both in the environment and in .env, and the task is not in the environment's "
        "database. The environment should win: let pydantic-settings read both rather than loading .env over it."
    )


def test_tables_are_created_at_startup_not_at_import(load_app, make_client, grading_env):
    """Importing the app should not touch the database; starting it (the lifespan) creates the tables."""
    url = grading_env["DATABASE_URL"]
    app = load_app()
    assert database_tables(url) == [], (
        f"Importing app.main already created the tables {database_tables(url)}. "
        "Create them in the lifespan (at startup), not at module level."
    )
    make_client(app)  # enters the lifespan
    assert database_tables(url), (
        "After the app started, the database still has no tables. "
        "Call SQLModel.metadata.create_all(engine) in the lifespan, before its yield."
    )
