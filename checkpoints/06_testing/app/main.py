"""The entry point: builds the app, wires in the routers and error handlers, runs startup."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from app.core.errors import add_exception_handlers
from app.database import create_db_and_tables
from app.routers import auth, tasks, users


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the tables when the server starts, not when the module is imported."""
    create_db_and_tables()
    yield


# FastAPIOffline serves /docs from files installed with it; plain FastAPI loads them from a CDN.
app = FastAPIOffline(title="Task Tracker", lifespan=lifespan)
add_exception_handlers(app)
app.include_router(auth.router, prefix="/api/v1")
app.include_router(users.router, prefix="/api/v1")
app.include_router(tasks.router, prefix="/api/v1")


@app.get("/")
def read_root():
    """Greet the caller."""
    return {"message": "Hello World"}


@app.get("/health")
def health():
    """Tell a monitor the app is up."""
    return {"status": "ok"}
