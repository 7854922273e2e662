"""Plugin fixtures that check a request was turned away: a 401 with a `WWW-Authenticate: Bearer` challenge.

Registered by workbook.plugin.
"""

from __future__ import annotations

import pytest

from workbook.testing import show


def turned_away_or_why_not(r, what: str, where: str) -> str | None:
    """None when r is a 401 with a `WWW-Authenticate: Bearer` challenge, else what is wrong with it."""
    if r.status_code != 401:
        return f"{what} should answer 401 Unauthorized, got {show(r)}. {where}"
    challenge = r.headers.get("www-authenticate", "")
    if not challenge.strip().lower().startswith("bearer"):
        return (
            f"{what} answered 401 without the header `WWW-Authenticate: Bearer` (got {challenge or 'none'!r}). "
            "Raise HTTPException(status_code=401, detail=..., headers={'WWW-Authenticate': 'Bearer'})."
        )
    return None


@pytest.fixture
def why_not_turned_away():
    """why_not_turned_away(r, what, where) -> None for a 401 with `WWW-Authenticate: Bearer`, else the problem."""
    return turned_away_or_why_not


@pytest.fixture
def assert_turned_away():
    """assert_turned_away(r, what, where): 401 with a `WWW-Authenticate: Bearer` challenge."""

    def check(r, what: str, where: str) -> None:
        problem = turned_away_or_why_not(r, what, where)
        assert problem is None, problem

    return check
