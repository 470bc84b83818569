"""Incidents' sections of the governors' annual report (registered with compliance).

Counts by area of risk (KCSIE's 4 Cs: content, contact, conduct, commerce), category,
term, location and outcome; searches and referrals. No learner, parent,
staff member or visitor is named; compliance.reports suppresses small counts when it renders.
"""

from __future__ import annotations

import datetime

from django.db.models import Count
from django.db.models.functions import ExtractMonth

from compliance.reports import TERM_MONTHS, TERMS, ReportSection, register_report_section
from incidents.models import RISK_AREA, Category, Incident, Referral, RiskArea, Search


def _in_year(start: datetime.date, end: datetime.date):
    return Incident.objects.filter(occurred_at__date__gte=start, occurred_at__date__lte=end)


def _month_to_term() -> dict[int, str]:
    return {month: term for term, months in TERM_MONTHS.items() for month in months}


def build_incidents(start: datetime.date, end: datetime.date) -> dict:
    incidents = _in_year(start, end)
    by_category = dict(incidents.values_list("category").annotate(n=Count("pk")))
    by_status = dict(incidents.values_list("status").annotate(n=Count("pk")))
    by_location = list(
        incidents.values_list("location__name").annotate(n=Count("pk")).order_by("location__name")
    )
    by_month = incidents.annotate(month=ExtractMonth("occurred_at")).values_list("month")
    terms = dict.fromkeys(TERMS, 0)
    month_to_term = _month_to_term()
    for month, n in by_month.annotate(n=Count("pk")).order_by("month"):
        terms[month_to_term[month]] += n
    by_area = dict.fromkeys(RiskArea, 0)
    for category, n in by_category.items():
        by_area[RISK_AREA.get(category, RiskArea.OTHER)] += n
    return {
        "figures": [("Incidents in the year", incidents.count())],
        "tables": [
            {
                "title": "Incidents by area of risk online (the 4 Cs in KCSIE)",
                "columns": ["Area of risk", "Incidents"],
                "rows": [[area.label.partition(":")[0], n] for area, n in by_area.items()],
                "chart": True,
            },
            {
                "title": "Incidents by category",
                "columns": ["Category", "Incidents"],
                "rows": [
                    [c.label, by_category.get(c.value, 0)]
                    for c in Category
                    if by_category.get(c.value)
                ],
                "chart": True,
            },
            {
                "title": "Incidents by term",
                "columns": ["Term", "Incidents"],
                "rows": [[term, n] for term, n in terms.items()],
                "chart": True,
            },
            {
                "title": "Incidents by location",
                "columns": ["Location", "Incidents"],
                "rows": [[name, n] for name, n in by_location],
                "chart": True,
            },
            {
                "title": "Incidents by outcome (where each stands now)",
                "columns": ["Outcome", "Incidents"],
                "rows": [[s.label, by_status.get(s.value, 0)] for s in Incident.Status],
                "chart": False,
            },
        ],
    }


def build_searches(start: datetime.date, end: datetime.date) -> dict:
    searches = Search.objects.filter(searched_at__date__gte=start, searched_at__date__lte=end)
    by_outcome = dict(searches.values_list("outcome").annotate(n=Count("pk")))
    return {
        "figures": [
            ("Device searches", searches.count()),
            (
                "With the consent of the learner",
                searches.filter(consent_by=Search.ConsentBy.LEARNER).count(),
            ),
            (
                "With the consent of a parent or carer",
                searches.filter(consent_by=Search.ConsentBy.PARENT_CARER).count(),
            ),
            (
                "With a second member of staff as witness",
                searches.filter(second_staff__isnull=False).count(),
            ),
            ("Where something was found", searches.filter(found_nothing=False).count()),
        ],
        "tables": [
            {
                "title": "Searches by outcome",
                "columns": ["Outcome", "Searches"],
                "rows": [[o.label, by_outcome.get(o.value, 0)] for o in Search.Outcome],
                "chart": False,
            }
        ],
    }


def build_referrals(start: datetime.date, end: datetime.date) -> dict:
    referrals = Referral.objects.filter(made_at__date__gte=start, made_at__date__lte=end)
    by_agency = dict(referrals.values_list("agency").annotate(n=Count("pk")))
    return {
        "figures": [("Referrals and advice sought", referrals.count())],
        "tables": [
            {
                "title": "Referrals by agency",
                "columns": ["Agency", "Referrals"],
                "rows": [[a.label, by_agency.get(a.value, 0)] for a in Referral.Agency],
                "chart": True,
            }
        ],
    }


def register() -> None:
    register_report_section(ReportSection("incidents", "Incidents", 40, build_incidents))
    register_report_section(ReportSection("searches", "Device searches", 42, build_searches))
    register_report_section(ReportSection("referrals", "Referrals", 44, build_referrals))
