"""Lesson 05: access tokens are HS256 JWTs signed with SECRET_KEY, and forged ones are turned away.

Each attack alters a token the app itself issued, and is paired with a control: the same claims,
signed properly, must be accepted. So a test fails only when the app accepts the forgery, never
because it wants claims of its own.
"""

import ast
import base64
import json
import secrets
import time
import warnings

import jwt

from workbook.advice import advise
from workbook.loader import grading_settings
from workbook.testing import bearer, show

DECODE_WITH_THE_KEY = (
    "Decode with jwt.decode(token, SECRET_KEY, algorithms=['HS256']) and turn jwt.InvalidTokenError into 401."
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resign(claims: dict, key: str) -> str:
    return jwt.encode(claims, key, algorithm="HS256")


def keep_signature(token: str, claims: dict) -> str:
    """The app's token with its payload swapped and its signature left as it was."""
    header, _payload, signature = token.split(".")
    return f"{header}.{b64url(json.dumps(claims).encode())}.{signature}"


def unsigned(claims: dict) -> str:
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


def naming_bob(name: str, value, ada, bob):
    """A claim of Ada's token rewritten to name Bob: her id or email becomes his, the rest stays."""
    if value == ada.email:
        return bob.email
    if value == str(ada.user["id"]) and name not in ("exp", "iat", "nbf"):
        return str(bob.user["id"])
    if type(value) is int and value == ada.user["id"] and (name == "sub" or "id" in name or "user" in name):
        return bob.user["id"]
    return value


def assert_accepted(client, routes, token: str, what: str) -> dict:
    """The control: a request with this token gets through. Returns GET /users/me's answer."""
    me = client.get(routes.me, headers=bearer(token))
    tasks = client.get(routes.tasks, headers=bearer(token))
    for r, url in ((me, routes.me), (tasks, routes.tasks)):
        assert r.status_code == 200, (
            f"{what} should be accepted, but GET {url} answered {show(r)}. "
            "A token holding the claims your app issued, signed with SECRET_KEY using HS256, is valid: "
            "check that you decode with SECRET_KEY and algorithms=['HS256'] and look the user up from `sub`."
        )
    return me.json()


def assert_refused(client, routes, token: str, what: str, where: str, assert_turned_away) -> None:
    for url in (routes.tasks, routes.me):
        assert_turned_away(client.get(url, headers=bearer(token)), f"GET {url} with {what}", where)


def test_the_token_is_an_hs256_jwt_signed_with_SECRET_KEY(
    people, reader, grading_env, routes, app_dir, load_app, make_client
):
    advise_on_a_short_default_key(people, app_dir, load_app, make_client, routes)
    ada = people.ada
    header = jwt.get_unverified_header(ada.token)
    assert header.get("alg") == "HS256", (
        f"The token's header says alg {header.get('alg')!r}; sign it with algorithm='HS256'."
    )
    try:
        claims = jwt.decode(ada.token, grading_env["SECRET_KEY"], algorithms=["HS256"])
    except jwt.InvalidSignatureError:
        raise AssertionError(
            "The token's signature does not verify with SECRET_KEY. Sign it with the SECRET_KEY setting "
            "(read from the environment), not a key written in the code."
        ) from None
    except jwt.PyJWTError as error:
        raise AssertionError(
            f"The token does not decode with SECRET_KEY and HS256: {error}. Give it an `exp` claim in the future."
        ) from None
    assert isinstance(claims.get("exp"), int | float), (
        f"The token should carry an `exp` claim (its expiry time), got the claims {claims}."
    )
    # The control every attack below relies on: the app's own claims, signed again, still work.
    me = assert_accepted(
        reader,
        routes,
        resign(ada.claims, grading_env["SECRET_KEY"]),
        "The issued token's claims re-signed with SECRET_KEY",
    )
    assert me == ada.user, f"GET {routes.me} should answer the logged-in user {ada.user}, got {me}."


def test_ACCESS_TOKEN_EXPIRE_MINUTES_sets_the_token_lifetime(people, token_minutes):
    ada = people.ada  # she logged in while the app ran with ACCESS_TOKEN_EXPIRE_MINUTES=token_minutes
    before, after = ada.logged_in  # when her login was sent, and when it answered
    exp = ada.claims.get("exp")
    assert isinstance(exp, int | float), (
        f"The token should carry an `exp` claim (its expiry time), got the claims {ada.claims}."
    )
    lifetime, expected = exp - before, token_minutes * 60
    assert expected - 5 <= lifetime <= expected + (after - before) + 5, (
        f"With ACCESS_TOKEN_EXPIRE_MINUTES={token_minutes} the token should expire {token_minutes} minutes ({expected} s) "
        f"after login, but exp is {lifetime:.0f} s away. Read the setting from the environment and set exp to "
        "datetime.now(timezone.utc) + timedelta(minutes=settings.access_token_expire_minutes)."
    )


def test_an_expired_token_is_rejected(people, reader, grading_env, assert_turned_away, routes):
    ada = people.ada
    key = grading_env["SECRET_KEY"]
    assert_accepted(reader, routes, resign(ada.claims, key), "The issued token's claims re-signed with SECRET_KEY")
    now = int(time.time())
    expired = {**ada.claims, "exp": now - 600}
    for claim in ("iat", "nbf"):
        if claim in expired:
            expired[claim] = now - 1200
    assert_refused(
        reader,
        routes,
        resign(expired, key),
        "a token that expired 10 minutes ago (signed with SECRET_KEY)",
        "jwt.decode checks `exp` by itself: do not turn verify_exp off, and let ExpiredSignatureError become 401.",
        assert_turned_away,
    )


def test_a_tampered_token_is_rejected(people, reader, grading_env, assert_turned_away, routes):
    """Ada edits her token's payload to become Bob, or to live longer, without the key to sign it."""
    ada, bob = people
    key = grading_env["SECRET_KEY"]
    as_bob = {name: naming_bob(name, value, ada, bob) for name, value in ada.claims.items()}
    if as_bob != ada.claims:
        me = assert_accepted(
            reader, routes, resign(as_bob, key), "Ada's claims, changed to name Bob and re-signed with SECRET_KEY"
        )
        assert me["id"] == bob.user["id"], (
            f"A token naming Bob (signed with SECRET_KEY) should make GET {routes.me} answer Bob, got {me}."
        )
        assert_refused(
            reader,
            routes,
            keep_signature(ada.token, as_bob),
            "Ada's token edited to name Bob (not re-signed)",
            DECODE_WITH_THE_KEY + " Never read the payload without verifying the signature.",
            assert_turned_away,
        )
    longer = {**ada.claims, "exp": ada.claims.get("exp", int(time.time())) + 3600}
    assert_accepted(reader, routes, resign(longer, key), "Ada's token with a later exp, re-signed with SECRET_KEY")
    assert_refused(
        reader,
        routes,
        keep_signature(ada.token, longer),
        "Ada's token edited to expire later (not re-signed)",
        DECODE_WITH_THE_KEY + " Never read the payload without verifying the signature.",
        assert_turned_away,
    )


def test_an_alg_none_token_is_rejected(people, reader, grading_env, assert_turned_away, routes):
    ada = people.ada
    assert_accepted(
        reader,
        routes,
        resign(ada.claims, grading_env["SECRET_KEY"]),
        "The issued token's claims re-signed with SECRET_KEY",
    )
    assert_refused(
        reader,
        routes,
        unsigned(ada.claims),
        'the same claims under the header {"alg": "none"} and no signature',
        "Pin the algorithm: jwt.decode(token, SECRET_KEY, algorithms=['HS256']).",
        assert_turned_away,
    )
    header, payload, _signature = ada.token.split(".")
    assert_refused(
        reader,
        routes,
        f"{header}.{payload}.",
        "the token with its signature cut off",
        DECODE_WITH_THE_KEY,
        assert_turned_away,
    )


def test_a_token_signed_with_another_key_is_rejected(people, reader, grading_env, assert_turned_away, routes):
    ada = people.ada
    assert_accepted(
        reader,
        routes,
        resign(ada.claims, grading_env["SECRET_KEY"]),
        "The issued token's claims re-signed with SECRET_KEY",
    )
    assert_refused(
        reader,
        routes,
        resign(ada.claims, secrets.token_hex(32)),
        "the same claims signed with another key",
        DECODE_WITH_THE_KEY,
        assert_turned_away,
    )


def test_the_token_of_a_user_who_does_not_exist_is_rejected(
    people, reader, make_client, load_app, workdir, assert_turned_away, routes
):
    """A valid signature is not enough: the user named in the token must still exist."""
    ada = people.ada
    assert_accepted(reader, routes, ada.token, "Ada's token")
    nobody = grading_settings(workdir / "nobody-registered")["DATABASE_URL"]  # a fresh database (migrated, from 08)
    empty = make_client(load_app(DATABASE_URL=nobody))  # same SECRET_KEY
    assert_refused(
        empty,
        routes,
        ada.token,
        "a correctly signed token of a user the database does not hold",
        "After decoding, load the user named by `sub`; when there is none, raise 401.",
        assert_turned_away,
    )


def test_a_new_SECRET_KEY_makes_old_tokens_invalid(people, reader, make_client, load_app, assert_turned_away, routes):
    ada = people.ada
    assert_accepted(reader, routes, ada.token, "Ada's token, while the app runs with the SECRET_KEY that signed it,")
    rotated = make_client(load_app(SECRET_KEY=secrets.token_hex(32)))  # same database, another key
    assert_refused(
        rotated,
        routes,
        ada.token,
        "a token signed before SECRET_KEY changed",
        "Read SECRET_KEY from the environment (your Settings) when the app starts; do not write a key in the code.",
        assert_turned_away,
    )


DEFAULT_KEY_CHARACTERS = 32  # what lesson 05 asks of the settings' development-only default
MOST_CANDIDATES = 20


def short_strings(config_file) -> list[str]:
    """The string constants of the app's settings module shorter than DEFAULT_KEY_CHARACTERS: each may be the
    default SECRET_KEY. The grader reads the file as text; only the app accepting a token says which one is."""
    try:
        tree = ast.parse(config_file.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return list(dict.fromkeys(each for each in found if len(each) < DEFAULT_KEY_CHARACTERS))[:MOST_CANDIDATES]


def advise_on_a_short_default_key(people, app_dir, load_app, make_client, routes) -> None:
    """Advice only, never a failure: with no SECRET_KEY set, is the settings' default key short? (Part of the
    test above, not a test of its own: the lesson's count of checks stays what its notebook shows.)"""
    candidates = short_strings(app_dir / "app" / "config.py")
    if not candidates:
        return  # no short string in the settings, so no short default (the reference's case: no app load)
    client = make_client(load_app(SECRET_KEY=None))
    for key in candidates:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyJWT warns about short HMAC keys: that is the point here
            token = resign(people.ada.claims, key)
        if client.get(routes.me, headers=bearer(token)).status_code == 200:
            advise(
                f"With no SECRET_KEY set, your app signs tokens with its default key, which has only {len(key)} "
                f"characters. In app/config.py, give secret_key a development-only default of "
                f"{DEFAULT_KEY_CHARACTERS}+ characters (and set your own SECRET_KEY in .env)."
            )
            return
