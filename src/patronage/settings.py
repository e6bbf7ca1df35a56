"""Runtime settings, read from the environment (prefix ``PATRONAGE_``)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./patronage.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATRONAGE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Connections each worker process keeps open to PostgreSQL.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Echo SQL statements (debugging only).
    db_echo: bool = False
    log_level: str = "info"
    # Structured JSON access logs (one line per request); off for quiet local runs.
    access_log: bool = True
    # Rate limits (SPEC §4): "on" or "off"; counters in Redis when redis_url is set.
    rate_limits: str = "on"
    redis_url: str | None = None
    rate_limit_per_minute: int = 500
    rate_limit_per_hour: int = 2500
    rate_limit_per_day: int = 10000
    rate_limit_heavy_per_minute: int = 10


@lru_cache
def get_settings() -> Settings:
    return Settings()
