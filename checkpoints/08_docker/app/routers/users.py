"""HTTP for users: registering, and reading who the token belongs to."""

from fastapi import APIRouter, BackgroundTasks

from app.dependencies import CurrentUser, SessionDep
from app.models import UserCreate, UserPublic
from app.services import users as service
from app.services.email import send_welcome_email

router = APIRouter(prefix="/users", tags=["users"])


# A plain `def`: FastAPI runs it in a thread pool, so slow hashing never blocks the event loop.
@router.post("", response_model=UserPublic, status_code=201)
def register(user: UserCreate, session: SessionDep, background_tasks: BackgroundTasks):
    """Register a user, and send them a welcome message once the answer is on its way."""
    created = service.create_user(session=session, data=user)
    background_tasks.add_task(send_welcome_email, created.email, created.full_name)
    return created


@router.get("/me", response_model=UserPublic)
def read_me(current_user: CurrentUser):
    """Read the user the token belongs to."""
    return current_user
