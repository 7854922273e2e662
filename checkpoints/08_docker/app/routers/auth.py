"""HTTP for logging in: the OAuth2 password flow."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.security import OAuth2PasswordRequestForm

from app.core.rate_limit import limit_logins
from app.core.security import create_access_token
from app.dependencies import SessionDep
from app.models import Token
from app.services import users as service

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token, dependencies=[Depends(limit_logins)])
def log_in(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep):
    """Trade an email (as `username`) and a password for an access token."""
    user = service.authenticate(session=session, email=form.username, password=form.password)
    if user is None:
        # One answer for an unknown email and a wrong password: it reveals no accounts.
        raise HTTPException(status_code=400, detail="Incorrect email or password")
    return Token(access_token=create_access_token(str(user.id)))
