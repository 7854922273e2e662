"""Errors shared by every layer, and the handlers that turn them into JSON answers."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class NotFoundError(Exception):
    """Raised by a service when the thing asked for does not exist."""

    def __init__(self, detail: str) -> None:
        self.detail = detail


class ConflictError(Exception):
    """Raised by a service when the thing to create already exists."""

    def __init__(self, detail: str) -> None:
        self.detail = detail


async def not_found_handler(request: Request, exc: NotFoundError) -> JSONResponse:
    return JSONResponse(status_code=404, content={"detail": exc.detail})


async def conflict_handler(request: Request, exc: ConflictError) -> JSONResponse:
    return JSONResponse(status_code=409, content={"detail": exc.detail})


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    # Unknown routes and wrong methods land here too: answer them in the same shape.
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)


def add_exception_handlers(app: FastAPI) -> None:
    """Make every error a JSON object with a `detail` key."""
    app.add_exception_handler(NotFoundError, not_found_handler)
    app.add_exception_handler(ConflictError, conflict_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
