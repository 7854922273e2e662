"""The engine, a session per request, and the readiness probe. The tables are the migrations' job."""

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from app.config import settings

# PostgreSQL's INTEGER holds 32 bits (SQLite's 64): routes refuse bigger numbers before they crash a query
MAX_SQL_INT = 2**31 - 1

# SQLite connections belong to one thread; FastAPI may serve a request from another.
connect_args = {"check_same_thread": False} if settings.database_url.startswith("sqlite") else {}
engine = create_engine(settings.database_url, connect_args=connect_args)
# The probe's connections are never pooled: a pooled one may still work when new ones fail.
probe_engine = create_engine(settings.database_url, connect_args=connect_args, poolclass=NullPool)


def get_session():
    """A session for one request: `yield` hands it to the route, and it closes after the response."""
    with Session(engine) as session:
        yield session


def database_answers() -> bool:
    """Whether a new connection to the database can run a query."""
    try:
        with probe_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
