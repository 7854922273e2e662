"""Password hashing and access tokens: the app's only cryptography, in one place."""

from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from app.config import settings

ALGORITHM = "HS256"

password_hasher = PasswordHasher(
    time_cost=settings.argon2_time_cost,
    memory_cost=settings.argon2_memory_cost,
    parallelism=settings.argon2_parallelism,
)


def hash_password(password: str) -> str:
    """An Argon2id hash of the password, with its own random salt."""
    return password_hasher.hash(password)


def verify_password(password: str, hashed: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return password_hasher.verify(hashed, password)
    except VerificationError:
        return False


def create_access_token(subject: str) -> str:
    """A signed JWT naming the user, valid for ACCESS_TOKEN_EXPIRE_MINUTES."""
    expires = datetime.now(UTC) + timedelta(minutes=settings.access_token_expire_minutes)
    return jwt.encode({"sub": subject, "exp": expires}, settings.secret_key, algorithm=ALGORITHM)


def read_access_token(token: str) -> str | None:
    """The token's subject, or None when the token is forged, expired or malformed."""
    try:
        payload = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
    except jwt.InvalidTokenError:
        return None
    return payload["sub"]
