"""User rules and storage: registering and authenticating, with no HTTP in sight."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core.errors import ConflictError
from app.core.security import hash_password, verify_password
from app.models import User, UserCreate


def normalized(email: str) -> str:
    """Emails are stored and looked up in lower case: Ada@Example.com and ada@example.com are one person."""
    return email.strip().lower()


def get_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalized(email))).first()


def create_user(*, session: Session, data: UserCreate) -> User:
    if get_user_by_email(session=session, email=data.email) is not None:
        raise ConflictError("Email already registered")
    user = User.model_validate(data, update={"hashed_password": hash_password(data.password)})
    user.email = normalized(user.email)
    session.add(user)
    try:
        session.commit()
    except IntegrityError:  # a registration of the same email that came in at the same moment won
        session.rollback()
        raise ConflictError("Email already registered") from None
    session.refresh(user)
    return user


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    """The user with this email and password, or None: the caller cannot tell which was wrong."""
    user = get_user_by_email(session=session, email=email)
    if user is None:
        hash_password(password)  # spend the same time as a real check, so timing reveals nothing
        return None
    if not verify_password(password, user.hashed_password):
        return None
    return user
