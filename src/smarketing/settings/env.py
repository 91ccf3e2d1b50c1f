"""The one module that reads os.environ; every value is parsed and checked here, failing fast."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(ValueError):
    """A configuration value from the environment is invalid."""


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true/false)")


def _choice(name: str, default: str, allowed: set[str]) -> str:
    value = os.environ.get(name, default).strip().lower() or default
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} must be one of {sorted(allowed)}")
    return value


@dataclass(frozen=True)
class Env:
    data_dir: Path
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    analytics_engine: str
    theme_backend: str
    embedding_model: str
    webhook_secret: str
    spark_master: str


def load() -> Env:
    data_dir = Path(os.environ.get("SMARKETING_DATA_DIR", "data")).resolve()
    database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'smarketing.db'}"
    scheme = urlparse(database_url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite:/// or postgres://)")
    hosts = [h.strip() for h in os.environ.get("SMARKETING_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
    return Env(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=os.environ.get("SMARKETING_SECRET_KEY", "dev-insecure-change-me-in-production"),
        debug=_bool("SMARKETING_DEBUG", False),
        allowed_hosts=[h for h in hosts if h],
        analytics_engine=_choice("SMARKETING_ANALYTICS_ENGINE", "duckdb", {"duckdb", "postgres", "spark"}),
        theme_backend=_choice("SMARKETING_THEME_BACKEND", "tfidf", {"tfidf", "embedding"}),
        embedding_model=os.environ.get("SMARKETING_EMBEDDING_MODEL", "all-MiniLM-L6-v2"),
        webhook_secret=os.environ.get("SMARKETING_WEBHOOK_SECRET", "dev-webhook-secret"),
        spark_master=os.environ.get("SMARKETING_SPARK_MASTER", "local[2]"),
    )
