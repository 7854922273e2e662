"""HTTP for tasks: paths, parameters, status codes; the work is done in services."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.database import MAX_SQL_INT
from app.dependencies import CurrentUser, SessionDep
from app.models import TaskCreate, TaskPriority, TaskPublic, TaskStatus, TaskUpdate
from app.services import tasks as service

router = APIRouter(prefix="/tasks", tags=["tasks"])

TaskId = Annotated[int, Path(description="The task's id", ge=1, le=MAX_SQL_INT)]
# Documents the 404 in /docs for the routes that can answer it
NOT_FOUND = {404: {"description": "Task not found"}}


@router.post("", response_model=TaskPublic, status_code=201)
def create_task(task_in: TaskCreate, session: SessionDep, current_user: CurrentUser):
    """Create a task for the current user."""
    return service.create_task(session=session, owner=current_user, task_in=task_in)


@router.get("", response_model=list[TaskPublic])
def list_tasks(
    session: SessionDep,
    current_user: CurrentUser,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
):
    """List the current user's tasks, oldest first, a page at a time, optionally filtered."""
    return service.list_tasks(
        session=session, owner=current_user, offset=offset, limit=limit, status=status, priority=priority
    )


@router.get("/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def read_task(task_id: TaskId, session: SessionDep, current_user: CurrentUser):
    """Read one of the current user's tasks."""
    return service.get_task(session=session, owner=current_user, task_id=task_id)


@router.patch("/{task_id}", response_model=TaskPublic, responses=NOT_FOUND)
def update_task(task_id: TaskId, task_in: TaskUpdate, session: SessionDep, current_user: CurrentUser):
    """Change only the fields sent."""
    return service.update_task(session=session, owner=current_user, task_id=task_id, task_in=task_in)


@router.delete("/{task_id}", status_code=204, responses=NOT_FOUND)
def delete_task(task_id: TaskId, session: SessionDep, current_user: CurrentUser) -> None:
    """Delete one of the current user's tasks."""
    service.delete_task(session=session, owner=current_user, task_id=task_id)
