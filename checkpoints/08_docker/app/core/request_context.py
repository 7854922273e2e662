"""Each request gets an id, one log line when it ends, and a JSON 500 if it fails unexpectedly."""

import logging
import time
from uuid import uuid4

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logs import request_id

logger = logging.getLogger("app.requests")

MAX_ID_LENGTH = 128  # a longer X-Request-ID is replaced: a client must not write what it likes into the logs


class RequestContextMiddleware:
    """Give each request an id (X-Request-ID), log it when it ends, and answer an unhandled error with a JSON 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        token = request_id.set(incoming if 0 < len(incoming) <= MAX_ID_LENGTH else str(uuid4()))
        started = time.perf_counter()
        answer = {"status": 500, "sent": False, "seconds": 0.0}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.update(status=message["status"], sent=True)
                MutableHeaders(scope=message)["X-Request-ID"] = request_id.get()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answer["seconds"] = time.perf_counter() - started  # answered: background tasks come after
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("Unhandled error")  # the traceback goes to the log, never to the client
            if answer["sent"]:
                raise  # too late for another answer: the client has part of one already
            body = {"detail": "Internal server error", "request_id": request_id.get()}
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)
        finally:
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": answer["status"],
                "duration_ms": round(answer["seconds"] * 1000, 1),
            }
            logger.info("%s %s %s", scope["method"], scope["path"], answer["status"], extra={"fields": fields})
            request_id.reset(token)
