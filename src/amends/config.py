"""Settings, read at the edges (app factory, CLI commands) and passed inward."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr, field_validator
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
    # Outbound mail (amends.outbound). With no smtp_host, mail waits in the outbox.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False  # implicit TLS (port 465); smtp_starttls upgrades a plain connection
    smtp_timeout: float = 10
    mail_from: str = "amends@localhost"
    webhook_timeout: float = 10
    # Signs survey links. Unset: a key the desk makes and keeps in its database.
    secret_key: SecretStr | None = None
    # Where customers reach the desk's pages (survey links in mail).
    public_url: str = "http://127.0.0.1:8000"
    # Session cookies carry the Secure flag over https; unset: decided by public_url's scheme.
    cookie_secure: bool | None = None
    # Timers: `amends serve` ticks in-process every tick_seconds unless run_timers is off
    # (run `amends worker` instead, at scale).
    run_timers: bool = True
    tick_seconds: float = 15

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
