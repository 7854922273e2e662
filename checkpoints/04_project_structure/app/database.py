"""The engine, table creation, and a session per request: the database, and nothing of HTTP."""

from sqlmodel import Session, SQLModel, create_engine

from app.config import settings

# SQLite stores integers in 64 bits: routes refuse bigger numbers before they crash a query
MAX_SQL_INT = 2**63 - 1

# SQLite connections belong to one thread; FastAPI may serve a request from another.
connect_args = {"check_same_thread": False} if settings.database_url.startswith("sqlite") else {}
engine = create_engine(settings.database_url, connect_args=connect_args)


def create_db_and_tables() -> None:
    """Create every table the models define, if it is missing."""
    SQLModel.metadata.create_all(engine)


def get_session():
    """A session for one request: `yield` hands it to the route, and it closes after the response."""
    with Session(engine) as session:
        yield session
