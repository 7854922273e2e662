"""Lesson 07: logins past LOGIN_RATE_LIMIT answer 429 Too Many Requests, with Retry-After.

A password guesser sends failed logins, so failed logins count. The answer says when to try again:
Retry-After in seconds, or as an HTTP date.
"""

import email.utils

from workbook.testing import login, show

LIMIT = 2


def retry_after_problem(value: str | None) -> str | None:
    """None when value is a number of seconds or an HTTP date, else what is wrong with it."""
    if value is None:
        return "it has no Retry-After header"
    text = value.strip()
    if text.isdigit():
        return None
    try:
        email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return f"its Retry-After is {value!r}, neither a number of seconds nor an HTTP date"
    return None


def test_failed_logins_past_LOGIN_RATE_LIMIT_answer_429_with_Retry_After(load_app, make_client, routes):
    client = make_client(load_app(LOGIN_RATE_LIMIT=f"{LIMIT}/minute"))
    attempts = [login(client, routes, "guesser@example.com", f"guess number {n}") for n in range(1, LIMIT + 1)]
    early = [f"attempt {n}: {show(r)}" for n, r in enumerate(attempts, 1) if r.status_code not in (400, 401)]
    assert not early, (
        f"With LOGIN_RATE_LIMIT={LIMIT}/minute, the first {LIMIT} failed logins at POST {routes.token} should "
        "each answer "
        "400 or 401 (a wrong password), but got\n- " + "\n- ".join(early) + "\nCount attempts per minute; refuse only "
        "those past the limit. Read the limit from the LOGIN_RATE_LIMIT setting."
    )
    past = login(client, routes, "guesser@example.com", "one guess too many")
    assert past.status_code == 429, (
        f"With LOGIN_RATE_LIMIT={LIMIT}/minute, failed login number {LIMIT + 1} within a minute should answer "
        f"429 Too Many Requests, got {show(past)}. Count every attempt, failed ones included (they are what a "
        "password guesser sends): check the limit in a dependency of the login route, before the password is checked."
    )
    problem = retry_after_problem(past.headers.get("retry-after"))
    assert problem is None, (
        f"The 429 should say when to try again, but {problem} (got {show(past)}, headers {dict(past.headers)}). "
        "Raise HTTPException(429, ..., headers={'Retry-After': str(seconds)}), the seconds until the window resets."
    )
