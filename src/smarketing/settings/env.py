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


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def local_secret(data_dir: Path, name: str) -> str:
    """A random secret generated once and kept in the data folder (mode 0600): the local demo's key, never
    production's, which must come from the environment (see `smarketing.core.startup`)."""
    import secrets

    path = data_dir / f".{name}"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value


def _webhook_allow(name: str) -> tuple[str, ...]:
    """Comma-separated host names, IP addresses and networks (CIDR) that outgoing webhooks may reach although they
    are private, loopback or link-local; each is checked here, so a typo stops start-up."""
    import ipaddress

    entries = []
    for raw in os.environ.get(name, "").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if "/" in entry or entry[0].isdigit() or ":" in entry:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ConfigError(f"{name}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
        elif not all(part and len(part) <= 63 and part.replace("-", "").replace("_", "").isalnum()
                     for part in entry.rstrip(".").split(".")):
            raise ConfigError(f"{name}: {entry!r} is not a host name, IP address or network")
        entries.append(entry)
    return tuple(entries)


@dataclass(frozen=True)
class Smtp:
    """Where notification emails go out; absent (None) when SMARKETING_SMTP_HOST is unset: no email then."""

    host: str
    port: int
    user: str
    password: str
    sender: str
    tls: str  # off | starttls | ssl


SMTP_TLS = {"off", "starttls", "ssl"}


def _smtp() -> Smtp | None:
    host = os.environ.get("SMARKETING_SMTP_HOST", "").strip()
    if not host:
        return None
    raw_tls = os.environ.get("SMARKETING_SMTP_TLS", "").strip().lower()
    tls = {"": "starttls", "true": "starttls", "1": "starttls", "yes": "starttls", "on": "starttls",
           "false": "off", "0": "off", "no": "off"}.get(raw_tls, raw_tls)
    if tls not in SMTP_TLS:
        raise ConfigError(f"SMARKETING_SMTP_TLS={raw_tls!r} must be one of {sorted(SMTP_TLS)} (or true/false)")
    port = _int("SMARKETING_SMTP_PORT", {"off": 25, "starttls": 587, "ssl": 465}[tls], minimum=1)
    if port > 65535:
        raise ConfigError(f"SMARKETING_SMTP_PORT={port} is not a port (1 to 65535)")
    sender = os.environ.get("SMARKETING_SMTP_FROM", "").strip()
    if "@" not in sender:
        raise ConfigError(f"SMARKETING_SMTP_FROM={sender!r} must be the sender's address (e.g. smarketing@example.com) "
                          "when SMARKETING_SMTP_HOST is set")
    user = os.environ.get("SMARKETING_SMTP_USER", "").strip()
    password = os.environ.get("SMARKETING_SMTP_PASSWORD", "")
    if bool(user) != bool(password):
        raise ConfigError("SMARKETING_SMTP_USER and SMARKETING_SMTP_PASSWORD go together: set both or neither")
    return Smtp(host=host, port=port, user=user, password=password, sender=sender, tls=tls)


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
    # Which secrets came from the environment; production (debug off) refuses to serve without both.
    secret_key_from_env: bool = False
    webhook_secret_from_env: bool = False
    https: bool = False
    hsts_seconds: int = 0
    hsts_preload: bool = False
    trust_forwarded_proto: bool = False
    login_failure_limit: int = 10
    login_cooloff_minutes: int = 15
    api_rate: str = "600/m"
    password_min_length: int = 12
    # The history store: where its Parquet lives, and whether DuckDB reads it (`lake`) or the tables (`live`).
    lake_url: str = ""
    analytics_store: str = "lake"
    figures_inline_contacts: int = 20_000
    # Seconds between two background refreshes of the figures viewed recently, after the CRM changed (0: none).
    figures_refresh_seconds: int = 30
    # Private, loopback and link-local webhook targets allowed anyway (host names, addresses, networks).
    webhook_allow: tuple[str, ...] = ()
    # A task RUNNING longer than this died with its worker and is requeued, failed after this many runs.
    task_stale_minutes: int = 30
    task_max_attempts: int = 3
    # Notification emails (None: SMARKETING_SMTP_HOST unset, no email).
    smtp: Smtp | None = None


LAKE_SCHEMES = {"", "file", "s3a", "s3", "hdfs", "abfss", "abfs", "gs"}


def _lake_url(data_dir: Path) -> str:
    raw = os.environ.get("SMARKETING_LAKE_URL", "").strip()
    if not raw:
        return str(data_dir / "lake")
    scheme = urlparse(raw).scheme
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    if scheme not in LAKE_SCHEMES:
        raise ConfigError(f"SMARKETING_LAKE_URL={raw!r}: scheme {scheme!r} is not supported "
                          f"(use a folder, file://, s3a://, hdfs:// or abfss://)")
    if scheme in {"", "file"}:
        path = urlparse(raw).path if scheme == "file" else raw
        return str(Path(path).resolve())
    return raw


def load() -> Env:
    data_dir = Path(os.environ.get("SMARKETING_DATA_DIR", "data")).resolve()
    database_url = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'smarketing.db'}"
    scheme = urlparse(database_url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite:/// or postgres://)")
    hosts = [h.strip() for h in os.environ.get("SMARKETING_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
    secret_key = os.environ.get("SMARKETING_SECRET_KEY", "").strip()
    webhook_secret = os.environ.get("SMARKETING_WEBHOOK_SECRET", "").strip()
    https = _bool("SMARKETING_HTTPS", False)
    api_rate = os.environ.get("SMARKETING_API_RATE", "").strip() or "600/m"
    count, _, unit = api_rate.partition("/")
    if not count.isdigit() or int(count) < 1 or unit not in {"s", "m", "h", "d", "sec", "min", "hour", "day"}:
        raise ConfigError(f"SMARKETING_API_RATE={api_rate!r} must look like 600/m (requests per s, m, h or d)")
    return Env(
        data_dir=data_dir,
        database_url=database_url,
        secret_key=secret_key or local_secret(data_dir, "secret_key"),
        secret_key_from_env=bool(secret_key),
        webhook_secret_from_env=bool(webhook_secret),
        https=https,
        hsts_seconds=_int("SMARKETING_HSTS_SECONDS", 31_536_000 if https else 0),
        hsts_preload=_bool("SMARKETING_HSTS_PRELOAD", https),
        trust_forwarded_proto=_bool("SMARKETING_TRUST_X_FORWARDED_PROTO", False),
        login_failure_limit=_int("SMARKETING_LOGIN_FAILURE_LIMIT", 10, minimum=1),
        login_cooloff_minutes=_int("SMARKETING_LOGIN_COOLOFF_MINUTES", 15, minimum=1),
        api_rate=api_rate,
        password_min_length=_int("SMARKETING_PASSWORD_MIN_LENGTH", 12, minimum=8),
        webhook_allow=_webhook_allow("SMARKETING_WEBHOOK_ALLOW"),
        task_stale_minutes=_int("SMARKETING_TASK_STALE_MINUTES", 30, minimum=1),
        task_max_attempts=_int("SMARKETING_TASK_MAX_ATTEMPTS", 3, minimum=1),
        smtp=_smtp(),
        debug=_bool("SMARKETING_DEBUG", False),
        allowed_hosts=[h for h in hosts if h],
        analytics_engine=_choice("SMARKETING_ANALYTICS_ENGINE", "duckdb", {"duckdb", "postgres", "spark"}),
        # auto: sentence embeddings when the optional packages and the local model are installed, else TF-IDF
        theme_backend=_choice("SMARKETING_THEME_BACKEND", "auto", {"auto", "tfidf", "embedding"}),
        embedding_model=os.environ.get("SMARKETING_EMBEDDING_MODEL", "all-MiniLM-L6-v2"),
        webhook_secret=webhook_secret or local_secret(data_dir, "webhook_secret"),
        spark_master=os.environ.get("SMARKETING_SPARK_MASTER", "local[2]"),
        lake_url=_lake_url(data_dir),
        analytics_store=_choice("SMARKETING_ANALYTICS_STORE", "lake", {"lake", "live"}),
        figures_inline_contacts=_int("SMARKETING_FIGURES_INLINE_CONTACTS", 20_000),
        figures_refresh_seconds=_int("SMARKETING_FIGURES_REFRESH_SECONDS", 30),
    )


# The command service (`smarketing service`, see smarketing.core.command_service): the CLI asks it to run a
# command in a process that has already loaded the product, when one listens on this data folder's socket.
# These two are read before Django is set up, by the command's client, so they do not go through `load()`.
COMMAND_SERVICE_OFF = {"0", "false", "no", "off"}


def command_socket_path() -> Path | None:
    """Where the data folder's command service listens, or None when the user turned the service off
    (SMARKETING_COMMAND_SERVICE=off)."""
    if os.environ.get("SMARKETING_COMMAND_SERVICE", "").strip().lower() in COMMAND_SERVICE_OFF:
        return None
    return Path(os.environ.get("SMARKETING_DATA_DIR", "data")).resolve() / "run" / "commands.sock"


def settings_environment() -> dict[str, str]:
    """The environment variables that settings are made from: a command may run in the command service only
    when these are the same as the service's own (the service was set up from them)."""
    found = {name: value for name, value in os.environ.items()
             if (name.startswith(("SMARKETING_", "DJANGO_")) or name == "DATABASE_URL")
             and name != "SMARKETING_COMMAND_SERVICE"}
    # The data folder as the path it resolves to: `make demo` (no variable, run in the repository) and a terminal
    # elsewhere naming the same folder (as the demo says to) are the same configuration.
    found["SMARKETING_DATA_DIR"] = str(Path(found.get("SMARKETING_DATA_DIR", "data")).resolve())
    return found
