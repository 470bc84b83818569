"""Devices' daily reminders (compliance.reminders; registered in DevicesConfig.ready):
exemptions ending soon, agreements still waiting for signatures, devices handed in and
never collected. Counts and links only: no one is named in an email.
"""

from __future__ import annotations

import datetime

from compliance.reminders import Reminder, link, plural, register_reminder, to_roles
from compliance.roles import Role
from devices.models import Agreement, Exemption, HandIn

ENDING_WITHIN_DAYS = 7


def _lines(n: int, text: str) -> list[str]:
    return [text] if n else []


def _exemptions_ending(today: datetime.date) -> dict:
    soon = today + datetime.timedelta(days=ENDING_WITHIN_DAYS)
    n = Exemption.objects.filter(
        status=Exemption.Status.ACTIVE, ends__gte=today, ends__lte=soon
    ).count()
    text = (
        f"{plural(n, 'exemption')} ending within {ENDING_WITHIN_DAYS} days: "
        f"{link('devices:exemption_list', query='status=active')}"
    )
    return to_roles((Role.HEADTEACHER,), _lines(n, text))


def _agreements_awaiting(today: datetime.date) -> dict:
    """An exemption's agreement waits for the headteacher and those who sign it; a
    visitor's, from a visit that has ended, for the office to enter the paper copy."""
    exemptions = Agreement.objects.filter(
        status=Agreement.Status.AWAITING_SIGNATURES, exemption__isnull=False
    ).count()
    visitors = Agreement.objects.filter(
        status=Agreement.Status.AWAITING_SIGNATURES,
        visitor_record__visit__left__date__lt=today,
    ).count()
    head = to_roles(
        (Role.HEADTEACHER,),
        _lines(
            exemptions,
            f"{plural(exemptions, 'exemption agreement')} awaiting signatures: "
            f"{link('devices:exemption_list', query='status=issued')}",
        ),
    )
    office = to_roles(
        (Role.OFFICE,),
        _lines(
            visitors,
            f"{plural(visitors, 'visitor device agreement')} from earlier visits never signed: "
            f"{link('devices:reception_export')}",
        ),
    )
    for pk, lines in office.items():
        head.setdefault(pk, []).extend(lines)
    return head


def _devices_not_collected(today: datetime.date) -> dict:
    n = HandIn.objects.filter(collected_at__isnull=True, day__lt=today).count()
    text = (
        f"{plural(n, 'handed-in device')} not collected on an earlier day: "
        f"{link('devices:handin_uncollected')}"
    )
    return to_roles((Role.DSL, Role.HEADTEACHER), _lines(n, text))


def register() -> None:
    for reminder in (
        Reminder("exemptions_ending", "Exemptions", _exemptions_ending, order=50),
        Reminder("agreements_awaiting", "Agreements", _agreements_awaiting, order=51),
        Reminder("devices_not_collected", "Daily hand-in", _devices_not_collected, order=52),
    ):
        register_reminder(reminder)
