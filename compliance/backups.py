"""Back up the whole database to a file, and restore such a file into an empty database.

A backup is two files side by side: the data (`vrps-YYYYmmdd-HHMMSS.sqlite3`, a copy made
with SQLite's online backup API, or `.dump`, a `pg_dump --format=custom` archive) and a
manifest (`<same name>.json`) holding the row count of every table, the migration state,
the database vendor, the creation time and the data file's SHA-256. The counts and the
data come from the same moment (the finished SQLite copy; one PostgreSQL snapshot shared
with pg_dump), so a restore can be checked table by table against the manifest.

Backups hold personal data about children and families: see README, "Backups".
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.client import DatabaseClient
from django.db.utils import ConnectionHandler
from django.utils import timezone

from vrps.env import env_str

MANIFEST_FORMAT = 1
_DATA_SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".dump"}
_VENDOR_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(Exception):
    """A backup or restore that could not be made or checked; the message says why."""


def backup_dir() -> Path:
    """Where backups go: BACKUP_DIR from the environment, else `backups/` in the project."""
    configured = env_str("BACKUP_DIR").strip()
    return Path(configured) if configured else Path(settings.BASE_DIR) / "backups"


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def read_manifest(backup: Path) -> dict:
    path = manifest_path(backup)
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(
            f"There is no manifest {path.name} beside {backup}; it is needed to check the "
            "restore. Copy it from wherever the backup came from."
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"Cannot read the manifest {path}: {exc}.") from None
    missing = {"format", "vendor", "tables", "sha256"} - set(manifest)
    if manifest.get("format") != MANIFEST_FORMAT or missing:
        raise BackupError(f"{path} is not a backup manifest this version understands.")
    return manifest


def backup_create(*, destination: Path | None = None) -> Path:
    """Back up the configured database into `destination` (default `backup_dir()`).

    Returns the data file; its manifest is `manifest_path()` of it.
    """
    live = connections[DEFAULT_DB_ALIAS]
    if live.vendor not in _DATA_SUFFIX:
        raise BackupError(f"Cannot back up a {live.vendor} database (SQLite or PostgreSQL only).")
    if live.in_atomic_block:
        raise BackupError("Run the backup outside a transaction: uncommitted rows would be lost.")

    folder = Path(destination) if destination is not None else backup_dir()
    if not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise BackupError(f"Cannot create the backup folder {folder}: {exc}.") from None
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a folder.")

    created = timezone.now()
    stamp = timezone.localtime(created).strftime("%Y%m%d-%H%M%S")
    path = folder / f"vrps-{stamp}{_DATA_SUFFIX[live.vendor]}"
    _create_private(path)
    try:
        if live.vendor == "sqlite":
            tables, migrations = _backup_sqlite(live, path)
        else:
            tables, migrations = _backup_postgresql(live, path)
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": path.name,
            "vendor": live.vendor,
            "created_at": created.isoformat(),
            "sha256": _sha256(path),
            "migrations": migrations,
            "tables": tables,
        }
        _create_private(manifest_path(path))
        manifest_path(path).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except BaseException:
        # A half-written backup must not be mistaken for a good one.
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
        raise
    return path


def backup_restore(*, source: Path, target: str | None = None, force: bool = False) -> dict:
    """Restore the backup `source` into `target`, then check every table's row count.

    `target` is a database URL (`sqlite:////path/to/file.sqlite3`, `postgres://...`);
    None means the database this installation is configured to use. A PostgreSQL
    target must have no tables; a SQLite target file must be missing or empty unless
    `force` is set. Returns the restored row count of every table.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    manifest = read_manifest(source)
    if _sha256(source) != manifest["sha256"]:
        raise BackupError(
            f"{source} does not match its manifest (SHA-256 differs): the file is damaged "
            "or incomplete, or the manifest belongs to another backup."
        )

    target_settings = _target_settings(target)
    vendor = manifest["vendor"]
    target_vendor = _vendor_of(target_settings)
    if vendor != target_vendor:
        raise BackupError(
            f"{source.name} is a {_VENDOR_NAME.get(vendor, vendor)} backup; it can only be "
            f"restored into a {_VENDOR_NAME.get(vendor, vendor)} database, not "
            f"{_VENDOR_NAME.get(target_vendor, target_vendor)}."
        )

    if vendor == "sqlite":
        _restore_sqlite(source, Path(target_settings["NAME"]), force=force)
    else:
        _restore_postgresql(source, target_settings)

    with _database(target_settings) as db, db.cursor() as cursor:
        restored = _table_counts(db, cursor)
    _compare(expected=manifest["tables"], restored=restored)
    return restored


def history_rows(tables: dict[str, int]) -> int:
    """How many of the counted rows are history (django-simple-history's tables)."""
    return sum(count for table, count in tables.items() if "_historical" in table)


def sqlite_url(path: Path) -> str:
    """The database URL of a SQLite file, for `backup_restore(target=...)`."""
    return "sqlite:///" + quote(str(Path(path).resolve()))


# SQLite


def _backup_sqlite(live: BaseDatabaseWrapper, path: Path) -> tuple[dict, dict]:
    # The backup API copies a consistent snapshot even while the app writes. Reading
    # through the app's own connection also works for the test suite's in-memory database.
    live.ensure_connection()
    with closing(sqlite3.connect(path)) as copy_db:
        live.connection.backup(copy_db)
    with _database(_sqlite_settings(path)) as db, db.cursor() as cursor:
        return _table_counts(db, cursor), _latest_migrations(db, cursor)


