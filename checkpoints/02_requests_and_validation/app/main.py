from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import HTTPException, Path
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field

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
class TaskBase(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: TaskStatus = TaskStatus.todo
    priority: TaskPriority = TaskPriority.medium
    due_date: date | None = None


# What a client sends: no id, the app assigns it
class TaskCreate(TaskBase):
    pass


# What the API returns
class TaskPublic(TaskBase):
    id: int


# In memory for now: the tasks vanish when the app restarts (lesson 03 adds a database).
tasks: dict[int, TaskPublic] = {}

TaskId = Annotated[int, Path(description="The task's id")]


@app.get("/")
def read_root():
    """Greet the caller."""
    return {"message": "Hello World"}


@app.get("/health")
def health():
    """Tell a monitor the app is up."""
    return {"status": "ok"}


@app.post("/tasks", response_model=TaskPublic, status_code=201)
def create_task(task_in: TaskCreate):
    """Create a task."""
    task = TaskPublic(id=len(tasks) + 1, **task_in.model_dump())
    tasks[task.id] = task
    return task


@app.get("/tasks", response_model=list[TaskPublic])
def list_tasks():
    """List the tasks, oldest first."""
    return sorted(tasks.values(), key=lambda task: task.id)


@app.get("/tasks/{task_id}", response_model=TaskPublic)
def read_task(task_id: TaskId):
    """Read one task."""
    task = tasks.get(task_id)
    if task is None:
        raise HTTPException(status_code=404, detail="Task not found")
    return task
