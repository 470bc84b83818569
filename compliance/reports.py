"""The governors' annual report: sections registered by each app, rendered in one place.

Each app registers `ReportSection`s (compliance here, devices and incidents from their own
`report.py`), so compliance counts incidents without importing them. A section's `build`
returns plain counts for one school year:

    {"figures": [(label, value), ...],
     "tables": [{"title": str, "columns": [str, ...], "rows": [[label, value, ...], ...],
                 "chart": bool}],
     "text": str}

Values are ints (counts) or short strings that name no one. Suppression happens once, in
`present()`: every count from 1 to 4 becomes "fewer than 5", whatever the section, before
the page, the PDF or the CSV sees it.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from compliance.models import (
    Acknowledgement,
    ActionPlanItem,
    AnnualReportSummary,
    FilterDecision,
    FilteringReview,
    MonitoringAlert,
    MonitoringCheck,
    PolicyReview,
    PolicyVersion,
    School,
    StaffMember,
    StaffType,
    TrainingSession,
)
from compliance.roles import Role
from compliance.selectors import current_policy

SUPPRESSED = "fewer than 5"
SMALLEST_SHOWN = 5


@dataclass(frozen=True)
class ReportSection:
    key: str
    title: str
    order: int
    build: Callable[[datetime.date, datetime.date], dict]


_SECTIONS: dict[str, ReportSection] = {}


def register_report_section(section: ReportSection) -> None:
    _SECTIONS[section.key] = section


def report_sections() -> list[ReportSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def school_year(year: int) -> tuple[datetime.date, datetime.date]:
    """The school year starting in September of `year`: (1 September, 31 August)."""
    return datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31)


TERMS = ("Autumn", "Spring", "Summer")
TERM_MONTHS = {"Autumn": (9, 10, 11, 12), "Spring": (1, 2, 3), "Summer": (4, 5, 6, 7, 8)}


def term_of(day: datetime.date) -> str:
    """Autumn September to December, Spring January to March, Summer April to August."""
    if day.month >= 9:
        return "Autumn"
    if day.month <= 3:
        return "Spring"
    return "Summer"


def suppress(value):
    """The one place small counts are hidden: 1 to 4 is shown as "fewer than 5"."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALLEST_SHOWN:
        return SUPPRESSED
    return value


@dataclass
class PresentedSection:
    key: str
    title: str
    figures: list[tuple[str, object]]
    tables: list[dict]
    text: str


def build_report(year: int) -> list[dict]:
    """Every registered section's raw counts for the school year (not for display)."""
    start, end = school_year(year)
    return [{"key": s.key, "title": s.title, **s.build(start, end)} for s in report_sections()]


def present(raw: list[dict]) -> list[PresentedSection]:
    """Raw sections, with every count suppressed; this is all any output ever renders."""
    shown = []
    for section in raw:
        tables = []
        for table in section.get("tables", []):
            tables.append(
                {
                    **table,
                    "rows": [
                        [row[0], *(suppress(value) for value in row[1:])] for row in table["rows"]
                    ],
                }
            )
        shown.append(
            PresentedSection(
                key=section["key"],
                title=section["title"],
                figures=[(label, suppress(value)) for label, value in section.get("figures", [])],
                tables=tables,
                text=section.get("text", ""),
            )
        )
    return shown


def report_for(year: int) -> list[PresentedSection]:
    return present(build_report(year))


def report_csv(year: int, sections: list[PresentedSection] | None = None) -> str:
    """One row per figure or table cell: section, table, row, column, value."""
    sections = sections if sections is not None else report_for(year)
    out = io.StringIO()
    writer = csv.writer(out)
    start, end = school_year(year)
    writer.writerow(["section", "table", "row", "column", "value"])
    writer.writerow(["School year", "", "", "", f"{start:%d/%m/%Y} to {end:%d/%m/%Y}"])
    for section in sections:
        for label, value in section.figures:
            writer.writerow([section.title, "", label, "", value])
        for table in section.tables:
            for row in table["rows"]:
                for column, value in zip(table["columns"][1:], row[1:], strict=True):
                    writer.writerow([section.title, table["title"], row[0], column, value])
        if section.text:
            writer.writerow([section.title, "", "Text", "", section.text])
    return out.getvalue()


