"""Runtime settings, read from the environment (prefix ``PATRONAGE_``)."""

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./patronage.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATRONAGE_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Connections each worker process keeps open to PostgreSQL.
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Seconds a request waits for a free database connection before it is answered 503 (PostgreSQL).
    db_pool_timeout: float = Field(30.0, gt=0)
    # Echo SQL statements (debugging only).
    db_echo: bool = False
    # How long a process trusts a token it has checked (seconds; 0: off). Revocations reach every process at
    # once whatever it is (patronage.auth.revision).
    auth_cache_seconds: float = 5.0
    log_level: str = "info"
    # Debugging only: let logs show request values (SQL parameters of database errors, error messages that
    # quote them, query strings). Off, no log line carries a token, a query string or a body value.
    log_request_values: bool = False
    # Argon2id cost of new password hashes (a hash keeps its own, so changing these never breaks a login).
    # The defaults are pwdlib's recommended ones (argon2-cffi's RFC 9106 low-memory profile).
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_cost: int = Field(default=65536, ge=8)  # KiB
    password_hash_parallelism: int = Field(default=4, ge=1)
    # Structured JSON access logs (one line per request); off for quiet local runs.
    access_log: bool = True
    # Rate limits (SPEC §4); counters in Redis when redis_url is set. Like every flag here it reads
    # on/off, true/false, yes/no or 1/0 (any case); anything else is refused at start-up.
    rate_limits: bool = True
    redis_url: str | None = None
    rate_limit_per_minute: int = 500
    rate_limit_per_hour: int = 2500
    rate_limit_per_day: int = 10000
    rate_limit_heavy_per_minute: int = 10
    # Seals client secrets at rest (they sign webhooks) and signs cursors; the same value on every host and for
    # the CLI. Unset, a key file (created once, mode 0600) is used: secret_key_file, else beside the SQLite
    # database (<database>.key), else ./patronage.key. Never in the database (patronage.sealing).
    secret_key: str | None = None
    secret_key_file: str | None = None
    # Older (or next) keys, comma-separated, that still open secrets and cursors but never seal: key rotation.
    secret_key_fallbacks: str | None = None
    # Webhook delivery (SPEC §9): the worker runs inside `patronage serve` unless callback_worker is off.
    callback_worker: bool = True
    callback_timeout_seconds: float = 20.0
    # The first wait after a failed delivery; each later wait doubles it (1, 2, 4 ... 32 minutes).
    callback_retry_base_seconds: float = 60.0
    callback_retries: int = 6
    callback_poll_seconds: float = 1.0
    # Phones must be E.164 (SPEC §7); by default other formats are accepted as HubRise still accepts them.
    strict_phones: bool = False
    # The HTTP layer's bounds (patronage.edges.server): slow or oversized clients get a 408 or a 431.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    max_header_bytes: int = 16384
    max_headers: int = 100
    keep_alive_seconds: float = 5.0
    # Callback URLs resolving to loopback, private, link-local or metadata addresses are refused unless true.
    callback_allow_private: bool = False

    @model_validator(mode="after")
    def _argon2_memory_fits(self) -> "Settings":
        # Argon2 needs 8 KiB per lane: caught here rather than at the first password hashed.
        if self.password_hash_memory_cost < 8 * self.password_hash_parallelism:
            raise ValueError(
                "PATRONAGE_PASSWORD_HASH_MEMORY_COST must be at least 8 (KiB) times PATRONAGE_PASSWORD_HASH_PARALLELISM"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
