"""Inside the sandbox: what a load tells the grader (JSON messages on its socket), and what the app raised,
described as plain data (type, message, the frames in the learner's files).

One of the pieces of workbook/sandbox_app.py (the zygote), imported by its bare name in the sandbox child:
standard library only, nothing of workbook.
"""

from __future__ import annotations

import base64
import json
import socket
import traceback

from sandbox_evidence import add_evidence, as_text, relative_to, returned_nothing, routes_of

RAISED_HEADER = b"x-workbook-raised"
ROUTING_HEADER = b"x-workbook-routing"  # on a 404 or 405: the route that took it, or the routes the app has
HOLD_BYTES = 32 * 2**20  # a response held back (to add RAISED_HEADER) at most; a bigger one is passed on as it comes
REPORT_BYTES = 6000  # the encoded exception report, at most
FRAMES = 25
MAX_MESSAGE = 2**20  # of one request from the grader


# --- describing what the app raised, as data ------------------------------------------------------


def learner_frames(tb, root: str) -> list[list]:
    """[file relative to root, line, function, code] for each frame of tb in the learner's files."""
    found = []
    try:
        for frame in traceback.extract_tb(tb):
            relative = relative_to(frame.filename, root)
            if relative:
                found.append([relative, frame.lineno, frame.name, as_text(frame.line or "", 300)])
    except Exception:  # noqa: BLE001 - a traceback that cannot be walked: no frames, still a report
        return []
    return found[-FRAMES:]


def describe(error: BaseException, root: str, stage: str) -> dict:
    """What the app raised, in the terms the grader's messages use (the preflight's kinds)."""
    frames = learner_frames(error.__traceback__, root)
    if isinstance(error, SystemExit):
        return {"kind": "exit", "stage": stage, "code": as_text(repr(error.code), 200), "frames": frames}
    if isinstance(error, SyntaxError):
        return {
            "kind": "syntax", "stage": stage, "file": relative_to(error.filename, root) or as_text(error.filename, 300),
            "line": error.lineno, "text": as_text(error.text or "", 300), "offset": error.offset,
            "message": as_text(error.msg),
        }  # fmt: skip
    report = {
        "kind": "missing" if isinstance(error, ModuleNotFoundError) else "error",
        "stage": stage,
        "type": type(error).__name__,
        "message": as_text(error),
        "frames": frames,
    }
    if isinstance(error, ModuleNotFoundError):
        report["name"] = as_text(error.name or "", 300)
    if isinstance(error, MemoryError):
        report["out_of_memory"] = True
    if type(error).__name__ == "ResponseValidationError":
        report["returned_nothing"] = returned_nothing(error)
    add_evidence(report, error, root)
    return report


# --- talking to the grader ----------------------------------------------------------------------------


def send(channel: socket.socket, **message) -> None:
    data = json.dumps(message, default=as_text).encode()
    try:
        channel.send(data[:MAX_MESSAGE])
    except OSError:
        pass  # the grader has gone: it ends this load itself


def receive(channel: socket.socket, timeout: float | None = None):
    """(message, fds) from the grader; (None, []) at the end of the channel."""
    channel.settimeout(timeout)
    try:
        data, fds, _flags, _address = socket.recv_fds(channel, MAX_MESSAGE, 4)
    except (OSError, ValueError):
        return None, []
    if not data:
        return None, list(fds)
    try:
        return json.loads(data), list(fds)
    except ValueError:
        return None, list(fds)


# --- the served app -----------------------------------------------------------------------------------


class Watched:
    """The app as the load serves it: exceptions the app raises are reported, never lost in a log.

    `hold`: every HTTP response is held back until the app is done with the request (as Starlette's TestClient
    does, background tasks included), so that an exception raised while answering is added to the response as
    RAISED_HEADER. Without `hold`, the app is served as it is (the real-server tests).
    """

    def __init__(self, app, root: str, hold: bool):
        self.app, self.root, self.hold = app, root, hold
        self.startup_error: dict | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            try:
                return await self.app(scope, receive, send)
            except BaseException as error:
                if self.startup_error is None:
                    self.startup_error = describe(error, self.root, "startup")
                raise
        if scope["type"] != "http" or not self.hold:
            return await self.app(scope, receive, send)
        held: list[dict] = []
        state = {"size": 0, "passing": False}

        async def keep(message):
            if state["passing"]:
                return await send(message)
            held.append(message)
            state["size"] += len(message.get("body", b"") or b"")
            if state["size"] > HOLD_BYTES:
                state["passing"] = True
                for each in held:
                    await send(each)
                held.clear()

        try:
            await self.app(scope, receive, keep)
        except Exception as error:  # noqa: BLE001 - what TestClient would raise in the test
            traceback.print_exc()  # the load's log, as uvicorn would print it
            if state["passing"]:
                raise
            report = describe(error, self.root, "request")
            encoded = base64.b64encode(json.dumps(report, default=as_text).encode())
            if len(encoded) > REPORT_BYTES:
                report["frames"] = report.get("frames", [])[-5:]
                report["message"] = as_text(report.get("message", ""), 300)
                report.pop("names", None)
                report["problems"] = report.get("problems", [])[:3]
                report["chain"] = [[kind, as_text(text, 300)] for kind, text in report.get("chain", [])[:2]]
                encoded = base64.b64encode(json.dumps(report, default=as_text).encode())[:REPORT_BYTES]
            starts = [m for m in held if m.get("type") == "http.response.start"]
            if not starts:
                held[:] = [
                    {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]},
                    {"type": "http.response.body", "body": b"Internal Server Error"},
                ]
                starts = held[:1]
            start = starts[0]
            start["headers"] = [*start.get("headers", []), (RAISED_HEADER, encoded)]
        self._note_routing(scope, held)
        for each in held:
            await send(each)

    def _note_routing(self, scope, held: list[dict]) -> None:
        """A 404 or 405 says whether a route took it (and if none did, which routes the app has)."""
        start = next((m for m in held if m.get("type") == "http.response.start"), None)
        if start is None or start.get("status") not in (404, 405):
            return
        route = scope.get("route")
        template = getattr(route, "path", None) if route is not None else None
        data = {"route": template, "routes": routes_of(self.app) if template is None else []}
        encoded = base64.b64encode(json.dumps(data, default=as_text).encode())[:REPORT_BYTES]
        start["headers"] = [*start.get("headers", []), (ROUTING_HEADER, encoded)]
