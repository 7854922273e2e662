"""HTTP for users: registering, and reading who the token belongs to."""

from fastapi import APIRouter

from app.dependencies import CurrentUser, SessionDep
from app.models import UserCreate, UserPublic
from app.services import users as service

router = APIRouter(prefix="/users", tags=["users"])


# A plain `def`: FastAPI runs it in a thread pool, so slow hashing never blocks the event loop.
@router.post("", response_model=UserPublic, status_code=201)
def register(user: UserCreate, session: SessionDep):
    """Register a user."""
    return service.create_user(session=session, data=user)


@router.get("/me", response_model=UserPublic)
def read_me(current_user: CurrentUser):
    """Read the user the token belongs to."""
    return current_user