# Compliance's own sections.


def build_review(start: datetime.date, end: datetime.date) -> dict:
    # the version in force at the end of the year (or now, for the year in progress)
    as_at = min(end, timezone.localdate())
    policy = (
        PolicyVersion.objects.filter(adopted__lte=as_at).order_by("-adopted", "-pk").first()
        or current_policy()
    )
    reviews = list(
        PolicyReview.objects.filter(
            reviewed_at__date__gte=start, reviewed_at__date__lte=end
        ).select_related("new_version")
    )
    figures = []
    if policy is not None:
        figures += [
            ("Version in force", policy.number),
            ("Date written", f"{policy.date_written:%d/%m/%Y}"),
            ("Next review", f"{policy.next_review:%d/%m/%Y}"),
            ("Review overdue", "yes" if policy.next_review < as_at else "no"),
        ]
    figures += [
        ("Reviews in the year", len(reviews)),
        ("Reviews signed off by a governor", sum(1 for r in reviews if r.signed_off)),
    ]
    rows = [
        [
            f"{timezone.localtime(r.reviewed_at):%d/%m/%Y}",
            r.get_trigger_display(),
            r.new_version.number,
            f"{timezone.localtime(r.governor_signed_at):%d/%m/%Y}"
            if r.signed_off
            else "awaiting sign-off",
            f"{r.next_review:%d/%m/%Y}",
        ]
        for r in sorted(reviews, key=lambda r: r.reviewed_at)
    ]
    tables = [
        {
            "title": "Reviews",
            "columns": ["Reviewed", "Trigger", "New version", "Governor sign-off", "Next review"],
            "rows": rows,
            "chart": False,
        }
    ]
    return {"figures": figures, "tables": tables}


def rate(part: int, whole: int) -> str:
    """A percentage that cannot give away a small count: when the part, or the rest, is 1
    to 4, the percentage (with the total beside it) would tell it, so it is not shown."""
    if not whole:
        return "none to count"
    if suppress(part) == SUPPRESSED or suppress(whole - part) == SUPPRESSED:
        return SUPPRESSED
    return f"{round(100 * part / whole)}%"


def threshold_as_at(day: datetime.date) -> PolicyVersion | None:
    """The latest version written by `day` that was a material change (else the first one):
    acknowledging it, or any later version, is acknowledging the policy in force then."""
    written = PolicyVersion.objects.filter(date_written__lte=day)
    return (
        written.filter(material_change=True).order_by("-date_written", "-pk").first()
        or PolicyVersion.objects.order_by("date_written", "pk").first()
    )


