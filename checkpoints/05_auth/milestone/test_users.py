"""Lesson 05: people register, log in with the OAuth2 password flow, and read who they are."""

import hashlib

from workbook.testing import bearer, login, register, show

USER_KEYS = {"id", "email", "full_name"}


def derived_from(password: str) -> list[str]:
    """The password and the digests a leaky app might send back instead."""
    return [password] + [
        getattr(hashlib, name)(password.encode()).hexdigest() for name in ("md5", "sha1", "sha256", "sha512")
    ]


def assert_no_password(r, password: str, what: str) -> None:
    text = r.text
    for leaked in derived_from(password):
        assert leaked not in text, (
            f"{what} sent the password (or a digest of it) back: {show(r)}. Answer with UserPublic."
        )
    assert "$argon2" not in text, (
        f"{what} sent the password hash back: {show(r)}. Set response_model=UserPublic, which has no password field."
    )
    assert "password" not in text.lower(), (
        f"{what} mentions a password field: {show(r)}. UserPublic holds only id, email and full_name."
    )


def test_registering_answers_201_with_the_public_user(people, routes):
    ada = people.ada  # the suite registered her once, through your app, for every test
    r = ada.registration
    assert r.status_code == 201, (
        f"POST {routes.users} should answer 201 Created, got {show(r)}. Pass status_code=201 to the route decorator."
    )
    user = r.json()
    assert set(user) == USER_KEYS, (
        f"POST {routes.users} should answer exactly the keys {sorted(USER_KEYS)}, got {sorted(user)}: {show(r)}. "
        "Set response_model=UserPublic."
    )
    assert isinstance(user["id"], int), f"The new user's id should be an integer the database assigns, got {show(r)}."
    assert (user["email"], user["full_name"]) == (ada.email, "Ada"), (
        f"POST {routes.users} with the email {ada.email} and the full_name 'Ada' should echo both, got {show(r)}."
    )
    assert_no_password(r, ada.password, f"POST {routes.users}")


def test_full_name_is_optional_and_passwords_of_8_to_128_characters_are_accepted(people, routes):
    # The suite registered Ada with a password of 128 characters, and Bob with one of 8 and no full_name.
    for person, what in (
        (people.ada, "a password of 128 characters"),
        (people.bob, "a password of 8 characters and no full_name"),
    ):
        r = person.first_try
        if isinstance(r, Exception):  # the app crashed on this registration: here is how
            raise r
        assert r.status_code in (200, 201), (  # 200 instead of 201 is the test above's to report
            f"POST {routes.users} with {what} should answer 201 Created, got {show(r)}. "
            "Give full_name a default of None, and allow passwords of 8 to 128 characters (min_length, max_length)."
        )
    r = people.bob.first_try
    assert r.json().get("full_name") is None, (
        f"A user registered without a full_name should have full_name null, got {show(r)}."
    )


def test_an_email_already_registered_answers_409(people, client, routes):
    again = register(client, routes, people.ada.email, "another password")
    assert again.status_code == 409, (
        f"Registering {people.ada.email}, already registered, should answer 409 Conflict, got {show(again)}. "
        "Look the email up before creating the user, and raise HTTPException(409) when it is taken."
    )
    assert isinstance(again.json(), dict) and "detail" in again.json(), (
        f"The 409 should be a JSON object with a `detail` key, got {show(again)}."
    )


INVALID_REGISTRATIONS = [
    ({"email": "not-an-email", "password": "long enough password"}, "an email without an @"),
    ({"email": "someone@", "password": "long enough password"}, "an email without a domain"),
    ({"email": "short@example.com", "password": "7chars!"}, "a password of 7 characters"),
    ({"email": "long@example.com", "password": "x" * 129}, "a password of 129 characters"),
    ({"email": "nopassword@example.com"}, "no password"),
    ({"password": "long enough password"}, "no email"),
]


def test_an_invalid_registration_answers_422(reader, routes):
    answers = [(what, reader.post(routes.users, json=body)) for body, what in INVALID_REGISTRATIONS]
    wrong = [f"with {what}: {show(r)}" for what, r in answers if r.status_code != 422]
    assert not wrong, (
        f"POST {routes.users} should answer 422 to each invalid body, but answered\n- " + "\n- ".join(wrong) + "\n"
        "In UserCreate, type email as EmailStr and password as str = Field(min_length=8, max_length=128)."
    )


def test_a_login_answers_a_bearer_token_that_users_me_accepts(people, reader, routes):
    ada = people.ada  # the suite registered her and logged her in once, for every test
    r = ada.login
    body = r.json()
    assert str(body.get("token_type", "")).lower() == "bearer", f'The token_type should be "bearer", got {show(r)}.'
    assert_no_password(r, ada.password, f"POST {routes.token}")
    me = reader.get(routes.me, headers=bearer(body["access_token"]))
    assert me.status_code == 200, (
        f"GET {routes.me} with the token from the login should answer 200, got {show(me)}. Add the route, with a CurrentUser parameter."
    )
    assert_no_password(me, ada.password, f"GET {routes.me}")
    assert me.json() == ada.user, (
        f"GET {routes.me} should answer the user that registering gave ({ada.user}), got {show(me)}. "
        "Return the current user with response_model=UserPublic."
    )


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(people, reader, routes):
    """Could an attacker learn which emails are registered from the login answers?"""
    ada = people.ada
    wrong = login(reader, routes, ada.email, "a wrong password")
    unknown = login(reader, routes, "nobody@example.com", ada.password)
    for r, what in ((wrong, "a wrong password"), (unknown, "an unknown email")):
        assert r.status_code in (400, 401), f"POST {routes.token} with {what} should answer 400 or 401, got {show(r)}."
        assert isinstance(r.json(), dict) and "detail" in r.json(), (
            f"A failed login should answer a JSON object with a `detail` key, got {show(r)}."
        )
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()), (
        f"A wrong password answered {show(wrong)} but an unknown email answered {show(unknown)}: "
        "the difference tells an attacker which emails are registered. Answer both with the same error."
    )


def test_users_me_needs_a_token(reader, assert_turned_away, routes):
    assert_turned_away(
        reader.get(routes.me), f"GET {routes.me} without a token", "Give the route a CurrentUser parameter."
    )
    assert_turned_away(
        reader.get(routes.me, headers=bearer("not-a-token")),
        f"GET {routes.me} with a garbage token",
        "Catch jwt.InvalidTokenError when you decode the token, and raise 401.",
    )
