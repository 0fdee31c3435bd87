"""Typed settings read from the environment (prefix DELIVERYHUB_); fail closed on unsafe values. Loaded
through the one config loader (kernel/configfile.py), which also reads the YAML file they point at."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator

from deliveryhub.kernel.configfile import ConfigDocument, EnvSettings, load_env, read_optional

DEFAULT_DB_URL = "sqlite:///./var/deliveryhub.db"


class Settings(EnvSettings):
    """Every tunable of the hub; environment variables win over defaults."""

    db_url: str = DEFAULT_DB_URL
    # The shop this hub serves (issue 20); a platform process builds one hub per shop from its own.
    shop_slug: str = "default"
    shop_discover_seconds: float = 30.0  # how often `deliveryhub worker` looks for newly created shops
    bus_url: str = "inprocess://"
    master_key: str | None = None
    master_key_file: Path | None = None
    data_dir: Path = Path("./var")
    env: str = Field(default="dev", description="dev | test | prod")
    max_body_bytes: int = 5 * 1024 * 1024
    max_batch: int = 1000
    max_json_depth: int = 32
    bus_partitions: int = 16
    bus_stream: str = "DELIVERYHUB"
    bus_replicas: int = 1
    smtp_url: str | None = None
    shopify_webhook_secret: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    tz: str = "Asia/Seoul"
    config_file: Path | None = None
    rate_limit_per_minute: int = 600
    login_rate_limit_per_minute: int = 20
    # Security (issue 13): every default is the safe choice; an operator loosens one on purpose.
    trust_proxy: bool = False  # X-Forwarded-For/-Proto only from a proxy of your own
    forwarded_allow_ips: str = "127.0.0.1"  # which proxy addresses, when trust_proxy is on
    metrics_public: bool = False  # /metrics needs the metrics:read permission unless set
    webhook_money_approval_krw: int = 0  # money caused by a pushed stage change above this waits for a human
    chat_verify_failures_per_order: int = 5  # wrong tries per order (any session or address) before a lock
    chat_verify_lock_minutes: int = 30  # first lock; each further lock doubles (backoff)
    tracking_link_days_after_delivery: int = 30  # a tracking link expires this long after delivery
    password_min_length: int = 12

    @field_validator("db_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        # Users write postgresql://; SQLAlchemy needs the psycopg 3 driver named explicitly.
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("bus_url")
    @classmethod
    def _check_bus_url(cls, value: str) -> str:
        if not (value.startswith("inprocess://") or value.startswith("nats://")):
            raise ValueError("bus URL must be inprocess:// or nats://host:port")
        return value

    @cached_property
    def is_sqlite(self) -> bool:
        """True when the embedded SQLite store is used."""
        return self.db_url.startswith("sqlite")

    @cached_property
    def sqlite_path(self) -> Path | None:
        """Filesystem path of the SQLite database, if any."""
        if not self.is_sqlite or ":memory:" in self.db_url:
            return None
        return Path(self.db_url.split(":///", 1)[1])

    def config(self) -> ConfigDocument:
        """The YAML config file (DELIVERYHUB_CONFIG_FILE) parsed with its line numbers; empty when unset."""
        return read_optional(self.config_file)


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment with explicit overrides (CLI options) applied on top; a bad value
    raises ConfigError naming the variable."""
    return load_env(Settings, **overrides)
