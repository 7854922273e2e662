"""Schema-driven fuzzing of the 03 and 04 reference apps: no input makes them answer 500,
and every answer matches the OpenAPI schema they publish.

Each app is imported from a temporary copy of its checkpoint with DATABASE_URL pointing at a
temporary file, one app at a time (the loader forgets it after each test), and its lifespan
runs once so its tables exist. Schemathesis then calls every operation in process.
"""

import json
import tempfile
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from workbook import loader
from workbook.lessons import find_lesson

SLUGS = ("03_database", "04_project_structure")
EXAMPLES = 25
# Starlette's 405 lists only the methods of the first route whose path matched, not every method
# the path documents; that is the framework's behaviour, not the app's, so this check is left out.
IGNORED_CHECKS = [schemathesis.checks.allow_header_conformance]
tally = {slug: {"cases": 0, "seconds": 0.0} for slug in SLUGS}


@pytest.fixture(scope="module", autouse=True)
def report_the_tally():
    """With -s, say how many cases each app saw and how long their calls took."""
    yield
    for slug, counts in tally.items():
        print(f"\nfuzz {slug}: {counts['cases']} cases, {counts['seconds']:.1f} s in calls")


def reference_app(slug: str, scratch: Path):
    """The checkpoint's app, imported from a copy in scratch, its database a file there, tables made."""
    return loader.reference_app(
        find_lesson(slug).checkpoint, scratch, {"DATABASE_URL": f"sqlite:///{scratch / 'fuzz.db'}"}
    )


def published_schema(slug: str):
    """Read the app's OpenAPI document once, at collection, so each operation is its own test."""
    with tempfile.TemporaryDirectory() as scratch, reference_app(slug, Path(scratch)) as app:
        return schemathesis.openapi.from_dict(app.openapi())


schema_03 = published_schema("03_database")
schema_04 = published_schema("04_project_structure")


limits = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def app_03(tmp_path):
    with reference_app("03_database", tmp_path) as app:
        yield app


@pytest.fixture
def app_04(tmp_path):
    with reference_app("04_project_structure", tmp_path) as app:
        yield app


def call(slug: str, case, app) -> None:
    started = time.perf_counter()
    try:
        response = case.call(app=app)
        if response.status_code == 400 and not valid_json(case.body):
            # Starlette answers 400 to a body that is not JSON at all, before the app sees it.
            assert "detail" in response.json(), f"A 400 should still say what went wrong: {response.text}"
        elif timestamp_date(case.body):
            # Pydantic's lax mode reads a number as a Unix timestamp for a date; the schema says a
            # string, so schemathesis expects 422. That coercion is Pydantic's documented choice.
            checks = [*IGNORED_CHECKS, schemathesis.checks.negative_data_rejection]
            case.validate_response(response, excluded_checks=checks)
        else:
            case.validate_response(response, excluded_checks=IGNORED_CHECKS)
    finally:
        tally[slug]["cases"] += 1
        tally[slug]["seconds"] += time.perf_counter() - started


def timestamp_date(body) -> bool:
    due = body.get("due_date") if isinstance(body, dict) else None
    return isinstance(due, int | float) and not isinstance(due, bool)


def valid_json(body) -> bool:
    if not isinstance(body, bytes | str):
        return True
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


@schema_03.parametrize()
@limits
def test_fuzz_03_database(case, app_03):
    call("03_database", case, app_03)


@schema_04.parametrize()
@limits
def test_fuzz_04_project_structure(case, app_04):
    call("04_project_structure", case, app_04)
