"""Lesson 05: people register, log in with the OAuth2 password flow, and read who they are."""

import hashlib

import pytest

from workbook.testing import bearer, login, register, show

USERS = "/api/v1/users"
ME = "/api/v1/users/me"
TOKEN = "/api/v1/auth/token"
USER_KEYS = {"id", "email", "full_name"}


def derived_from(password: str) -> list[str]:
    """The password and the digests a leaky app might send back instead."""
    return [password] + [getattr(hashlib, name)(password.encode()).hexdigest() for name in ("md5", "sha1", "sha256", "sha512")]


def assert_no_password(r, password: str, what: str) -> None:
    text = r.text
    for leaked in derived_from(password):
        assert leaked not in text, f"{what} sent the password (or a digest of it) back: {show(r)}. Answer with UserPublic."
    assert "$argon2" not in text, f"{what} sent the password hash back: {show(r)}. Set response_model=UserPublic, which has no password field."
    assert "password" not in text.lower(), f"{what} mentions a password field: {show(r)}. UserPublic holds only id, email and full_name."


def test_registering_answers_201_with_the_public_user(client, no_users_route):
    password = "correct horse battery"
    r = register(client, "ada@example.com", password, full_name="Ada Lovelace")
    assert r.status_code != 404, f"POST {USERS} answered {show(r)}.{no_users_route}"
    assert r.status_code == 201, f"POST {USERS} should answer 201 Created, got {show(r)}. Pass status_code=201 to the route decorator."
    user = r.json()
    assert set(user) == USER_KEYS, (
        f"POST {USERS} should answer exactly the keys {sorted(USER_KEYS)}, got {sorted(user)}: {show(r)}. "
        "Set response_model=UserPublic."
    )
    assert isinstance(user["id"], int), f"The new user's id should be an integer the database assigns, got {show(r)}."
    assert (user["email"], user["full_name"]) == ("ada@example.com", "Ada Lovelace"), (
        f"POST {USERS} should echo the email and full_name it was given, got {show(r)}."
    )
    assert_no_password(r, password, f"POST {USERS}")


def test_full_name_is_optional(client):
    r = client.post(USERS, json={"email": "grace@example.com", "password": "a long enough password"})
    assert r.status_code == 201, f"POST {USERS} without a full_name should answer 201 Created, got {show(r)}. Give full_name a default of None."
    assert r.json().get("full_name") is None, f"A user registered without a full_name should have full_name null, got {show(r)}."


def test_an_email_already_registered_answers_409(client):
    first = register(client, "twice@example.com", "first password")
    assert first.status_code == 201, f"POST {USERS} should answer 201 Created, got {show(first)}."
    again = register(client, "twice@example.com", "second password")
    assert again.status_code == 409, (
        f"Registering twice@example.com a second time should answer 409 Conflict, got {show(again)}. "
        "Look the email up before creating the user, and raise HTTPException(409) when it is taken."
    )
    assert isinstance(again.json(), dict) and "detail" in again.json(), f"The 409 should be a JSON object with a `detail` key, got {show(again)}."


@pytest.mark.parametrize(
    ("email", "password", "what"),
    [
        ("not-an-email", "long enough password", "an email without an @"),
        ("someone@", "long enough password", "an email without a domain"),
        ("short@example.com", "7chars!", "a password of 7 characters"),
        ("long@example.com", "x" * 129, "a password of 129 characters"),
        ("nopassword@example.com", None, "no password"),
        (None, "long enough password", "no email"),
    ],
    ids=["email-without-at", "email-without-domain", "password-of-7", "password-of-129", "no-password", "no-email"],
)
def test_an_invalid_registration_answers_422(client, email, password, what):
    body = {key: value for key, value in {"email": email, "password": password}.items() if value is not None}
    r = client.post(USERS, json=body)
    assert r.status_code == 422, (
        f"POST {USERS} with {what} should answer 422, got {show(r)}. "
        "In UserCreate, type email as EmailStr and password as str = Field(min_length=8, max_length=128)."
    )


def test_passwords_of_8_and_128_characters_are_accepted(client):
    for length in (8, 128):
        r = register(client, f"length{length}@example.com", "p" * length)
        assert r.status_code == 201, (
            f"A password of {length} characters is allowed (8 to 128), but POST {USERS} answered {show(r)}. "
            "Check min_length and max_length on the password field."
        )


def test_a_login_answers_a_bearer_token_that_users_me_accepts(client):
    password = "a long enough password"
    registered = register(client, "lin@example.com", password, full_name="Lin")
    assert registered.status_code == 201, f"POST {USERS} should answer 201 Created, got {show(registered)}."
    r = login(client, "lin@example.com", password)
    assert r.status_code == 200, (
        f"POST {TOKEN} with the form fields username=lin@example.com and the right password should answer 200, got {show(r)}. "
        "Take the form with Annotated[OAuth2PasswordRequestForm, Depends()]; the email arrives as `username`."
    )
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("access_token"), str) and body["access_token"], (
        f'POST {TOKEN} should answer {{"access_token": "...", "token_type": "bearer"}}, got {show(r)}.'
    )
    assert str(body.get("token_type", "")).lower() == "bearer", f'The token_type should be "bearer", got {show(r)}.'
    assert_no_password(r, password, f"POST {TOKEN}")
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200, f"GET {ME} with the token from the login should answer 200, got {show(me)}. Add the route, with a CurrentUser parameter."
    assert_no_password(me, password, f"GET {ME}")
    assert me.json() == registered.json(), (
        f"GET {ME} should answer the user that registering gave ({show(registered)}), got {show(me)}. "
        "Return the current user with response_model=UserPublic."
    )


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client):
    """Could an attacker learn which emails are registered from the login answers?"""
    registered = register(client, "known@example.com", "the right password")
    assert registered.status_code == 201, f"POST {USERS} should answer 201 Created, got {show(registered)}."
    wrong = login(client, "known@example.com", "a wrong password")
    unknown = login(client, "nobody@example.com", "the right password")
    for r, what in ((wrong, "a wrong password"), (unknown, "an unknown email")):
        assert r.status_code in (400, 401), f"POST {TOKEN} with {what} should answer 400 or 401, got {show(r)}."
        assert isinstance(r.json(), dict) and "detail" in r.json(), f"A failed login should answer a JSON object with a `detail` key, got {show(r)}."
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()), (
        f"A wrong password answered {show(wrong)} but an unknown email answered {show(unknown)}: "
        "the difference tells an attacker which emails are registered. Answer both with the same error."
    )


def test_users_me_needs_a_token(client, assert_turned_away):
    assert_turned_away(client.get(ME), f"GET {ME} without a token", "Give the route a CurrentUser parameter.")
    assert_turned_away(client.get(ME, headers=bearer("not-a-token")), f"GET {ME} with a garbage token",
                       "Catch jwt.InvalidTokenError when you decode the token, and raise 401.")
