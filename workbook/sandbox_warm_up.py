"""Inside the sandbox: what the zygote imports and runs once, before it forks, so that each load starts warm.

PRELOAD is the frameworks an app may use (the grader reads it too, as workbook.sandbox_warm_up, to pick those a
submission imports: workbook.sandbox_apps.frameworks_of); warm_up() runs one of the sample apps of
workbook.sandbox_warm_apps through them. One of the pieces of workbook/sandbox_app.py (the zygote), imported by
its bare name in the sandbox child: standard library only at import time, nothing of workbook.
"""

from __future__ import annotations

import sys
import traceback

PRELOAD = (
    "asyncio", "sqlite3", "email.utils", "json", "logging", "uuid", "hashlib", "secrets", "contextvars",
    "pydantic", "pydantic.v1", "pydantic_settings", "email_validator", "starlette.applications", "starlette.middleware.cors",
    "starlette.responses", "fastapi", "fastapi.security", "fastapi.middleware.cors", "fastapi_offline",
    "multipart", "python_multipart", "sqlalchemy", "sqlalchemy.dialects.sqlite", "sqlalchemy.pool", "sqlmodel",
    "jwt", "argon2", "limits", "limits.storage", "limits.strategies", "anyio", "anyio._backends._asyncio", "uvloop",
    "h11", "httptools", "uvicorn", "uvicorn.config", "uvicorn.server", "uvicorn.lifespan.on", "uvicorn.loops.auto",
    "uvicorn.loops.asyncio", "uvicorn.loops.uvloop", "uvicorn.protocols.http.auto", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.http.httptools_impl", "uvicorn.protocols.websockets.auto",
)  # fmt: skip
FULL_WARM_UP = ("sqlmodel", "pydantic_settings", "email_validator", "multipart")  # all there: the full WARM_UP


def warm_up(code: str) -> None:
    """Run, once, what importing and serving a typical app runs for the first time in a process (framework
    caches, lazy imports), so that each fork does only the app's own work. Nothing of it stays behind: its
    tables and mapped classes are removed, its modules forgotten, and the event loop it used is closed."""
    import asyncio
    import types

    module = types.ModuleType("workbook_warm_up")
    try:
        exec(compile(code, "<warm-up>", "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the grader's own code
        asyncio.run(_warm_requests(module.app))
    except Exception:  # noqa: BLE001 - a framework version that differs: the loads just start colder
        traceback.print_exc()
    finally:
        engine = module.__dict__.get("engine")
        if engine is not None:
            engine.dispose()
        module.__dict__.clear()
        if "sqlmodel" in sys.modules:
            try:
                from sqlmodel import SQLModel
                from sqlmodel.main import default_registry

                SQLModel.metadata.clear()
                default_registry.dispose()
            except Exception:  # noqa: BLE001
                pass
        asyncio.set_event_loop(None)


async def _warm_requests(app) -> None:
    """A few requests straight through the ASGI app, in this loop: async routes only (no worker thread starts)."""
    import uvicorn

    uvicorn.Config(app, lifespan="on", log_config=None).load()

    async def call(method: str, path: str, body: bytes = b"", content_type: bytes = b"application/json"):
        sent = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "server": ("x", 80),
            "client": ("127.0.0.1", 1), "headers": [(b"host", b"x"), (b"content-type", content_type),
                                                    (b"origin", b"http://localhost")],
        }  # fmt: skip
        await app(scope, receive, send)

    await call("POST", "/api/v1/things", b'{"title": "warm", "due": "2026-01-01", "level": "high"}')
    await call("GET", "/api/v1/things")
    await call("PATCH", "/api/v1/things/1", b'{"title": "warmer"}')
    await call("PATCH", "/api/v1/things/99", b'{"title": "warmer"}')
    await call("POST", "/api/v1/things", b'{"title": ""}')
    await call("POST", "/api/v1/users", b'{"email": "a@example.com", "password": "long enough"}')
    await call("POST", "/api/v1/token", b"username=a&password=b", b"application/x-www-form-urlencoded")
    await call("GET", "/openapi.json")
    await call("GET", "/no-such-page")