def build_acknowledgements(start: datetime.date, end: datetime.date) -> dict:
    """Active staff, by type: how many had acknowledged the policy in force and the AUP by the
    end of the year. The policy counts from the latest version marked as a material change
    (written by the end of the year, or today for the year in progress) onwards."""
    as_at = min(end, timezone.localdate())
    threshold = threshold_as_at(as_at)
    by_end = Q(acknowledgements__acknowledged_at__date__lte=end)
    policy_in_force = by_end & Q(acknowledgements__kind=Acknowledgement.Kind.POLICY)
    if threshold is not None:  # (with no version at all, any acknowledgement counts)
        policy_in_force &= Q(
            acknowledgements__policy_version__date_written__gte=threshold.date_written
        )
    counts = (
        StaffMember.objects.filter(active=True)
        .values("staff_type")
        .annotate(
            total=Count("pk", distinct=True),
            policy=Count("pk", distinct=True, filter=policy_in_force),
            aup=Count(
                "pk",
                distinct=True,
                filter=by_end & Q(acknowledgements__kind=Acknowledgement.Kind.AUP),
            ),
        )
    )
    by_type = {row["staff_type"]: row for row in counts}
    rows = []
    for staff_type in StaffType:
        row = by_type.get(staff_type.value)
        if row is None:
            continue
        rows.append(
            [
                staff_type.label,
                row["total"],
                row["policy"],
                row["total"] - row["policy"],
                rate(row["policy"], row["total"]),
                row["aup"],
                rate(row["aup"], row["total"]),
            ]
        )
    total = sum(row["total"] for row in by_type.values())
    acked = sum(row["policy"] for row in by_type.values())
    aup = sum(row["aup"] for row in by_type.values())
    figures = [
        ("Policy version counted from", threshold.number if threshold else "none"),
        ("Active staff who have acknowledged the policy", rate(acked, total)),
        ("Active staff who have acknowledged the AUP", rate(aup, total)),
    ]
    return {
        "figures": figures,
        "tables": [
            {
                "title": "Acknowledgements by staff type",
                "columns": [
                    "Staff type",
                    "Active staff",
                    "Acknowledged the policy",
                    "Not yet acknowledged",
                    "Policy acknowledgement rate",
                    "Acknowledged the AUP",
                    "AUP acknowledgement rate",
                ],
                "rows": rows,
                "chart": False,
            }
        ],
    }


def build_actions(start: datetime.date, end: datetime.date) -> dict:
    raised = ActionPlanItem.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    done = ActionPlanItem.objects.filter(
        status=ActionPlanItem.Status.DONE,
        completed_at__date__gte=start,
        completed_at__date__lte=end,
    )
    # open at the end of the year: raised by then and not closed by then
    open_at_end = ActionPlanItem.objects.filter(created_at__date__lte=end).filter(
        Q(completed_at__isnull=True) | Q(completed_at__date__gt=end)
    )
    rows = []
    for source in ActionPlanItem.Source:
        rows.append(
            [
                source.label,
                raised.filter(source=source).count(),
                done.filter(source=source).count(),
                open_at_end.filter(source=source).count(),
            ]
        )
    return {
        "figures": [
            ("Actions raised in the year", raised.count()),
            ("Actions done in the year", done.count()),
            ("Actions open at the end of the year", open_at_end.count()),
            ("Open actions past their due date", open_at_end.filter(due__lt=end).count()),
        ],
        "tables": [
            {
                "title": "Actions by where they came from",
                "columns": ["Source", "Raised", "Done", "Open at year end"],
                "rows": rows,
                "chart": False,
            }
        ],
    }


def build_training(start: datetime.date, end: datetime.date) -> dict:
    sessions = TrainingSession.objects.filter(held_on__gte=start, held_on__lte=end)
    attendances = TrainingSession.attendees.through.objects.filter(trainingsession__in=sessions)
    rows = [[term, sessions.filter(held_on__month__in=TERM_MONTHS[term]).count()] for term in TERMS]
    checks = MonitoringCheck.objects.filter(checked_on__gte=start, checked_on__lte=end)
    return {
        "figures": [
            ("Training sessions", sessions.count()),
            ("Attendances", attendances.count()),
            (
                "Staff who attended at least one session",
                attendances.values("staffmember").distinct().count(),
            ),
            ("Monitoring checks of school devices and systems", checks.count()),
        ],
        "tables": [
            {
                "title": "Training sessions by term",
                "columns": ["Term", "Sessions"],
                "rows": rows,
                "chart": True,
            }
        ],
    }


def participant_roles(review, school) -> str:
    """Who took part, as roles, never names: the named senior leader and governor, the DSL,
    and the others by staff type."""
    labels = []
    first = ["the DSL", "the senior leader responsible", "the governor responsible"]
    for person in review.participants.all():
        if school is not None and person.pk == school.filtering_senior_leader_id:
            label = "the senior leader responsible"
        elif school is not None and person.pk == school.filtering_governor_id:
            label = "the governor responsible"
        elif person.user is not None and Role.DSL in person.user.roles:
            label = "the DSL"
        else:
            label = StaffType(person.staff_type).label.lower() + " staff"
            if person.staff_type == StaffType.GOVERNOR:
                label = "a governor"
        if label not in labels:
            labels.append(label)
    labels.sort(key=lambda label: first.index(label) if label in first else len(first))
    if review.other_participants:
        labels.append("people from outside the school")
    return ", ".join(labels) or "not recorded"