def _restore_sqlite(source: Path, target: Path, *, force: bool) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    if target.exists() and target.stat().st_size > 0 and not force:
        raise BackupError(
            f"{target} already holds a database; restoring would replace it. "
            "Choose a new file, or use --force if replacing it is what you mean."
        )
    created = not target.exists()
    if created:
        _create_private(target)
    try:
        with (
            closing(sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target)) as dst,
        ):
            # Through the backup API rather than a file copy, so that SQLite's locks are
            # respected and no stale journal beside the target is replayed over the copy.
            src.backup(dst)
    except sqlite3.Error as exc:
        if created:
            target.unlink(missing_ok=True)
        raise BackupError(f"Cannot restore {source} into {target}: {exc}.") from None


def _sqlite_settings(path: Path) -> dict:
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}


# PostgreSQL


def _backup_postgresql(live: BaseDatabaseWrapper, path: Path) -> tuple[dict, dict]:
    pg_dump = _program("pg_dump")
    # One snapshot for the counts and for pg_dump, so they describe the same moment. The
    # transaction stays open until pg_dump is done, and ends when the connection closes.
    with _database(live.settings_dict) as db, db.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        tables, migrations = _table_counts(db, cursor), _latest_migrations(db, cursor)
        _run(
            pg_dump,
            ["--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={path}"],
            settings_dict=db.settings_dict,
        )
    return tables, migrations


def _restore_postgresql(source: Path, target_settings: dict) -> None:
    pg_restore = _program("pg_restore")
    with _database(target_settings) as db:
        try:
            existing = db.introspection.table_names(include_views=True)
        except DatabaseError as exc:
            raise BackupError(f"Cannot use the target database: {exc}") from None
    if existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise BackupError(
            f"The target database {target_settings['NAME']!r} is not empty "
            f"({len(existing)} tables: {shown}). Restore into a new, empty database "
            "(createdb NAME)."
        )
    options = [
        "--no-owner",
        "--no-acl",  # grants name roles that may not exist on the new server
        "--exit-on-error",
        # All or nothing: a failed restore leaves the target empty, ready to try again.
        "--single-transaction",
        str(source),
    ]
    _run(pg_restore, options, settings_dict=target_settings)


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on the PATH. Install the PostgreSQL client programs "
            "(Debian: postgresql-client), of the server's major version or newer."
        )
    return found


def _run(program: str, options: list[str], *, settings_dict: dict) -> None:
    """Run pg_dump or pg_restore against the database in `settings_dict`.

    The password travels in the child's environment (PGPASSWORD), never on its command
    line, where any user of the machine could read it.
    """
    args = [program, f"--dbname={settings_dict['NAME']}"]
    if settings_dict.get("USER"):
        args.append(f"--username={settings_dict['USER']}")
    if settings_dict.get("HOST"):
        args.append(f"--host={settings_dict['HOST']}")
    if settings_dict.get("PORT"):
        args.append(f"--port={settings_dict['PORT']}")
    args += options  # last, as pg_restore's file name is a positional argument
    _, secrets = DatabaseClient.settings_to_cmd_args_env({"OPTIONS": {}, **settings_dict}, [])
    env = {**os.environ, **(secrets or {})}
    # S603: the program is pg_dump/pg_restore by absolute path; arguments are not a shell line.
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{Path(program).name} failed: {detail}")


# Shared


@contextmanager
def _database(settings_dict: dict) -> Iterator[BaseDatabaseWrapper]:
    """A Django connection of its own to `settings_dict`, closed afterwards.

    It is kept apart from `django.db.connections`, so nothing here touches the app's
    connection or its transaction.
    """
    handler = ConnectionHandler({DEFAULT_DB_ALIAS: copy.deepcopy(dict(settings_dict))})
    db = handler[DEFAULT_DB_ALIAS]
    try:
        yield db
    finally:
        db.close()


def _table_counts(db: BaseDatabaseWrapper, cursor) -> dict[str, int]:
    counts = {}
    for table in db.introspection.table_names(cursor):
        # S608: the name comes from the database's own catalogue and is quoted.
        cursor.execute(f"SELECT COUNT(*) FROM {db.ops.quote_name(table)}")  # noqa: S608
        counts[table] = cursor.fetchone()[0]
    return counts


def _latest_migrations(db: BaseDatabaseWrapper, cursor) -> dict[str, str]:
    """The last migration applied in each app, as recorded in the database."""
    if "django_migrations" not in db.introspection.table_names(cursor):
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    return dict(cursor.fetchall())  # later rows replace earlier ones


def _compare(*, expected: dict[str, int], restored: dict[str, int]) -> None:
    problems = [f"{table}: missing" for table in sorted(expected.keys() - restored.keys())]
    problems += [
        f"{table}: not in the backup" for table in sorted(restored.keys() - expected.keys())
    ]
    problems += [
        f"{table}: {restored[table]} rows, the manifest says {count}"
        for table, count in sorted(expected.items())
        if table in restored and restored[table] != count
    ]
    if problems:
        raise BackupError(
            "The restored database does not match the manifest: " + "; ".join(problems) + "."
        )


def _target_settings(target: str | None) -> dict:
    if target is None:
        return dict(connections[DEFAULT_DB_ALIAS].settings_dict)
    try:
        return dj_database_url.parse(target)
    except Exception as exc:  # the library raises several types for a malformed URL
        raise BackupError(f"{target!r} is not a database URL: {exc}") from None


def _vendor_of(settings_dict: dict) -> str:
    engine = settings_dict.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine or "postgis" in engine:
        return "postgresql"
    return engine or "unknown"


def _create_private(path: Path) -> None:
    """Create an empty file that only its owner can read (it will hold personal data)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{path} already exists; it has not been touched.") from None
    except OSError as exc:
        raise BackupError(f"Cannot create {path}: {exc.strerror or exc}.") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
