"""Email each login the day's reminders (run once a day by cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from compliance.reminders import reminders, send_reminders


class Command(BaseCommand):
    help = (
        "Email each login what needs their attention today: the policy review due or overdue "
        "(DSL and headteacher; governors once overdue), linked policies past review, overdue "
        "actions (the leads, and each owner), acknowledgements due (each member of staff), "
        "relationship declarations awaiting discussion or re-confirmation, and whatever the "
        "other apps register (exemptions ending, agreements awaiting signatures, devices not "
        "collected, late LADO referrals). One email per login per day, holding counts, "
        "references and links, never a name. Safe to run again: a reminder already sent to a "
        "login today is not sent again. Ends with a one-line summary."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="list which logins would get which reminders; send and record nothing",
        )

    def handle(self, *args, dry_run: bool, **options):
        today = timezone.localdate()
        summary = send_reminders(today=today, dry_run=dry_run, out=self.stdout)
        kinds = ", ".join(r.key for r in reminders())
        self.stdout.write(f"{summary} Reminders registered: {kinds}.")
