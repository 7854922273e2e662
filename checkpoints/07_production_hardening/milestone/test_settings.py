"""Lesson 07: in production the app refuses to start with a SECRET_KEY anyone could know.

A missing key found at the first login means a server that ran for hours signing tokens with a
key printed in a tutorial. Checked when the settings load, the mistake stops the deploy instead.
"""

from workbook.sandbox_apps import AppFailed

REFUSE = (
    "In app/config.py, add a validator to Settings (@model_validator(mode='after')) that raises "
    "ValueError naming SECRET_KEY when environment == 'production' and secret_key is missing or the default."
)


def fixed_default_secret_key(load_app) -> str | None:
    """The SECRET_KEY the app's settings fall back to, when they define a fixed one (app.config's settings,
    asked inside the app's process: a probe that answers data)."""
    try:
        answer = load_app().probe("secret_key_default")
    except AppFailed:  # the other tests say why it does not load
        return None
    value = answer.get("value") if isinstance(answer, dict) else None
    return value if isinstance(value, str) and value else None


def test_in_production_the_app_refuses_to_start_without_a_SECRET_KEY(production, try_to_start):
    refusal, _ = try_to_start(**production.missing_key)
    assert refusal is not None, (
        "With ENVIRONMENT=production and no SECRET_KEY (in the environment or .env), the app should refuse to start, "
        f"but it started. {REFUSE}"
    )
    assert "secret_key" in refusal.lower(), (
        "With ENVIRONMENT=production and no SECRET_KEY, the app refused to start, but its error does not say which "
        f"setting is wrong: {refusal[:300]}. Name SECRET_KEY in the message."
    )
    started, health = try_to_start(**production.strong_key)
    assert started is None, (
        f"With ENVIRONMENT=production and a random SECRET_KEY of 80 characters, the app should start, but it raised "
        f"{started[:300]}. Refuse only a missing or default key."
    )
    assert health.status_code == 200, (
        f"In production with a strong SECRET_KEY, GET /health should answer 200, got {health.status_code}."
    )


def test_in_production_the_app_refuses_the_default_SECRET_KEY(production, try_to_start, load_app):
    """Setting SECRET_KEY to the default written in the code is no better than leaving it out."""
    default = fixed_default_secret_key(load_app)
    if default is None:  # the settings have no fixed default: the test above covers a missing key
        return
    refusal, _ = try_to_start(**production.with_key(default))
    assert refusal is not None, (
        "With ENVIRONMENT=production and SECRET_KEY set to the default written in app/config.py, the app should "
        f"refuse to start, but it started. Compare the key with that default, not only with an empty value. {REFUSE}"
    )
    assert "secret_key" in refusal.lower(), (
        "The app refused the default SECRET_KEY in production, but its error does not name the setting: "
        f"{refusal[:300]}."
    )
