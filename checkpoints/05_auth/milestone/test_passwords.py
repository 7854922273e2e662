"""Lesson 05: the database keeps an Argon2id hash of each password, never the password."""

import argon2

from workbook.testing import database_values


def test_the_stored_password_is_an_argon2id_hash_and_the_plain_password_is_nowhere(people, grading_env):
    ada, bob = people  # registered through the app: this test's database holds their rows
    url = grading_env["DATABASE_URL"]
    values = [
        (table, column, value.decode(errors="replace") if isinstance(value, bytes) else value)
        for table, column, value in database_values(url)
    ]
    assert values, (
        f"The database at DATABASE_URL ({url}) holds nothing after two registrations. "
        "Read DATABASE_URL in your settings and commit the new user."
    )
    for table, column, value in values:
        for person in (ada, bob):
            assert person.password not in str(value), (
                f"The plain password is stored in {table}.{column}. Store only password_hasher.hash(password)."
            )
    hashes = [(table, column, str(value)) for table, column, value in values if str(value).startswith("$argon2")]
    stored = [(table, column, str(value)) for table, column, value in values if column and "password" in column.lower()]
    assert hashes, (
        "No Argon2 hash in the database after two registrations"
        + (f" ({stored[0][0]}.{stored[0][1]} holds {stored[0][2][:20]!r}...)" if stored else "")
        + ". Hash the password with argon2's PasswordHasher().hash(password) and store that."
    )
    argon2id = [hashed for _table, _column, hashed in hashes if hashed.startswith("$argon2id$")]
    table, column, hashed = hashes[0]
    assert argon2id, (
        f"The stored password in {table}.{column} is an Argon2 hash but not Argon2id (it starts with {hashed[:9]!r}). "
        "Use argon2.PasswordHasher, whose type is Argon2id."
    )
    assert any(verifies(hashed, ada.password) for hashed in argon2id), (
        f"No Argon2id hash in {table}.{column} verifies against the password Ada registered with. "
        "Hash exactly the password the user sent."
    )


def verifies(hashed: str, password: str) -> bool:
    try:
        return argon2.PasswordHasher().verify(hashed, password)
    except argon2.exceptions.VerificationError:
        return False
