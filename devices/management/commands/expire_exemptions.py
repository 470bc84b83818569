from django.core.management.base import BaseCommand
from django.utils import timezone

from devices.services import exemptions_expire


class Command(BaseCommand):
    help = (
        "Mark active exemptions whose end date has passed as expired (run daily by cron, "
        "after midnight). Use is permitted only while an exemption is active and in its "
        "dates, so this keeps the records in step; nothing else changes."
    )

    def handle(self, *args, **options) -> None:
        count = exemptions_expire(today=timezone.localdate())
        self.stdout.write(f"{count} exemption{'s' if count != 1 else ''} expired.")
