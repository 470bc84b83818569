"""List the records whose retention period has ended: what the DSL should review."""

from __future__ import annotations

import argparse
import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from compliance.retention import due_for_review, rules


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "List the records due for review under the retention rules (the visitor log, and "
        "the rules other apps register): one line each with the kind of record, a reference "
        "that names no one and the date its retention period ended, oldest first within each "
        "kind, then a one-line summary. Records under an open legal hold and records whose "
        "disposal has already been asked for are left out. Nothing is changed: disposal is "
        "asked for and approved on the DSL's retention page."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            type=_date,
            metavar="YYYY-MM-DD",
            help="review as on this date instead of today (e.g. to see what falls due soon)",
        )

    def handle(self, *args, today: datetime.date | None, **options):
        today = today or timezone.localdate()
        items = due_for_review(today=today)
        for item in items:
            self.stdout.write(f"{item.rule.label}\t{item.reference}\tdue {item.due.isoformat()}")
        by_rule = {rule.label: 0 for rule in rules()}
        for item in items:
            by_rule[item.rule.label] += 1
        if not items:
            self.stdout.write(f"No records are due for review on {today.isoformat()}.")
            return
        counts = ", ".join(f"{label}: {n}" for label, n in by_rule.items() if n)
        noun = "record is" if len(items) == 1 else "records are"
        self.stdout.write(
            f"{len(items)} {noun} due for review on {today.isoformat()} ({counts}); "
            "nothing was changed."
        )
