"""Read settings from the environment and fail loudly on a bad value.

Every reader raises ImproperlyConfigured naming the variable, so a typo in a
deployment stops start-up instead of quietly falling back to a default.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} is set but lists nothing.")
    return items


def secret_key(*, debug: bool, key_file: Path) -> str:
    """SECRET_KEY from the environment; in development, a key kept in an ignored file."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
        return key
    if not debug:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (a long random string, kept secret)."
        )
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(50)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key


# SQLite, with or without DATABASE_URL (docs/decisions/0013-sqlite-wal.md): a writer takes
# the lock when its transaction begins (no deadlock upgrading a read lock), waits up to 20
# seconds for another, and the write-ahead log lets pages read while another request
# writes. `synchronous` stays FULL: every commit is on disk before the response.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;",
}


# PostgreSQL (ADR 0013): the planner does not consider Memoize nodes. The pages join a
# row to five or six others by primary key (select_related); with Memoize considered,
# planning such a query took 5.6 ms on PostgreSQL 15 against 0.2 ms to run it; without,
# 1.9 ms, and the plans chosen are the nested loops over primary keys the pages need.
POSTGRESQL_SETTINGS = "-c enable_memoize=off"


def database(*, default_sqlite: Path) -> dict:
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite,
            "OPTIONS": dict(SQLITE_OPTIONS),
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # the library raises several types for a malformed URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if not config.get("ENGINE"):
        raise ImproperlyConfigured("DATABASE_URL names an unknown database engine.")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    elif "postgresql" in config["ENGINE"]:
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{POSTGRESQL_SETTINGS} {options.get('options', '')}".strip()
        # a form's choices are read with .iterator(), which on PostgreSQL declares a
        # server-side cursor (DECLARE, FETCH, CLOSE: three round trips for a short list);
        # the lists here are short, and a connection pooler may not keep such cursors
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config
