"""The inspection evidence pack: one page and one PDF for the headteacher.

From April 2026 inspectors ask, at every inspection, how the phone policy is communicated
and whether staff and pupils follow it consistently all day. The pack answers with the
school's own records for a period (the school year so far, by default), in four parts:
how the policy is communicated; how consistently it is followed; the exemptions in force
and why; and filtering and monitoring. It names no child: counts by class, week, category
and place; a table whose counts could point to one child (exemptions by reason) shows any
count from 1 to 4 as "fewer than 5", as the governors' report does.

Each app adds its sections here from its AppConfig.ready() (compliance must not import
devices or incidents): `register_evidence_section(EvidenceSection(...))`. A section's
`build(start, end)` returns the same shape as a governors' report section: "figures"
(label, value) and "tables" (title, columns, rows; `"suppress": True` to hide small counts).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from compliance import guidance
from compliance.models import PolicyCommunication
from compliance.reports import (
    PresentedSection,
    build_acknowledgements,
    build_filtering,
    build_training,
    suppress,
)
from compliance.review_services import communications_by_audience
from compliance.selectors import current_policy


class Part:
    """The four questions the pack answers, in the order it answers them."""

    COMMUNICATED = "How the policy is communicated"
    FOLLOWED = "How consistently it is followed"
    EXEMPTIONS = "Exemptions in force"
    FILTERING = "Filtering and monitoring"

    ORDER = (COMMUNICATED, FOLLOWED, EXEMPTIONS, FILTERING)


@dataclass(frozen=True)
class EvidenceSection:
    key: str
    title: str
    part: str  # one of Part.ORDER
    order: int
    build: Callable[[datetime.date, datetime.date], dict]


_SECTIONS: dict[str, EvidenceSection] = {}


def register_evidence_section(section: EvidenceSection) -> None:
    if section.part not in Part.ORDER:
        raise ValueError(f"Unknown part of the evidence pack: {section.part}")
    _SECTIONS[section.key] = section


def evidence_sections() -> list[EvidenceSection]:
    return sorted(_SECTIONS.values(), key=lambda s: (Part.ORDER.index(s.part), s.order, s.key))


def school_year_so_far(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """From 1 September of the school year `today` falls in, to `today`."""
    year = today.year if today.month >= 9 else today.year - 1
    return datetime.date(year, 9, 1), today


def _present(section: EvidenceSection, built: dict) -> PresentedSection:
    tables = []
    for table in built.get("tables", []):
        rows = table["rows"]
        if table.get("suppress"):
            rows = [[row[0], *(suppress(value) for value in row[1:])] for row in rows]
        tables.append({**table, "rows": rows})
    return PresentedSection(
        key=section.key,
        title=section.title,
        figures=list(built.get("figures", [])),
        tables=tables,
        text=built.get("text", ""),
    )


@dataclass
class EvidencePart:
    title: str
    sections: list[PresentedSection]


def build_pack(start: datetime.date, end: datetime.date) -> list[EvidencePart]:
    """Every registered section for the period, grouped by the question it answers."""
    parts = {title: EvidencePart(title, []) for title in Part.ORDER}
    for section in evidence_sections():
        parts[section.part].sections.append(_present(section, section.build(start, end)))
    return [part for part in parts.values() if part.sections]


# Compliance's own sections ---------------------------------------------------------------


def build_policy(start: datetime.date, end: datetime.date) -> dict:
    """The version in force, the guidance it follows, newer guidance (a reason to review),
    and when it was told to staff, pupils and parents, and how."""
    policy = current_policy()
    if policy is None:
        return {"figures": [("Policy version in force", "none recorded")]}
    figures = [
        ("Policy version in force", policy.number),
        ("Adopted", f"{policy.adopted:%-d %B %Y}" if policy.adopted else "not yet"),
        ("Next review", f"{policy.next_review:%-d %B %Y}"),
        ("Review overdue", "yes" if policy.next_review < timezone.localdate() else "no"),
    ]
    for kind, edition in guidance.followed(policy):
        figures.append((f"Follows: {kind.label}", edition.label if edition else "not stated"))
    newer = guidance.newer_guidance(policy)
    figures.append(
        (
            "Newer guidance to review against",
            "; ".join(e.label for e in newer) if newer else "none",
        )
    )
    told = communications_by_audience(policy)
    rows = []
    for audience in PolicyCommunication.Audience:
        communications = told.get(audience.value, [])
        rows.append(
            [
                audience.label,
                "; ".join(
                    f"{c.communicated_on:%d/%m/%Y} ({c.get_method_display().lower()})"
                    for c in communications
                )
                or "not yet recorded",
            ]
        )
    return {
        "figures": figures,
        "tables": [
            {
                "title": f"How version {policy.number} was communicated",
                "columns": ["Audience", "When and how"],
                "rows": rows,
            }
        ],
    }


def build_filtering_evidence(start: datetime.date, end: datetime.date) -> dict:
    """The governors' report's filtering and monitoring counts, small counts hidden."""
    built = build_filtering(start, end)
    return {**built, "tables": [{**t, "suppress": True} for t in built.get("tables", [])]}


def register() -> None:
    """Compliance's sections of the pack, and the way in from the dashboard (from
    ComplianceConfig.ready)."""
    from compliance.access import has_role
    from compliance.dashboard import Panel, register_panel
    from compliance.roles import SENIOR

    register_panel(
        Panel(
            key="evidence",
            title="Inspection evidence",
            template="compliance/panels/evidence.html",
            visible=lambda user: has_role(user, *SENIOR),
            order=95,
        )
    )
    for section in (
        EvidenceSection("policy", "The policy in force", Part.COMMUNICATED, 10, build_policy),
        EvidenceSection(
            "acknowledgements",
            "Staff who have read and acknowledged it",
            Part.COMMUNICATED,
            20,
            build_acknowledgements,
        ),
        EvidenceSection("training", "Staff training", Part.COMMUNICATED, 30, build_training),
        EvidenceSection(
            "filtering",
            "Filtering and monitoring",
            Part.FILTERING,
            10,
            build_filtering_evidence,
        ),
    ):
        register_evidence_section(section)
