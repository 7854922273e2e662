"""The lesson 04 suite runs in the order of the lesson: settings, then the routes under /api/v1, then errors."""

from pathlib import Path

from workbook.testing import in_lesson_order

ORDER = ["test_structure.py", "test_settings.py", "test_routes.py", "test_errors.py"]


def pytest_collection_modifyitems(items):
    """A blank lesson's first failure is about its first exercise."""
    in_lesson_order(items, Path(__file__).parent, ORDER)
