"""Outgoing mail. Here each message is a file in EMAIL_OUTBOX; a real app hands it to a mail server."""

from datetime import UTC, datetime
from email.message import EmailMessage
from uuid import uuid4

from app.config import settings


def send_welcome_email(address: str, full_name: str | None) -> None:
    """Write a welcome message to a new user: one .eml file in the outbox."""
    message = EmailMessage()
    message["From"] = "Task Tracker <no-reply@tasks.example.com>"
    message["To"] = address
    message["Subject"] = "Welcome to Task Tracker"
    message.set_content(f"Hello {full_name or address},\n\nyour account is ready: log in and add your first task.\n")
    settings.email_outbox.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid4().hex[:8]}.eml"  # unique, and in the order sent
    (settings.email_outbox / name).write_text(message.as_string(), encoding="utf-8")
