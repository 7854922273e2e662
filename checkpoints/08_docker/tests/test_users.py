"""Registering and logging in."""

import pytest

USERS = "/api/v1/users"
TOKEN = "/api/v1/auth/token"


def test_registering_answers_201_with_the_public_user(client):
    r = client.post(USERS, json={"email": "ada@example.com", "password": "a long enough password", "full_name": "Ada"})
    assert r.status_code == 201, r.text
    user = r.json()
    assert set(user) == {"id", "email", "full_name"}, user
    assert (user["email"], user["full_name"]) == ("ada@example.com", "Ada")


def test_an_email_already_registered_answers_409(client, ada_headers):
    r = client.post(USERS, json={"email": "ada@example.com", "password": "another long password"})
    assert r.status_code == 409, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": "a long enough password"},
        {"email": "ada@example.com", "password": "7 chars"},
        {"email": "ada@example.com", "password": "x" * 129},
        {"email": "ada@example.com"},
    ],
    ids=["bad email", "short password", "long password", "no password"],
)
def test_an_invalid_registration_answers_422(client, body):
    assert client.post(USERS, json=body).status_code == 422


def test_users_me_answers_the_user_the_token_belongs_to(client, ada_headers):
    r = client.get(f"{USERS}/me", headers=ada_headers)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "ada@example.com"


def test_a_wrong_password_gets_no_token(client, ada_headers):
    r = client.post(TOKEN, data={"username": "ada@example.com", "password": "not her password"})
    assert r.status_code in (400, 401), r.text
    assert "access_token" not in r.json()


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client, ada_headers):
    wrong = client.post(TOKEN, data={"username": "ada@example.com", "password": "not her password"})
    unknown = client.post(TOKEN, data={"username": "eve@example.com", "password": "not her password"})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
