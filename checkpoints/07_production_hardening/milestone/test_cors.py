"""Lesson 07: browsers may call the API from the origins in CORS_ORIGINS, and from no other.

Before a page on another origin may call the API, the browser asks first: a preflight, an OPTIONS
request saying where the page comes from. Only an Access-Control-Allow-Origin naming that origin
lets the page go on.
"""

EVIL = "https://evil.example.net"


def preflight(client, url: str, origin: str):
    return client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})


def test_a_preflight_from_an_origin_in_CORS_ORIGINS_is_allowed_and_from_another_is_not(
    client, routes, allowed_origins, grading_env
):
    listed = grading_env["CORS_ORIGINS"]
    for origin in allowed_origins:
        r = preflight(client, routes.tasks, origin)
        allowed = r.headers.get("access-control-allow-origin")
        assert allowed == origin, (
            f"With CORS_ORIGINS={listed!r}, a preflight (OPTIONS {routes.tasks} with Origin: {origin}) should answer "
            f"Access-Control-Allow-Origin: {origin}, got {allowed!r} ({r.status_code}). Split CORS_ORIGINS on commas, "
            "strip the spaces around each item, and pass the list to CORSMiddleware(allow_origins=...)."
        )
    for origin in (EVIL, f"{allowed_origins[1]}.evil.example.net"):
        r = preflight(client, routes.tasks, origin)
        allowed = r.headers.get("access-control-allow-origin")
        assert allowed not in (origin, "*"), (
            f"With CORS_ORIGINS={listed!r}, a preflight from Origin: {origin} should get no "
            "Access-Control-Allow-Origin "
            f"for it, got {allowed!r}: any page on that site could call the API with the user's browser. "
            "List the allowed origins explicitly; never allow_origins=['*'], least of all with credentials."
        )
