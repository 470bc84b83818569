"""Devices' sections of the inspection evidence pack (compliance.evidence): the daily
hand-in by class and by week, confiscations, visitors briefed at reception, and the
exemptions in force. Counts by class, week and kind: no child is named.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from compliance.evidence import EvidenceSection, Part, register_evidence_section
from compliance.models import School
from devices.models import Exemption, HandIn
from devices.report import (
    build_confiscations,
    build_visitors,
    exemptions_in_force_by_reason,
    register_exceptions_by_class,
    register_exceptions_by_week,
)

NOT_SWITCHED_OFF = Q(switched_off=False)
UNCOLLECTED = Q(collected_at__isnull=True)


def _hand_ins(start: datetime.date, end: datetime.date):
    return HandIn.objects.filter(day__gte=start, day__lte=end)


def _counted(grouped):
    """Per group: school days, devices handed in, not switched off, left uncollected."""
    return grouped.annotate(
        days=Count("day", distinct=True),
        handed_in=Count("pk"),
        not_off=Count("pk", filter=NOT_SWITCHED_OFF),
        uncollected=Count("pk", filter=UNCOLLECTED),
    )


def build_hand_in_by_class(start: datetime.date, end: datetime.date) -> dict:
    hand_ins = _hand_ins(start, end)
    rows = _counted(hand_ins.values_list("learner__form_class__name")).order_by(
        "learner__form_class__name"
    )
    return {
        "figures": [
            ("School days with the register kept", hand_ins.values("day").distinct().count()),
            ("Devices handed in", hand_ins.count()),
        ],
        "tables": [
            {
                "title": "The daily hand-in, by class",
                "columns": [
                    "Class",
                    "Days with devices handed in",
                    "Devices handed in",
                    "Not switched off",
                    "Left uncollected",
                ],
                "rows": [[name or "No class", *counts] for name, *counts in rows],
            }
        ],
    }


def build_hand_in_by_week(start: datetime.date, end: datetime.date) -> dict:
    rows = _counted(
        _hand_ins(start, end).annotate(week=TruncWeek("day")).values_list("week")
    ).order_by("week")
    return {
        "tables": [
            {
                "title": "The daily hand-in, week by week",
                "columns": [
                    "Week beginning",
                    "School days",
                    "Devices handed in",
                    "Not switched off",
                    "Left uncollected",
                ],
                "rows": [[f"{week:%d/%m/%Y}", *counts] for week, *counts in rows],
            }
        ],
    }


def build_register_exceptions(start: datetime.date, end: datetime.date) -> dict:
    """Where phones are kept in lockers or pouches, or not brought at all, the register
    records the exceptions: by class and week by week."""
    school = School.current()
    approach = school.get_phone_approach_display() if school else "not set"
    by_class = register_exceptions_by_class(start, end)
    return {
        "figures": [
            ("The school's approach to pupils' phones", approach),
            ("Exceptions recorded on the register", sum(row[1] for row in by_class)),
        ],
        "tables": [
            {
                "title": "Exceptions by class",
                "columns": ["Class", "Exceptions", "School days with one"],
                "rows": by_class,
            },
            {
                "title": "Exceptions week by week",
                "columns": ["Week beginning", "Exceptions"],
                "rows": register_exceptions_by_week(start, end),
            },
        ],
    }


def build_exemptions_in_force(start: datetime.date, end: datetime.date) -> dict:
    """Exemptions active on the last day of the period, by kind (small counts hidden: a
    reason for one learner could point to them)."""
    in_force = Exemption.objects.filter(
        status=Exemption.Status.ACTIVE, starts__lte=end, ends__gte=end
    )
    by_kind = dict(in_force.values_list("kind").annotate(n=Count("pk")))
    granted = Exemption.objects.filter(decided_at__date__gte=start, decided_at__date__lte=end)
    return {
        "figures": [
            (f"Exemptions in force on {end:%-d %B %Y}", in_force.count()),
            ("Exemptions decided by the headteacher in the period", granted.count()),
            (
                "Of which refused",
                granted.filter(status=Exemption.Status.REFUSED).count(),
            ),
        ],
        "tables": [
            {
                "title": "Exemptions in force, by kind",
                "columns": ["Kind", "Exemptions"],
                "rows": [[k.label, by_kind.get(k.value, 0)] for k in Exemption.Kind],
                "suppress": True,
            },
            {
                "title": "Learners' exemptions in force, by the guidance's reason",
                "columns": ["Reason", "Exemptions"],
                "rows": exemptions_in_force_by_reason(end),
                "suppress": True,
            },
        ],
    }


def register() -> None:
    for section in (
        EvidenceSection(
            "visitors", "Visitors briefed at reception", Part.COMMUNICATED, 40, build_visitors
        ),
        EvidenceSection(
            "hand_in_class", "Pupils' phones: by class", Part.FOLLOWED, 10, build_hand_in_by_class
        ),
        EvidenceSection(
            "hand_in_week", "Pupils' phones: by week", Part.FOLLOWED, 11, build_hand_in_by_week
        ),
        EvidenceSection(
            "register_exceptions",
            "Pupils' phones: exceptions recorded",
            Part.FOLLOWED,
            5,
            build_register_exceptions,
        ),
        EvidenceSection("confiscations", "Confiscations", Part.FOLLOWED, 30, build_confiscations),
        EvidenceSection(
            "exemptions",
            "Exemptions in force",
            Part.EXEMPTIONS,
            10,
            build_exemptions_in_force,
        ),
    ):
        register_evidence_section(section)
