"""The CurrentUser dependency: from a bearer token to a user, or 401."""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer

from app.core.security import read_access_token
from app.database import SessionDep
from app.models import User

# Reads "Authorization: Bearer <token>"; without one it answers 401 itself.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")

TokenDep = Annotated[str, Depends(oauth2_scheme)]


def get_current_user(token: TokenDep, session: SessionDep) -> User:
    """The user the bearer token names, or 401."""
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    subject = read_access_token(token)
    if subject is None or not subject.isdigit():
        raise unauthorized
    user = session.get(User, int(subject))
    if user is None:  # a valid token of a deleted user
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
