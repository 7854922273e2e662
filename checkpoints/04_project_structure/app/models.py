"""What a task is: the table that stores it and the schemas the API speaks."""

from datetime import date
from enum import StrEnum

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


# What a client sends: no id, the app assigns it
class TaskCreate(TaskBase):
    pass


# What the API returns
class TaskPublic(TaskBase):
    id: int


# What PATCH accepts: any field may be left out (its default None is never validated, and
# exclude_unset leaves it out), but title, status and priority are typed without None, so
# sending them as null is a 422; only description and due_date may be cleared with null.
class TaskUpdate(SQLModel):
    title: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: TaskStatus = None
    priority: TaskPriority = None
    due_date: date | None = None
