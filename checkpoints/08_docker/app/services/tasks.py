"""Task rules and storage: plain functions over a session, with no HTTP in sight."""

from collections.abc import Sequence

from sqlmodel import Session, select

from app.core.errors import NotFoundError
from app.models import Task, TaskCreate, TaskPriority, TaskStatus, TaskUpdate, User


def list_tasks(
    *,
    session: Session,
    owner: User,
    offset: int,
    limit: int,
    status: TaskStatus | None = None,
    priority: TaskPriority | None = None,
) -> Sequence[Task]:
    """One page of the owner's tasks in id order, filtered by the values given."""
    query = select(Task).where(Task.owner_id == owner.id)
    if status is not None:
        query = query.where(Task.status == status)
    if priority is not None:
        query = query.where(Task.priority == priority)
    return session.exec(query.order_by(Task.id).offset(offset).limit(limit)).all()


def get_task(*, session: Session, owner: User, task_id: int) -> Task:
    """The owner's task with this id, or NotFoundError."""
    task = session.get(Task, task_id)
    # Someone else's task answers exactly like a missing one: its existence is not revealed.
    if task is None or task.owner_id != owner.id:
        raise NotFoundError("Task not found")
    return task


def create_task(*, session: Session, owner: User, task_in: TaskCreate) -> Task:
    """Store a new task for the owner and return it with its id."""
    task = Task.model_validate(task_in, update={"owner_id": owner.id})
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def update_task(*, session: Session, owner: User, task_id: int, task_in: TaskUpdate) -> Task:
    """Apply the fields that were sent, and only those, to one of the owner's tasks."""
    task = get_task(session=session, owner=owner, task_id=task_id)
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


def delete_task(*, session: Session, owner: User, task_id: int) -> None:
    """Delete the owner's task with this id, or raise NotFoundError."""
    session.delete(get_task(session=session, owner=owner, task_id=task_id))
    session.commit()
