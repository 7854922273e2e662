"""Lesson 07: registering queues a welcome message, written after the answer as one file in EMAIL_OUTBOX."""

from workbook.sandbox_files import nested_files
from workbook.testing import register, show


def test_registering_writes_one_welcome_message_per_user_into_EMAIL_OUTBOX(client, outbox, wait_for_messages, routes):
    addresses = ["ada@example.com", "bob@example.com"]
    for address in addresses:
        r = register(client, routes, address, "a long enough password")
        assert r.status_code == 201, f"POST {routes.users} should register {address} with 201 Created, got {show(r)}."
    found = wait_for_messages(outbox, addresses)
    nested = nested_files(outbox)  # the app's folder: read without following links
    where = (
        "In the register route, take background_tasks: BackgroundTasks and add_task() a function that writes the "
        "message to a new file directly in settings.email_outbox (a unique name, such as a uuid4, for each message)."
    )
    for address in addresses:
        mine = [name for name, text in found.items() if address in text.lower()]
        assert mine, (
            f"After registering {address}, EMAIL_OUTBOX ({outbox}) should hold a file whose content names {address}; "
            f"it holds {sorted(found) or 'no files'}"
            + (f" (and, in subfolders, {nested})" if nested else "")
            + f". {where}"
        )
    shared = [name for name, text in found.items() if all(address in text.lower() for address in addresses)]
    assert not shared, (
        f"Each welcome message should be a file of its own, but {shared[0]} holds the messages to both {addresses[0]} "
        f"and {addresses[1]}. {where}"
    )
