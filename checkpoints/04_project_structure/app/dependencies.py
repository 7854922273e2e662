"""What routes ask FastAPI for: each HTTP dependency, named once."""

from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from app.database import get_session

# A route that declares `session: SessionDep` gets its own session for that request.
SessionDep = Annotated[Session, Depends(get_session)]
