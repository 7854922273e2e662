"""One app grows: the 05 (users, tokens, ownership) and 07 (hardening) suites, run on PostgreSQL against this app,
each fresh database migrated with `alembic upgrade head` first."""

import pytest


def describe(result) -> str:
    if result.load_error:
        return f"the app could not load: {result.load_error}"
    failed = "\n".join(
        f"- {failure.test}: {failure.message.splitlines()[0] if failure.message else ''}"
        for failure in result.failures[:5]
    )
    return f"{result.passed} of {result.total} checks passed:\n{failed}"


@pytest.mark.parametrize("slug", ["05_auth", "07_production_hardening"])
def test_the_earlier_suite_passes_on_postgresql(earlier_suite, slug):
    result = earlier_suite(slug)
    assert result.exit_code == 0 and result.total > 0, (
        f"On PostgreSQL, the lesson {slug[:2]} suite ({slug}) fails against this app: {describe(result)}\n"
        f"Run it yourself: pytest checkpoints/{slug} -p workbook.postgres --postgres --app-dir YOUR_FOLDER"
    )
