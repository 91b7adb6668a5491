"""Settings, read at the edges (app factory, CLI commands) and passed inward."""

from __future__ import annotations

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AMENDS_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./amends.db"  # PostgreSQL: postgresql+psycopg://host/db
    # Largest single payload accepted by the API and by one quarantined item, in bytes.
    max_payload_bytes: int = 10 * 1024 * 1024
    # Largest text kept for one feedback item; longer texts are cut and flagged.
    max_text_chars: int = 100_000
    # Default country for phone numbers written without an international prefix.
    default_region: str = "US"
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("AMENDS_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @field_validator("max_payload_bytes", "max_text_chars")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
