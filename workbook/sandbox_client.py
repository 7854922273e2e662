"""The client of an app in the sandbox: an httpx client on the load's Unix socket, used as Starlette's TestClient is.

A request the app does not answer within its time limit fails (RequestTimedOut); so does a response larger than
RESPONSE_BYTES; an exception the app raised while answering comes back as data (the `x-workbook-raised` header,
see workbook/sandbox_report.py) and is raised here as AppRaised. Requests carry no mark of a test client: a common
user agent, the host a development server has.
"""

from __future__ import annotations

import base64
import json
import time

import httpx

from workbook.loader import RequestTimedOut
from workbook.sandbox_errors import (
    RAISED_HEADER,
    RESPONSE_BYTES,
    ROUTING_HEADER,
    AppRaised,
    AppStopped,
    ResponseTooLarge,
)

USER_AGENT = "curl/8.5.0"
BASE_URL = "http://localhost:8000"


class _BoundedStream(httpx.SyncByteStream):
    """A response body read within the request's deadline and RESPONSE_BYTES."""

    def __init__(self, stream, deadline: float, what: str):
        self.stream, self.deadline, self.what = stream, deadline, what

    def __iter__(self):
        size = 0
        for chunk in self.stream:
            size += len(chunk)
            if size > RESPONSE_BYTES:
                raise ResponseTooLarge(
                    f"{self.what} answered more than {RESPONSE_BYTES // 2**20} MB; the check reads no more. "
                    "Look for a response that grows without bound."
                )
            if time.monotonic() > self.deadline:
                raise httpx.ReadTimeout("the response did not end in time")
            yield chunk

    def close(self) -> None:
        self.stream.close()


class _LoadTransport(httpx.BaseTransport):
    """An HTTP transport to a load's Unix socket, found (and the load started) at the first request."""

    def __init__(self, connect, time_limit: float):
        self.connect, self.time_limit = connect, time_limit
        self.inner: httpx.HTTPTransport | None = None

    def connected(self) -> None:
        """Find the load's socket (starting the load) now, if no request has yet."""
        if self.inner is None:
            self.inner = httpx.HTTPTransport(uds=str(self.connect()), verify=False, trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.connected()
        deadline = time.monotonic() + self.time_limit
        response = self.inner.handle_request(request)
        what = f"{request.method} {request.url.path}"
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, deadline, what),
            extensions=response.extensions,
            request=request,
        )

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()


class AppClient(httpx.Client):
    """A client of the app in the sandbox, used as Starlette's TestClient is: client.get(url), .post(url, json=...).

    With raise_server_exceptions (the default), an exception the app raised while answering is raised here, as
    AppRaised; without, the test sees the 500. A request the app does not answer within time_limit raises
    RequestTimedOut; a connection the app drops, AppStopped.
    """

    def __init__(
        self, connect, *, raise_server_exceptions=True, time_limit=15.0, on_timeout=None, load=None, on_start=None
    ):
        self.raise_server_exceptions = raise_server_exceptions
        self.time_limit = time_limit
        self.on_timeout = on_timeout
        self.load = load
        self._on_start = on_start
        self.exchanges: list = []  # an evidence.Exchange for each request: what a failure's diagnosis reads
        super().__init__(
            transport=_LoadTransport(connect, time_limit),
            base_url=BASE_URL,
            headers={"user-agent": USER_AGENT},
            follow_redirects=True,
            timeout=httpx.Timeout(time_limit),
            trust_env=False,
        )

    def connect_now(self):
        """Start the app now (a lazy client starts it at its first request); its AppLoad."""
        self._transport.connected()
        return self.load

    def build_request(self, *args, **kwargs) -> httpx.Request:
        if self._on_start is not None:  # before this request takes the client's headers (a sign-in sets one)
            start, self._on_start = self._on_start, None
            start(self)
        return super().build_request(*args, **kwargs)

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        what = f"{request.method} {request.url.path}"
        try:
            response = super().send(request, **kwargs)
        except httpx.TimeoutException:
            stuck = self.load.stacks() if self.load is not None else []  # where it waits, before it is ended
            self._note(request, None, stuck=stuck)
            if self.on_timeout is not None:
                self.on_timeout()
            raise RequestTimedOut(
                f"{what} did not answer within {self.time_limit:g} s. "
                "Look for an endless loop or a blocking wait in the route that handles it "
                "(in an `async def` route, time.sleep or other blocking calls stop the whole server)."
            ) from None
        except httpx.TransportError as error:
            how = self.load.stopped_how() if self.load is not None else "the app dropped the connection"
            if self.load is not None and self.load.host is not None and self.load.number not in self.load.host.ending:
                self.load.host.incidents.add("out of memory" if "memory" in how else "crashed")
            raise AppStopped(f"{what} got no answer: {how} ({type(error).__name__}).") from None
        routing = response.headers.get(ROUTING_HEADER)
        if routing is not None:
            del response.headers[ROUTING_HEADER]
        raised = response.headers.get(RAISED_HEADER)
        report = None
        if raised is not None:
            del response.headers[RAISED_HEADER]
            report = _decode(raised)
            if report.get("out_of_memory") and self.load is not None and self.load.host is not None:
                self.load.host.incidents.add("out of memory")  # the run's verdict says so, if tests fail
        exchange = self._note(request, response.status_code, report, _decode(routing) if routing else None)
        if report is not None and self.raise_server_exceptions:
            error = AppRaised(report, what)
            error.exchange = exchange
            raise error
        return response

    def _note(self, request: httpx.Request, status, report: dict | None = None, routing=None, stuck=()):
        """Record one request (evidence.Exchange); the last 200 are kept."""
        from workbook.evidence import exchange_of

        exchange = exchange_of(request.method, request.url.path, status, report, routing, stuck)
        self.exchanges.append(exchange)
        del self.exchanges[:-200]
        return exchange


def _decode(header: str) -> dict:
    try:
        report = json.loads(base64.b64decode(header[:8000], validate=False))
    except ValueError:
        report = None
    if isinstance(report, dict):
        return report
    return {"kind": "error", "type": "Exception", "message": "(the app's error could not be read)"}
