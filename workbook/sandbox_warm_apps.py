"""Inside the sandbox: the two sample apps the zygote runs once before it forks (workbook.sandbox_warm_up), as
source code. WARM_UP uses what the curriculum's apps use (SQLModel, settings, OAuth2, e-mail addresses, CORS);
WARM_UP_WEB only FastAPI and pydantic, for an app that imports no more. Plain strings: nothing runs here.
"""

WARM_UP = """
from datetime import date, datetime, timezone
from enum import Enum
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, EmailStr, Field as Limits, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlmodel import Field, Session, SQLModel, create_engine, select


class Level(str, Enum):
    low = "low"
    high = "high"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", env_prefix="WORKBOOK_WARM_UP_")
    database_url: str = "sqlite://"
    secret_key: SecretStr = SecretStr("x")
    minutes: int = 30

    @model_validator(mode="after")
    def checked(self):
        return self


class Owner(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True)


class ThingBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    level: Level = Level.low
    due: date | None = None


class Thing(ThingBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int | None = Field(default=None, foreign_key="owner.id", index=True)


class ThingPublic(ThingBase):
    id: int
    owner_id: int | None = None


class ThingUpdate(SQLModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    level: Level | None = None


class UserIn(BaseModel):
    email: EmailStr
    password: str = Limits(min_length=8, max_length=128)
    full_name: str | None = None
    state: Literal["todo", "done"] = "todo"

    @field_validator("full_name")
    @classmethod
    def trimmed(cls, value):
        return value


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


engine = create_engine("sqlite://", connect_args={"check_same_thread": False})
SQLModel.metadata.create_all(engine)
scheme = OAuth2PasswordBearer(tokenUrl="/token")


def get_session():
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
router = APIRouter(tags=["things"])


@router.get("/things", response_model=list[ThingPublic])
async def listing(session: SessionDep, offset: int = Query(0, ge=0), limit: Annotated[int, Query(le=100)] = 100,
                  level: Level | None = None):
    query = select(Thing).where(Thing.level == Level.low).order_by(Thing.id).offset(offset).limit(limit)
    return session.exec(query).all()


async def nothing():
    pass


@router.post("/things", response_model=ThingPublic, status_code=status.HTTP_201_CREATED)
async def create(thing: ThingBase, session: SessionDep, tasks: BackgroundTasks):
    stored = Thing.model_validate(thing)
    session.add(stored)
    session.commit()
    session.refresh(stored)
    tasks.add_task(nothing)
    return stored


@router.patch("/things/{thing_id}", response_model=ThingPublic)
async def change(thing_id: int, update: ThingUpdate, session: SessionDep):
    stored = session.get(Thing, thing_id)
    if stored is None:
        raise HTTPException(status_code=404, detail="Not found")
    stored.sqlmodel_update(update.model_dump(exclude_unset=True))
    session.add(stored)
    session.commit()
    session.refresh(stored)
    return stored


@router.post("/token", response_model=Token)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    return Token(access_token=form.username)


@router.post("/users", status_code=201)
async def register(user: UserIn, request: Request, token: Annotated[str | None, Depends(scheme)] = None):
    return {"email": user.email, "at": datetime.now(timezone.utc).isoformat()}


app = FastAPI(title="warm up")
app.add_middleware(CORSMiddleware, allow_origins=["http://localhost"], allow_methods=["*"], allow_headers=["*"])


@app.middleware("http")
async def headers(request, call_next):
    response = await call_next(request)
    response.headers["X-Frame-Options"] = "DENY"
    return response


@app.exception_handler(HTTPException)
async def handled(request, error):
    return JSONResponse(status_code=error.status_code, content={"detail": error.detail})


app.include_router(router, prefix="/api/v1")
Settings()
"""


WARM_UP_WEB = """
from datetime import date
from enum import Enum
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Query, status
from pydantic import BaseModel, Field


class Level(str, Enum):
    low = "low"
    high = "high"


class ThingIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    level: Level = Level.low
    state: Literal["todo", "done"] = "todo"
    due: date | None = None


class ThingOut(ThingIn):
    id: int


things: dict[int, ThingOut] = {}
router = APIRouter()


async def nothing():
    pass


@router.post("/things", response_model=ThingOut, status_code=status.HTTP_201_CREATED)
async def create(thing: ThingIn, tasks: BackgroundTasks):
    stored = ThingOut(id=len(things) + 1, **thing.model_dump())
    things[stored.id] = stored
    tasks.add_task(nothing)
    return stored


@router.get("/things", response_model=list[ThingOut])
async def listing(offset: int = Query(0, ge=0), limit: Annotated[int, Query(le=100)] = 100):
    return list(things.values())[offset : offset + limit]


@router.patch("/things/{thing_id}", response_model=ThingOut)
async def change(thing_id: int, thing: ThingIn):
    if thing_id not in things:
        raise HTTPException(status_code=404, detail="Not found")
    return things[thing_id]


@router.post("/users", status_code=201)
async def register(thing: ThingIn):
    return thing


@router.post("/token")
async def token(thing: ThingIn):
    return thing


app = FastAPI(title="warm up")
app.include_router(router, prefix="/api/v1")
"""
