"""Security headers: what every response tells the browser about protecting its user."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",  # run a file only as the type it was sent as
    "X-Frame-Options": "DENY",  # no page may show this one in a frame (clickjacking)
    "Referrer-Policy": "strict-origin-when-cross-origin",  # other sites learn where a click came from, not the path
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",  # come back over HTTPS only, for a year
}


class SecurityHeadersMiddleware:
    """Add SECURITY_HEADERS to every response, whoever made it: a route, an error handler, CORS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
