"""Settings come from the environment and a malformed value stops start-up loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from vrps import env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw", ["maybe", "2", "yess"])
def test_a_malformed_boolean_is_refused(monkeypatch, raw):
    monkeypatch.setenv("X_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("OFF", False), ("1", True)])
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG", not expected) is expected


def test_a_malformed_number_is_refused(monkeypatch):
    monkeypatch.setenv("X_PORT", "twenty-five")
    with pytest.raises(ImproperlyConfigured, match="X_PORT"):
        env.env_int("X_PORT", 25)
    monkeypatch.setenv("X_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="between"):
        env.env_int("X_PORT", 25, maximum=65535)


def test_an_empty_host_list_is_refused(monkeypatch):
    monkeypatch.setenv("X_HOSTS", " , ")
    with pytest.raises(ImproperlyConfigured):
        env.env_list("X_HOSTS", [])


def test_secret_key_is_required_without_debug(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        env.secret_key(debug=False, key_file=tmp_path / "key")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        env.secret_key(debug=False, key_file=tmp_path / "key")


def test_a_development_key_is_made_once_and_kept(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "key"
    first = env.secret_key(debug=True, key_file=key_file)
    assert len(first) >= 50
    assert oct(key_file.stat().st_mode)[-3:] == "600"
    assert env.secret_key(debug=True, key_file=key_file) == first


def test_database_url(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.database(default_sqlite=tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    # write-ahead log; a writer takes the lock when its transaction begins (ADR 0013)
    assert config["OPTIONS"]["init_command"] == "PRAGMA journal_mode=WAL;"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert env.database(default_sqlite=tmp_path / "db.sqlite3")["OPTIONS"] == env.SQLITE_OPTIONS
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/vrps")
    config = env.database(default_sqlite=tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "vrps"
    assert config["OPTIONS"]["options"] == "-c enable_memoize=off"
    assert config["DISABLE_SERVER_SIDE_CURSORS"] is True
    monkeypatch.setenv("DATABASE_URL", "nonsense://what")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database(default_sqlite=tmp_path / "db.sqlite3")


def _start(**environ) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.update(environ)
    clean["DJANGO_SETTINGS_MODULE"] = "vrps.settings"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_up_stops_with_a_clear_message():
    result = _start(DEBUG="sometimes")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DEBUG must be one of" in result.stderr
    result = _start(DEBUG="false")
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
    result = _start(DEBUG="false", SECRET_KEY="k" * 50, ALLOWED_HOSTS="school.example")
    assert result.returncode == 0, result.stderr


def test_uk_locale():
    from django.conf import settings

    assert settings.TIME_ZONE == "Europe/London"
    assert settings.LANGUAGE_CODE == "en-gb"
