"""Remove a login's two-step devices, so they set up a new app at their next login."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

security_log = logging.getLogger("vrps.security")


class Command(BaseCommand):
    help = (
        "Remove one login's authenticator app and recovery codes, for someone who has lost "
        "their phone and their recovery codes. At their next login they set up a new app "
        "(with new recovery codes). Check who is asking first (in person, or by calling "
        "them back on a number the school holds): whoever logs in next with the password "
        "chooses the new app. Logged to vrps.security with the user id."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="the login's username, exactly")

    def handle(self, *args, username: str, **options):
        model = get_user_model()
        try:
            user = model.objects.get(**{model.USERNAME_FIELD: username})
        except model.DoesNotExist:
            raise CommandError(f"No login with the username {username!r}.") from None
        with transaction.atomic():
            apps, _ = TOTPDevice.objects.filter(user=user).delete()
            StaticDevice.objects.filter(user=user).delete()
        security_log.warning("two-step reset by command: user_id=%s", user.pk)
        self.stdout.write(
            f"Removed {apps} authenticator app(s) and the recovery codes of {username}; "
            "they will set up a new app at their next login."
        )