def build_filtering(start: datetime.date, end: datetime.date) -> dict:
    """Filtering and monitoring: the annual review (when, who by role, when next), decisions
    to block and allow, and monitoring alerts by outcome. Counts only; no one named."""
    as_at = min(end, timezone.localdate())
    school = School.objects.first()
    last = (
        FilteringReview.objects.filter(reviewed_on__lte=end)
        .prefetch_related("participants__user")
        .order_by("-reviewed_on", "-pk")
        .first()
    )
    reviews = FilteringReview.objects.filter(reviewed_on__gte=start, reviewed_on__lte=end)
    figures = [
        (
            "Senior leader responsible named",
            "yes" if school and school.filtering_senior_leader_id else "no",
        ),
        ("Governor responsible named", "yes" if school and school.filtering_governor_id else "no"),
        ("Annual reviews held in the year", reviews.count()),
    ]
    if last is not None:
        figures += [
            ("Last review", f"{last.reviewed_on:%d/%m/%Y}"),
            ("Who took part in the last review", participant_roles(last, school)),
            ("Next review due", f"{last.next_review:%d/%m/%Y}"),
            ("Review overdue", "yes" if last.next_review < as_at else "no"),
        ]
    else:
        figures.append(("Last review", "none recorded"))
    decisions = (
        FilterDecision.objects.filter(decided_on__gte=start, decided_on__lte=end)
        .values("action", "target")
        .annotate(n=Count("pk"))
    )
    by_decision = {(row["action"], row["target"]): row["n"] for row in decisions}
    decision_rows = [
        [
            action.label,
            *(by_decision.get((action.value, target.value), 0) for target in FilterDecision.Target),
            sum(by_decision.get((action.value, t.value), 0) for t in FilterDecision.Target),
        ]
        for action in FilterDecision.Action
    ]
    alerts = (
        MonitoringAlert.objects.filter(raised_at__date__gte=start, raised_at__date__lte=end)
        .values("status", "outcome")
        .annotate(n=Count("pk"))
    )
    by_outcome = {row["outcome"]: row["n"] for row in alerts if row["status"] == "reviewed"}
    awaiting = sum(row["n"] for row in alerts if row["status"] == "awaiting")
    alert_rows = [
        [outcome.label, by_outcome.get(outcome.value, 0)] for outcome in MonitoringAlert.Outcome
    ]
    alert_rows.append(["Awaiting review", awaiting])
    return {
        "figures": figures,
        "tables": [
            {
                "title": "Decisions to block or allow",
                "columns": ["Decision", "Sites", "Categories", "All"],
                "rows": decision_rows,
                "chart": False,
            },
            {
                "title": "Monitoring alerts by outcome",
                "columns": ["Outcome", "Alerts"],
                "rows": alert_rows,
                "chart": True,
            },
        ],
    }


def build_summary(start: datetime.date, end: datetime.date) -> dict:
    summary = AnnualReportSummary.objects.filter(year_start=start).first()
    return {"text": summary.text if summary else "The DSL has not yet written the summary."}


def register() -> None:
    register_report_section(ReportSection("review", "Policy review", 10, build_review))
    register_report_section(
        ReportSection("acknowledgements", "Acknowledgements", 20, build_acknowledgements)
    )
    register_report_section(
        ReportSection("training", "Training and monitoring", 30, build_training)
    )
    register_report_section(
        ReportSection("filtering", "Filtering and monitoring", 35, build_filtering)
    )
    register_report_section(ReportSection("actions", "Action plan", 80, build_actions))
    register_report_section(
        ReportSection("summary", "The DSL's summary of lessons learnt", 90, build_summary)
    )
