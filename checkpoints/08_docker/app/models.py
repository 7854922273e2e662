"""What a task and a user are: the tables that store them and the schemas the API speaks."""

from datetime import date
from enum import StrEnum

from pydantic import EmailStr
from sqlalchemy import true
from sqlmodel import Field, SQLModel


class TaskStatus(StrEnum):
    todo = "todo"
    doing = "doing"
    done = "done"


class TaskPriority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


# Fields shared by create and read
class TaskBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: TaskStatus = TaskStatus.todo
    priority: TaskPriority = TaskPriority.medium
    due_date: date | None = None


# The table: one row per task, the database assigns the id
class Task(TaskBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)


# What a client sends: no id, and no owner_id either: the owner is whoever sends the token
class TaskCreate(TaskBase):
    pass


# What the API returns
class TaskPublic(TaskBase):
    id: int
    owner_id: int


# What PATCH accepts: any field may be left out (its default None is never validated, and
# exclude_unset leaves it out), but title, status and priority are typed without None, so
# sending them as null is a 422; only description and due_date may be cleared with null.
class TaskUpdate(SQLModel):
    title: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: TaskStatus = None
    priority: TaskPriority = None
    due_date: date | None = None


# Fields shared by every user schema
class UserBase(SQLModel):
    email: EmailStr = Field(unique=True, index=True, max_length=255)
    full_name: str | None = Field(default=None, max_length=255)


# The table: one row per user; the hash is stored, never the password
class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    hashed_password: str
    # Added by the second migration: existing rows get the server default, true.
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


# What a client sends to register
class UserCreate(UserBase):
    password: str = Field(min_length=8, max_length=128)


# What the API returns: nothing derived from the password
class UserPublic(UserBase):
    id: int


# What a login answers: the shape OAuth2 clients (and /docs' Authorize button) expect
class Token(SQLModel):
    access_token: str
    token_type: str = "bearer"
