"""Task rules and storage: plain functions over a session, with no HTTP in sight."""

from collections.abc import Sequence

from sqlmodel import Session, select

from app.core.errors import NotFoundError
from app.models import Task, TaskCreate, TaskPriority, TaskStatus, TaskUpdate


def list_tasks(
    *,
    session: Session,
    offset: int,
    limit: int,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
) -> Sequence[Task]:
    """One page of tasks in id order, filtered by the values given."""
    query = select(Task)
    if status is not None:
        query = query.where(Task.status == status)
    if priority is not None:
        query = query.where(Task.priority == priority)
    return session.exec(query.order_by(Task.id).offset(offset).limit(limit)).all()


def get_task(*, session: Session, task_id: int) -> Task:
    """The task with this id, or NotFoundError."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError("Task not found")
    return task


def create_task(*, session: Session, task_in: TaskCreate) -> Task:
    """Store a new task and return it with its id."""
    task = Task.model_validate(task_in)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def update_task(*, session: Session, task_id: int, task_in: TaskUpdate) -> Task:
    """Apply the fields that were sent, and only those."""
    task = get_task(session=session, task_id=task_id)
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def delete_task(*, session: Session, task_id: int) -> None:
    """Delete the task with this id, or raise NotFoundError."""
    session.delete(get_task(session=session, task_id=task_id))
    session.commit()
