"""Incidents' daily reminders (compliance.reminders; registered in IncidentsConfig.ready):
an allegation about staff whose LADO referral is late. By reference only."""

from __future__ import annotations

import datetime

from django.utils import timezone

from compliance.reminders import Reminder, link, register_reminder, to_roles
from compliance.roles import Role
from incidents import services
from incidents.models import Incident, Referral


def _late_lado(today: datetime.date) -> dict:
    """Allegations against staff with no LADO referral a working day on: by reference."""
    now = timezone.now()
    waiting = (
        Incident.objects.filter(staff_allegation=True)
        .exclude(referrals__agency=Referral.Agency.LADO)
        .prefetch_related("referrals")
        .order_by("reported_at", "pk")
    )
    lines = [
        f"LADO referral overdue for {incident.reference}: "
        f"{link('incidents:incident_detail', incident.pk)}"
        for incident in waiting
        if services.lado_overdue(incident, now=now)
    ]
    return to_roles((Role.DSL, Role.HEADTEACHER), lines)


def register() -> None:
    register_reminder(Reminder("lado_late", "LADO referrals", _late_lado, order=60))
