"""Lesson 07: GET /health/ready answers 200 while the database answers, 503 when it does not.

The suite starts the app on a database inside a folder of its own, then puts a file where that
folder was: every new connection to DATABASE_URL fails, as when a database server is down.
"""

from workbook import sandbox_files
from workbook.testing import show

NEW_CONNECTION = (
    "Open a connection of its own for the check (an engine with poolclass=NullPool, or engine.dispose() first): "
    "a connection kept in the pool may still work when new ones fail."
)


def break_the_database(folder) -> None:
    """New connections to the database in folder fail; connections kept open read a damaged file.

    The folder is the app's: its files are written without following links."""
    away = folder.with_name(folder.name + "-gone")
    folder.rename(away)  # a rename moves a link itself, never what it points to
    sandbox_files.write_text(folder, "not a folder any more")
    for database in sandbox_files.files_in(away):
        if database.suffix == ".db":
            sandbox_files.overwrite_start(database, b"\0" * 100)  # the header: an open connection fails too


def test_health_ready_answers_503_when_the_database_does_not_answer(load_app, make_client, routes, app_folder):
    folder = app_folder("database")
    client = make_client(load_app(DATABASE_URL=f"sqlite:///{folder / 'ready.db'}"))
    r = client.get(routes.ready)
    assert r.status_code == 200, (
        f"GET {routes.ready} should answer 200 while the database answers, got {show(r)}. Add the route: run "
        "SELECT 1 on the database, answer 200 when it works and 503 when it raises."
    )
    break_the_database(folder)
    r = client.get(routes.ready)
    assert r.status_code == 503, (
        f"GET {routes.ready} should answer 503 Service Unavailable when the database does not answer (new connections "
        f"to DATABASE_URL fail), got {show(r)}. Catch SQLAlchemyError around the check and raise HTTPException(503). "
        + NEW_CONNECTION
    )
