"""Settings: read once from the environment and .env, typed and validated."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings read from the environment, then from a .env file."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite:///tasks.db"
    # Anyone who knows this key can sign tokens: set your own in .env, never commit it.
    secret_key: str = "development-only-secret-key-change-me-0123456789"
    access_token_expire_minutes: int = 30
    # Argon2id cost: argon2-cffi's defaults (RFC 9106). Tests may lower them to run fast.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536  # KiB, so 64 MiB
    argon2_parallelism: int = 4


settings = Settings()
