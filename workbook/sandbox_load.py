"""Inside the sandbox: one load, the zygote's fork that imports the learner's app from its working directory,
answers the grader's probes (data about the app, in JSON) and serves the app with uvicorn on the listening
socket the grader bound.

One of the pieces of workbook/sandbox_app.py (the zygote), imported by its bare name in the sandbox child:
standard library only at import time (uvicorn is imported once serving), nothing of workbook.
"""

from __future__ import annotations

import faulthandler
import importlib
import os
import socket
import sys
import threading

from sandbox_evidence import stuck_frames
from sandbox_report import Watched, as_text, describe, receive, send


class Load:
    """This process, once forked: the learner's app, imported from the working directory."""

    def __init__(self, control: socket.socket, listener: socket.socket, request: dict):
        self.control, self.listener, self.request = control, listener, request
        self.root = os.path.realpath(request["workdir"])
        self.module = None
        self.app = None

    def run(self) -> None:
        seconds = float(self.request.get("seconds", 20))
        self.arm(seconds)
        outcome = self.import_app()
        faulthandler.cancel_dump_traceback_later()
        if outcome is not None:
            send(self.control, event="import_failed", outcome=outcome)
            return
        send(self.control, event="imported")
        if self.request.get("serve") is not None:  # served at once: no round trip to the grader in between
            self.serve(bool(self.request["serve"]), seconds)
            return
        while True:
            message, _fds = receive(self.control)
            if message is None:
                return  # the grader has ended this load
            op = message.get("op")
            if op == "probe":
                send(self.control, event="probe", result=self.probe(message.get("name"), message.get("args") or {}))
            elif op == "serve":
                self.serve(bool(message.get("hold", True)), float(message.get("seconds", seconds)))
                return

    @staticmethod
    def arm(seconds: float) -> None:
        """A hang at import or startup prints where it is stuck (into the log) and ends the load."""
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)

    def import_app(self) -> dict | None:
        sys.path[:0] = [self.root]
        importlib.invalidate_caches()
        try:
            self.module = importlib.import_module("app.main")
        except BaseException as error:  # noqa: BLE001 - the learner's import, whatever it raises
            return describe(error, self.root, "import")
        self.app = getattr(self.module, "app", None)
        if self.app is None:
            return {"kind": "no_app"}
        if not callable(self.app):
            return {"kind": "not_asgi", "type": type(self.app).__name__}
        return None

    # --- probes: what a test needs to know about the app object, as data -------------------------------

    def probe(self, name, args: dict):
        try:
            if name == "secret_key_default":
                return {"ok": True, "value": self.secret_key_default()}
            if name == "add_failing_route":
                return self.add_failing_route(str(args["path"]), str(args["message"]))
            return {"ok": False, "error": f"there is no probe {name!r}"}
        except Exception as error:  # noqa: BLE001 - the app made the probe fail: say how
            return {"ok": False, "error": f"{type(error).__name__}: {as_text(error, 300)}"}

    @staticmethod
    def secret_key_default():
        """The SECRET_KEY the settings in app.config fall back to, when they define a fixed one."""
        settings = getattr(sys.modules.get("app.config"), "settings", None)
        fields = getattr(type(settings), "model_fields", {})
        field = fields.get("secret_key") if isinstance(fields, dict) else None
        default = getattr(field, "default", None)
        default = default.get_secret_value() if hasattr(default, "get_secret_value") else default
        return default if isinstance(default, str) and default else None

    def add_failing_route(self, path: str, message: str) -> dict:
        """GET path raises RuntimeError(message), placed before any catch-all route of the app."""
        app = self.app
        if not hasattr(app, "add_api_route"):
            return {"ok": False, "type": type(app).__name__}

        def fail():
            raise RuntimeError(message)

        app.add_api_route(path, fail, methods=["GET"])
        app.router.routes.insert(0, app.router.routes.pop())
        return {"ok": True}

    # --- serving ------------------------------------------------------------------------------------

    def serve(self, hold: bool, seconds: float) -> None:
        import asyncio

        import uvicorn

        served = Watched(self.app, self.root, hold)
        config = uvicorn.Config(
            served, lifespan="on", log_config=None, access_log=False, timeout_keep_alive=600,
            timeout_graceful_shutdown=1, ws="none",
        )  # fmt: skip
        server = uvicorn.Server(config)
        self.arm(seconds)

        async def tell_when_started():
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.002)
            if server.started:
                faulthandler.cancel_dump_traceback_later()
                await _warm_this_process()
                send(self.control, event="serving")
                threading.Thread(target=self.end_with_the_grader, daemon=True).start()

        async def main():
            watcher = asyncio.ensure_future(tell_when_started())
            try:
                await server.serve(sockets=[self.listener])
            finally:
                watcher.cancel()

        try:
            _run(main, config)
        except BaseException as error:  # noqa: BLE001 - SystemExit when the startup failed; anything else
            if not server.started:
                faulthandler.cancel_dump_traceback_later()
                outcome = served.startup_error or describe(error, self.root, "startup")
                send(self.control, event="startup_failed", outcome=outcome)
                return
            raise
        if not server.started:
            faulthandler.cancel_dump_traceback_later()
            send(self.control, event="startup_failed", outcome=served.startup_error or {"kind": "stopped"})

    def end_with_the_grader(self) -> None:
        """The grader closing the control socket ends the load (the zygote ends it anyway); meanwhile it may ask
        where the threads wait (a request that did not answer in time: what the diagnoses read)."""
        while True:
            message, _fds = receive(self.control)
            if message is None:
                os._exit(0)
            if message.get("op") == "stacks":
                send(self.control, event="stacks", frames=stuck_frames(self.root))


async def _warm_this_process() -> None:
    """What a first request would pay in this new process, paid before it is said to serve: the thread that
    runs sync routes (anyio's worker), started the way Starlette starts it. Nothing of the app's runs here."""
    try:
        import anyio.to_thread

        await anyio.to_thread.run_sync(int)
    except Exception:  # noqa: BLE001 - another anyio: the first request pays
        pass


def _run(main, config) -> None:
    """main() on the event loop uvicorn would pick (uvloop when it is installed), as Server.run does."""
    try:
        from uvicorn._compat import asyncio_run
    except ImportError:  # another uvicorn: the standard loop
        import asyncio

        asyncio.run(main())
        return
    asyncio_run(main(), loop_factory=config.get_loop_factory())
