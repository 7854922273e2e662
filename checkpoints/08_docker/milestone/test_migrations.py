"""Alembic owns the schema: `alembic upgrade head` builds it on an empty PostgreSQL database, in the database
DATABASE_URL names, and `alembic check` finds nothing in the models that the migrations lack."""

from workbook.image_server import last_lines
from workbook.testing import database_tables


def test_alembic_upgrade_head_creates_the_schema_in_the_database_DATABASE_URL_names(shipped, alembic, fresh_database):
    shipped.require("alembic.ini")
    url = fresh_database()
    done = alembic("upgrade", "head", database_url=url)
    assert done.ok, f"`alembic upgrade head` failed on an empty PostgreSQL database:\n{last_lines(done)}"
    tables = set(database_tables(url))
    assert "alembic_version" in tables and len(tables) >= 3, (
        f"After `alembic upgrade head` with DATABASE_URL naming an empty database, it holds {sorted(tables) or 'no tables'}"
        ": the users and tasks tables and alembic_version should be there. Does migrations/env.py read DATABASE_URL "
        "(the app's settings), and do the migrations in migrations/versions/ create the tables?"
    )


def test_alembic_check_finds_no_difference_between_the_models_and_the_migrations(shipped, alembic, migrated):
    done = alembic("check", database_url=migrated)
    said = last_lines(done)
    assert done.ok, (
        "`alembic check`, after `alembic upgrade head`, finds that the models hold more than the migrations make:\n"
        f"{said}\nGenerate a migration for the change (alembic revision --autogenerate -m '...'), read it, keep it."
    )
