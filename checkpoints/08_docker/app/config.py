"""Settings: read once from the environment and .env, typed and validated."""

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-change-me-0123456789"


class Settings(BaseSettings):
    """Settings read from the environment, then from a .env file."""

    # hide_input_in_errors: a refused setting must not print the others (a password in DATABASE_URL) to the log.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    environment: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///tasks.db"
    # Anyone who knows this key can sign tokens: set your own in .env, never commit it.
    secret_key: str = DEVELOPMENT_SECRET_KEY
    access_token_expire_minutes: int = 30
    # Argon2id cost: argon2-cffi's defaults (RFC 9106). Tests may lower them to run fast.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536  # KiB, so 64 MiB
    argon2_parallelism: int = 4
    # NoDecode: CORS_ORIGINS is "a, b", not the JSON list pydantic-settings expects for a list.
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:5173"]
    login_rate_limit: str = "5/minute"
    # Where the rate limiter keeps its counts: memory:// is one process's; lesson 08 shares them with redis://.
    rate_limit_storage_uri: str = "memory://"
    email_outbox: Path = Path("outbox")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        """Read "http://a.example, http://b.example" as a list of trimmed origins."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @model_validator(mode="after")
    def refuse_an_unsafe_production(self) -> Self:
        """In production, stop at start-up when tokens would be signed with a key anyone can know."""
        too_weak = self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < 32
        if self.environment == "production" and too_weak:
            raise ValueError("SECRET_KEY must be set to a random value of 32 characters or more in production")
        return self


settings = Settings()
