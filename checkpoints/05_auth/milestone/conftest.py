"""The lesson 05 suite's order. Its fixtures (people, reader, assert_turned_away, ...) are the plugin's:
workbook/auth_fixtures.py, where Ada and Bob are signed up once and each test gets a copy of their database, and
workbook/unauthorized.py (the 401 checks) and workbook/hash_timing.py (one_hash_seconds)."""

from pathlib import Path

from workbook.testing import in_lesson_order

ORDER = ["test_users.py", "test_tokens.py", "test_tasks.py", "test_passwords.py", "test_event_loop.py"]


def pytest_collection_modifyitems(items):
    """Run this suite in the order of the lesson, the slow real-server test last."""
    in_lesson_order(items, Path(__file__).parent, ORDER)
