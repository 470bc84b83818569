"""Devices' sections of the governors' annual report (registered with compliance).

Counts only: no learner, staff member or visitor is named. compliance.reports suppresses
small counts when it renders, so the sections here return the plain numbers.
"""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.db.models.functions import TruncWeek

from compliance.models import Visit
from compliance.reports import ReportSection, register_report_section
from devices.models import (
    CallHome,
    Confiscation,
    Exemption,
    HandIn,
    HandInException,
    VisitorDeviceAgreement,
)

# how the governors' report groups an exemption's state
EXEMPTION_GROUPS = {
    "Active": (Exemption.Status.ACTIVE,),
    "Ended": (Exemption.Status.EXPIRED, Exemption.Status.REVOKED),
    "Refused": (Exemption.Status.REFUSED,),
    "In progress": (
        Exemption.Status.REQUESTED,
        Exemption.Status.APPROVED,
        Exemption.Status.AGREEMENT_ISSUED,
    ),
}


def build_exemptions(start: datetime.date, end: datetime.date) -> dict:
    """Exemptions requested in the year, by kind and by where they stand now."""
    counts = {
        (row["kind"], row["status"]): row["n"]
        for row in Exemption.objects.filter(
            requested_at__date__gte=start, requested_at__date__lte=end
        )
        .values("kind", "status")
        .annotate(n=Count("pk"))
    }
    rows = []
    for kind in Exemption.Kind:
        rows.append(
            [kind.label]
            + [
                sum(counts.get((kind.value, status.value), 0) for status in statuses)
                for statuses in EXEMPTION_GROUPS.values()
            ]
        )
    return {
        "figures": [("Exemptions requested in the year", sum(counts.values()))],
        "tables": [
            {
                "title": "Exemptions by kind",
                "columns": ["Kind", *EXEMPTION_GROUPS],
                "rows": rows,
                "chart": False,
            },
            {
                "title": "Learners' exemptions by reason",
                "columns": ["Reason", *EXEMPTION_GROUPS],
                "rows": exemptions_by_reason(start, end),
                "chart": False,
            },
        ],
    }


def exemptions_by_reason(start: datetime.date, end: datetime.date) -> list[list]:
    """Learners' exemptions asked for in the period, by the guidance's reason and where each
    stands now: counts only (one query). Those asked for before reasons were recorded are
    "Not recorded"."""
    counts = {
        (row["reason_kind"], row["status"]): row["n"]
        for row in Exemption.objects.filter(
            kind=Exemption.Kind.LEARNER_EXCEPTIONAL,
            requested_at__date__gte=start,
            requested_at__date__lte=end,
        )
        .values("reason_kind", "status")
        .annotate(n=Count("pk"))
        .order_by()
    }
    reasons = [(r.value, r.label) for r in Exemption.ReasonKind] + [("", "Not recorded")]
    return [
        [label]
        + [
            sum(counts.get((value, status.value), 0) for status in statuses)
            for statuses in EXEMPTION_GROUPS.values()
        ]
        for value, label in reasons
    ]


