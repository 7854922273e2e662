"""What routes ask FastAPI for: a session, the bearer token, and the user it names."""

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.core.security import read_access_token
from app.database import get_session
from app.models import User

# A route that declares `session: SessionDep` gets its own session for that request.
SessionDep = Annotated[Session, Depends(get_session)]

# Reads "Authorization: Bearer <token>"; without one it answers 401 itself.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")

TokenDep = Annotated[str, Depends(oauth2_scheme)]


def get_current_user(token: TokenDep, session: SessionDep) -> User:
    """The user the bearer token names, or 401."""
    unauthorized = HTTPException(
        status_code=401,
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
