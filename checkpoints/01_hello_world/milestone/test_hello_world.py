"""Milestone 01: a FastAPI app in app/main.py that says hello and reports its health."""

from html.parser import HTMLParser

from workbook.advice import advise
from workbook.testing import show


def test_root_says_hello_world(client):
    r = client.get("/")
    assert r.status_code == 200, (
        f'GET / should answer 200 OK, got {show(r)}. Decorate a function with @app.get("/") in app/main.py.'
    )
    assert r.json() == {"message": "Hello World"}, (
        f'GET / should answer {{"message": "Hello World"}}, got {show(r)}. '
        'Check the dictionary the function for "/" returns: the key is message, the text is exactly Hello World.'
    )


def test_health_says_ok(client):
    r = client.get("/health")
    assert r.status_code == 200, (
        f'GET /health should answer 200 OK, got {show(r)}. Add a route with @app.get("/health") in app/main.py.'
    )
    assert r.json() == {"status": "ok"}, (
        f'GET /health should answer {{"status": "ok"}}, got {show(r)}. '
        "Check the dictionary the /health function returns."
    )


def test_openapi_schema_lists_both_routes(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200, (
        f"GET /openapi.json should answer 200 with the OpenAPI schema, got {show(r)}. "
        "FastAPI serves it by itself: did you pass openapi_url=None when creating the app?"
    )
    paths = r.json().get("paths", {})
    for path in ("/", "/health"):
        assert "get" in paths.get(path, {}), (
            f"/openapi.json should list GET {path}; it lists {sorted(paths) or 'no paths'}. "
            "Routes declared with @app.get(...) appear there by themselves: did you pass include_in_schema=False?"
        )


def test_docs_page_serves_html(client):
    r = client.get("/docs")
    assert r.status_code == 200, (
        f"GET /docs should answer 200 with the interactive docs page, got {show(r)}. "
        "FastAPI serves it by itself: did you pass docs_url=None when creating the app?"
    )
    assert r.headers.get("content-type", "").startswith("text/html"), (
        f"GET /docs should answer an HTML page, got content-type {r.headers.get('content-type')!r}."
    )
    remote = remote_assets(r.text)
    if remote:
        advise(
            f"/docs loads its page from the internet ({remote[0]}), so it shows blank offline. "
            "In app/main.py, create the app with fastapi_offline.FastAPIOffline instead of FastAPI: "
            "it serves the docs' scripts and styles itself."
        )


class _Assets(HTMLParser):
    """The scripts and stylesheets a page loads."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"])
        elif tag == "link" and "stylesheet" in (found.get("rel") or "").lower().split() and found.get("href"):
            self.urls.append(found["href"])


def remote_assets(html: str) -> list[str]:
    """The scripts and stylesheets of a page that come from another site (http:// or https://, or //host)."""
    parser = _Assets()
    parser.feed(html)
    return [url for url in parser.urls if url.lower().startswith(("http://", "https://", "//"))]