def exemptions_in_force_by_reason(day: datetime.date) -> list[list]:
    """Learners' exemptions in force on `day`, by the guidance's reason: counts only, for
    the evidence pack (which hides small counts)."""
    counts = dict(
        Exemption.objects.filter(
            kind=Exemption.Kind.LEARNER_EXCEPTIONAL,
            status=Exemption.Status.ACTIVE,
            starts__lte=day,
            ends__gte=day,
        )
        .values_list("reason_kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    reasons = [(r.value, r.label) for r in Exemption.ReasonKind] + [("", "Not recorded")]
    return [[label, counts.get(value, 0)] for value, label in reasons]


def register_exceptions_by_class(start: datetime.date, end: datetime.date) -> list[list]:
    """The register's exceptions in the period by class: [class, exceptions, school days
    with one]. One query; for the evidence pack's "followed all day"."""
    rows = (
        HandInException.objects.filter(day__gte=start, day__lte=end)
        .values_list("learner__form_class__name")
        .annotate(n=Count("pk"), days=Count("day", distinct=True))
        .order_by("learner__form_class__name")
    )
    return [[name or "No class", n, days] for name, n, days in rows]


def register_exceptions_by_week(start: datetime.date, end: datetime.date) -> list[list]:
    """The register's exceptions in the period week by week: [week beginning, exceptions]."""
    rows = (
        HandInException.objects.filter(day__gte=start, day__lte=end)
        .annotate(week=TruncWeek("day"))
        .values_list("week")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    return [[f"{week:%d/%m/%Y}", n] for week, n in rows]


def build_hand_in(start: datetime.date, end: datetime.date) -> dict:
    hand_ins = HandIn.objects.filter(day__gte=start, day__lte=end)
    uncollected = hand_ins.filter(collected_at__isnull=True)
    exceptions = dict(
        HandInException.objects.filter(day__gte=start, day__lte=end)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "figures": [
            ("School days with devices handed in", hand_ins.values("day").distinct().count()),
            ("Devices handed in", hand_ins.count()),
            ("Devices handed in not switched off", hand_ins.filter(switched_off=False).count()),
            ("Days with uncollected devices", uncollected.values("day").distinct().count()),
            ("Devices left uncollected", uncollected.count()),
            ("Exceptions recorded on the register", sum(exceptions.values())),
        ],
        "tables": [
            {
                "title": "Register exceptions by what happened",
                "columns": ["What happened", "Exceptions"],
                "rows": [
                    [kind.label, exceptions.get(kind.value, 0)] for kind in HandInException.Kind
                ],
                "chart": False,
            }
        ],
    }


def build_confiscations(start: datetime.date, end: datetime.date) -> dict:
    taken = Confiscation.objects.filter(taken_at__date__gte=start, taken_at__date__lte=end)
    by_status = dict(taken.values_list("status").annotate(n=Count("pk")))
    by_category = (
        taken.values_list("category__name").annotate(n=Count("pk")).order_by("category__name")
    )
    return {
        "figures": [("Devices confiscated in the year", taken.count())],
        "tables": [
            {
                "title": "Confiscations by where the device is now",
                "columns": ["Status", "Devices"],
                "rows": [
                    [status.label, by_status.get(status.value, 0)] for status in Confiscation.Status
                ],
                "chart": True,
            },
            {
                "title": "Confiscations by kind of device",
                "columns": ["Device", "Devices"],
                "rows": [[name, n] for name, n in by_category],
                "chart": False,
            },
        ],
    }


def build_visitors(start: datetime.date, end: datetime.date) -> dict:
    """Section 7 at reception: visits, the briefing, device use agreed, use with learners."""
    visits = Visit.objects.filter(arrived__date__gte=start, arrived__date__lte=end)
    records = VisitorDeviceAgreement.objects.filter(visit__in=visits)
    by_use = dict(records.values_list("use").annotate(n=Count("pk")))
    signed = records.filter(agreement__status="signed").count()
    calls = CallHome.objects.filter(called_at__date__gte=start, called_at__date__lte=end)
    by_direction = dict(calls.values_list("direction").annotate(n=Count("pk")))
    return {
        "figures": [
            ("Visits", visits.count()),
            ("Visits with the verbal briefing and a device agreement recorded", records.count()),
            ("Device agreements signed", signed),
            ("Visits with device use agreed for a specific purpose", by_use.get("agreed", 0)),
            (
                "Visits with device use with learners, under the headteacher's approval",
                records.filter(with_learners=True).count(),
            ),
            ("Calls home made for learners", by_direction.get(CallHome.Direction.TO_HOME, 0)),
            (
                "Calls from home passed on by the office",
                by_direction.get(CallHome.Direction.FROM_HOME, 0),
            ),
        ],
    }


def register() -> None:
    register_report_section(ReportSection("exemptions", "Exemptions", 50, build_exemptions))
    register_report_section(ReportSection("hand_in", "Daily hand-in", 60, build_hand_in))
    register_report_section(
        ReportSection("confiscations", "Confiscations", 70, build_confiscations)
    )
    register_report_section(
        ReportSection("visitors", "Visitors' devices and calls home", 75, build_visitors)
    )
