"""Back up the whole database to a file, with a manifest of every table's row count."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from compliance.backups import BackupError, backup_create, history_rows, read_manifest


class Command(BaseCommand):
    help = (
        "Back up the whole database: every record and every history row. On SQLite the "
        "live database file is copied with SQLite's online backup API (safe while the app "
        "runs) to vrps-YYYYmmdd-HHMMSS.sqlite3; on PostgreSQL pg_dump writes "
        "vrps-YYYYmmdd-HHMMSS.dump (custom format; pg_dump must be on the PATH). Beside it "
        "goes <file>.json, a manifest with the row count of every table, the migration "
        "state and a checksum, which `restore` uses to check its work. Files go to "
        "BACKUP_DIR (default: backups/ in the project), created readable by this user "
        "only. The backup holds personal data: keep it encrypted and off-site as the "
        "school's data protection policy requires."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--destination",
            type=Path,
            metavar="DIR",
            help="the folder to write into instead of BACKUP_DIR (created if missing)",
        )

    def handle(self, *args, destination: Path | None, **options):
        try:
            path = backup_create(destination=destination)
        except (BackupError, DatabaseError) as exc:
            raise CommandError(f"No backup was made: {exc}") from None
        tables = read_manifest(path)["tables"]
        if options["verbosity"] >= 2:
            for table, count in tables.items():
                self.stdout.write(f"{table}: {count}")
        self.stdout.write(
            f"Backed up {len(tables)} tables, {sum(tables.values())} rows "
            f"({history_rows(tables)} of them history) to {path}."
        )
