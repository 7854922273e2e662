"""Lesson 08 ships the app: beside app/, a Dockerfile, a compose file, alembic.ini and a lock."""


def test_the_submission_ships_a_dockerfile_a_compose_file_alembic_and_a_lock(shipped):
    assert not shipped.missing, (
        f"Beside app/, lesson 08 adds the files that ship it, and {', '.join(shipped.missing)} "
        f"{'is' if len(shipped.missing) == 1 else 'are'} missing: a Dockerfile, compose.yaml (or compose.yml, "
        "docker-compose.yaml, docker-compose.yml), alembic.ini with its migrations/, and uv.lock (or a requirements "
        "file with every package pinned with ==)."
    )
