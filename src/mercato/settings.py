"""Deployment settings, read from the environment (prefix ``MERCATO_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCATO_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'mercato.db'}",
        description="SQLAlchemy URL. Default: a SQLite file named mercato.db in the working directory.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = Field(
        default="change-me-in-production",
        description="Protects private signing keys at rest (and later, sessions). Set a long random value.",
    )
    superseded_key_grace_days: int = Field(
        default=30, description="How long a superseded key keeps validating after it was replaced."
    )

    validation_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long the validate API may reuse what it read about a key (revoked, superseded, "
        "suspended) before reading it again. 0 reads the database on every request.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
