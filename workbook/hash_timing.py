"""Plugin fixture: how long one Argon2 hash takes on this machine, with the app's own parameters.

Suites that limit how long logins may take (lesson 05 on) measure it in hashes of the app's cost, so that a slow
machine is no excuse and a slow app no loophole. Registered by workbook.plugin.
"""

from __future__ import annotations

import re
import secrets
import time

import pytest

from workbook import sandbox_sqlite
from workbook.auth_fixtures import Seed

# The Argon2 parameters the calibration accepts from a stored hash, at most (an app cannot buy a longer limit).
MOST_ARGON2 = {"m": 256 * 1024, "t": 10, "p": 8}


@pytest.fixture
def one_hash_seconds(seed: Seed, people) -> float:
    """How long this machine takes to compute one Argon2 hash with the parameters found in the hash the app stored
    for Ada (its cost, capped at MOST_ARGON2): the grader's own measure of one login's work, which the app
    cannot stretch by slowing its logins down."""
    if seed.hash_seconds is None:
        seed.hash_seconds = _time_one_hash(_stored_argon2_parameters(seed))
    return seed.hash_seconds


_PARAMETERS = re.compile(r"^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$")


def _stored_argon2_parameters(seed: Seed) -> dict[str, int]:
    from argon2 import PasswordHasher

    from workbook.testing import database_values

    defaults = PasswordHasher()
    found = {"m": defaults.memory_cost, "t": defaults.time_cost, "p": defaults.parallelism}
    if seed.template is not None:
        values = sandbox_sqlite.sqlite_values(seed.template)
    elif seed.template_url is not None:
        values = database_values(seed.template_url)
    else:
        values = []
    for _table, _column, value in values:
        match = _PARAMETERS.match(value.decode(errors="replace") if isinstance(value, bytes) else str(value))
        if match:
            found = {"m": int(match[1]), "t": int(match[2]), "p": int(match[3])}
            break
    return {name: max(1, min(value, MOST_ARGON2[name])) for name, value in found.items()}


def _time_one_hash(parameters: dict[str, int]) -> float:
    from argon2.low_level import Type, hash_secret_raw

    best = float("inf")
    for _attempt in range(3):
        started = time.perf_counter()
        hash_secret_raw(
            secrets.token_bytes(16),
            secrets.token_bytes(16),
            time_cost=parameters["t"],
            memory_cost=max(parameters["m"], 8 * parameters["p"]),
            parallelism=parameters["p"],
            hash_len=32,
            type=Type.ID,
        )
        best = min(best, time.perf_counter() - started)
    return best
