"""Rate limits with the `limits` library: a budget of login attempts per client address."""

import math
import time

from fastapi import HTTPException, Request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import settings

# memory:// counts in this process only, so each server process has its own budget; lesson 08
# points RATE_LIMIT_STORAGE_URI at Redis, which every process shares.
limiter = MovingWindowRateLimiter(storage_from_string(settings.rate_limit_storage_uri))
login_limit = parse(settings.login_rate_limit)


def limit_logins(request: Request) -> None:
    """Count a login attempt from the client's address; past LOGIN_RATE_LIMIT, answer 429."""
    address = request.client.host if request.client else "unknown"
    if limiter.hit(login_limit, "login", address):
        return
    reset_at, _remaining = limiter.get_window_stats(login_limit, "login", address)
    raise HTTPException(
        status_code=429,
        detail="Too many login attempts. Try again later.",
        headers={"Retry-After": str(max(1, math.ceil(reset_at - time.time())))},
    )
