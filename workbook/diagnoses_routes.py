"""The diagnoses' rules for a request no route took: the route is served under another prefix (or none), is
missing, or exists without that method; and `unrouted`, which finds that request.

Each rule is a function from Evidence to a sentence (the cause, then the fix) or None; workbook.diagnoses
lists them all, in the order they are tried.
"""

from __future__ import annotations

import re

from workbook.evidence import Evidence, Exchange

_TEMPLATE_PART = re.compile(r"\{[^}]+\}")


def _matches(template: str, path: str) -> bool:
    pattern = "".join(
        "[^/]+" if _TEMPLATE_PART.fullmatch(part) else re.escape(part) for part in re.split(r"(\{[^}]+\})", template)
    )
    return re.fullmatch(pattern, path) is not None


def unrouted(evidence: Evidence) -> Exchange | None:
    """The first request no route took (a 404 for its path, a 405 for its method), unless the test made its path
    up to be unknown (it holds "no-such")."""
    for exchange in evidence.exchanges:
        if "no-such" in exchange.path:
            continue
        if (exchange.status == 404 and exchange.route is None) or exchange.status == 405:
            return exchange
    return None


def route_under_another_prefix(evidence: Evidence) -> str | None:
    """A request no route took, whose path the app does serve under another prefix (or none)."""
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 404:
        return None
    parts = exchange.path.rstrip("/").split("/")
    for shown in exchange.routes:
        method, _, template = shown.partition(" ")
        if method != exchange.method:
            continue
        for cut in range(2, len(parts)):  # a longer request path: the app lacks the prefix
            if _matches(template, "/".join(["", *parts[cut:]])):
                prefix = "/".join(parts[:cut])
                return (
                    f"No route answers {exchange.method} {exchange.path}, but the app has {method} {template}: its "
                    f"routes are not under {prefix}. Include the router with "
                    f'`app.include_router(router, prefix="{prefix}")`.'
                )
        template_parts = template.rstrip("/").split("/")
        for cut in range(2, len(template_parts)):  # a longer route: the app has a prefix the contract does not
            if _matches("/".join(["", *template_parts[cut:]]), exchange.path):
                prefix = "/".join(template_parts[:cut])
                return (
                    f"No route answers {exchange.method} {exchange.path}, but the app has {method} {template}: "
                    f"{prefix} should not be part of this path."
                )
    return None


def route_missing(evidence: Evidence) -> str | None:
    """A request no route took, and the app has nothing like it: name what it has."""
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 404 or not exchange.routes:
        return None
    has = ", ".join(exchange.routes[:8]) + (" ..." if len(exchange.routes) > 8 else "")
    return (
        f"No route answers {exchange.method} {exchange.path}: the app's routes are {has}. Add that route, or "
        "include the router that has it (`app.include_router(...)`, with the prefix the lesson gives)."
    )


def route_without_method(evidence: Evidence) -> str | None:
    exchange = unrouted(evidence)
    if exchange is None or exchange.status != 405:
        return None
    return (
        f"{exchange.path} exists, but not for {exchange.method} (405 Method Not Allowed): add a route with "
        f"`@router.{exchange.method.lower()}(...)` for that path, or check its decorator's method."
    )
