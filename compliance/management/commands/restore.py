"""Restore a backup made by `backup` into an empty database and check every table."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from compliance.backups import BackupError, backup_restore, history_rows, sqlite_url


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` (a .sqlite3 or .dump file, with its .json "
        "manifest beside it), then count the rows of every table in the restored database "
        "and stop with an error if any count differs from the manifest. The target is the "
        "database this installation is configured to use (DATABASE_URL) unless "
        "--database-url or --sqlite-file names another. A PostgreSQL target must be empty "
        "(create it with `createdb`); pg_restore must be on the PATH. A SQLite target file "
        "must be missing or empty, unless --force. Afterwards run `manage.py migrate` in "
        "case the backup predates this version of the software."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the backup file (.sqlite3 or .dump)")
        target = parser.add_mutually_exclusive_group()
        target.add_argument(
            "--database-url",
            metavar="URL",
            help="restore into this database, e.g. postgres://user@host/vrps_restored",
        )
        target.add_argument(
            "--sqlite-file",
            type=Path,
            metavar="PATH",
            help="restore a SQLite backup into this file",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace the SQLite target file even if it already holds a database "
            "(PostgreSQL targets must always be empty)",
        )

    def handle(
        self,
        *args,
        path: Path,
        database_url: str | None,
        sqlite_file: Path | None,
        force: bool,
        **options,
    ):
        target = sqlite_url(sqlite_file) if sqlite_file is not None else database_url
        try:
            tables = backup_restore(source=path, target=target, force=force)
        except (BackupError, DatabaseError) as exc:
            raise CommandError(f"Restore failed: {exc}") from None
        if options["verbosity"] >= 1:  # a restore is rare: show the evidence
            for table, count in tables.items():
                self.stdout.write(f"{table}: {count}")
        self.stdout.write(
            f"Restored {path.name}: {len(tables)} tables, {sum(tables.values())} rows "
            f"({history_rows(tables)} of them history), every count matching the manifest."
        )
