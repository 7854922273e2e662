"""User rules and storage: registering and authenticating, with no HTTP in sight."""

from sqlmodel import Session, select

from app.core.errors import ConflictError
from app.core.security import hash_password, verify_password
from app.models import User, UserCreate


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def create_user(session: Session, data: UserCreate) -> User:
    if get_user_by_email(session, data.email) is not None:
        raise ConflictError("Email already registered")
    user = User.model_validate(data, update={"hashed_password": hash_password(data.password)})
    session.add(user)
    session.commit()
    session.refresh(user)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None: the caller cannot tell which was wrong."""
    user = get_user_by_email(session, email)
    if user is None:
        hash_password(password)  # spend the same time as a real check, so timing reveals nothing
        return None
    if not verify_password(password, user.hashed_password):
        return None
    return user
