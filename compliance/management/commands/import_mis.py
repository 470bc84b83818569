"""Load learners or staff from a CSV export of the school's MIS."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance.importers import ImportKind, run_import
from compliance.models import User


class Command(BaseCommand):
    help = (
        "Import learners (with their class and parents/carers) or staff from a CSV export "
        "of the school's MIS; the columns are described in docs/import-format.md. Rows are "
        "matched on the UPN (learners) or staff ID (staff): existing records are updated, "
        "others created. The file is imported whole or not at all: if any row has a problem, "
        "every problem is listed with its line number, nothing is saved and the command "
        "exits with status 1. --dry-run checks the file and saves nothing. Staff imports "
        "never create logins."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the CSV file (UTF-8, header row first)")
        parser.add_argument(
            "--kind",
            required=True,
            choices=ImportKind.values,
            help="what the file holds: learners or staff",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report what would change, without saving anything",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="the login to name as the importer in each record's history",
        )

    def handle(self, *args, path: Path, kind: str, dry_run: bool, user: str | None, **options):
        importer = None
        if user:
            try:
                importer = User.objects.get(username=user)
            except User.DoesNotExist:
                raise CommandError(f"There is no login with the username {user!r}.") from None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None

        result = run_import(kind=kind, rows_or_file=data, dry_run=dry_run, user=importer)
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(result.summary)
        self.stdout.write(result.summary)
