import os
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query
from fastapi_offline import FastAPIOffline
from sqlmodel import Field, Session, SQLModel, create_engine, select

# FastAPIOffline serves /docs from files installed with it; plain FastAPI loads them from a CDN.
app = FastAPIOffline(title="Task Tracker")


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


DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///tasks.db")
# SQLite connections belong to one thread; FastAPI may serve a request from another.
connect_args = {"check_same_thread": False} if DATABASE_URL.startswith("sqlite") else {}
engine = create_engine(DATABASE_URL, connect_args=connect_args)
SQLModel.metadata.create_all(engine)


def get_session():
    with Session(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

# SQLite stores integers in 64 bits: refuse bigger numbers here, before they crash a query
MAX_SQL_INT = 2**63 - 1
TaskId = Annotated[int, Path(description="The task's id", ge=1, le=MAX_SQL_INT)]
# Documents the 404 in /docs for the routes that can answer it
NOT_FOUND = {404: {"description": "Task not found"}}


@app.get("/")
def read_root():
    """Greet the caller."""
    return {"message": "Hello World"}


@app.get("/health")
def health():
    """Tell a monitor the app is up."""
    return {"status": "ok"}


@app.post("/tasks", response_model=TaskPublic, status_code=201)
def create_task(task_in: TaskCreate, session: SessionDep):
    """Create a task."""
    task = Task.model_validate(task_in)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@app.get("/tasks", response_model=list[TaskPublic])
def list_tasks(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
):
    """List the tasks, oldest first, a page at a time, optionally filtered."""
    query = select(Task)
    if status is not None:
        query = query.where(Task.status == status)
    if priority is not None:
        query = query.where(Task.priority == priority)
    return session.exec(query.order_by(Task.id).offset(offset).limit(limit)).all()


@app.get("/tasks/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def read_task(task_id: TaskId, session: SessionDep):
    """Read one task."""
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="Task not found")
    return task


# What PATCH accepts: any field may be left out; only description and due_date may be null
class TaskUpdate(SQLModel):
    title: str = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: TaskStatus = None
    priority: TaskPriority = None
    due_date: date | None = None


@app.patch("/tasks/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep):
    """Change only the fields sent."""
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="Task not found")
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@app.delete("/tasks/{task_id}", status_code=204, responses=NOT_FOUND)
def delete_task(task_id: TaskId, session: SessionDep) -> None:
    """Delete a task."""
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="Task not found")
    session.delete(task)
    session.commit()
