"""The entry point: builds the app, wires in middleware, routers and error handlers; no startup work."""

from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from app.config import settings
from app.core.errors import add_exception_handlers
from app.core.headers import SecurityHeadersMiddleware
from app.core.logs import configure_logging
from app.core.request_context import RequestContextMiddleware
from app.routers import auth, health, tasks, users

configure_logging()
# FastAPIOffline serves /docs from files installed with it; plain FastAPI loads them from a CDN.
app = FastAPIOffline(title="Task Tracker")
add_exception_handlers(app)
# Each middleware added wraps the ones before it: the last one added sees every request first.
app.add_middleware(RequestContextMiddleware)
app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.cors_origins,
    allow_credentials=True,
    allow_methods=["GET", "POST", "PATCH", "DELETE"],
    allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
    expose_headers=["X-Request-ID"],
)
app.add_middleware(SecurityHeadersMiddleware)
app.include_router(health.router)
app.include_router(auth.router, prefix="/api/v1")
app.include_router(users.router, prefix="/api/v1")
app.include_router(tasks.router, prefix="/api/v1")


@app.get("/")
def read_root():
    """Greet the caller."""
    return {"message": "Hello World"}
