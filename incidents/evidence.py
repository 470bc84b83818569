"""Incidents' sections of the inspection evidence pack (compliance.evidence): breaches by
category and by place, and device searches. Counts only: no one is named.
"""

from __future__ import annotations

from compliance.evidence import EvidenceSection, Part, register_evidence_section
from incidents.report import build_incidents, build_searches


def register() -> None:
    register_evidence_section(
        EvidenceSection(
            "breaches",
            "Breaches and concerns reported",
            Part.FOLLOWED,
            20,
            build_incidents,
        )
    )
    register_evidence_section(
        EvidenceSection("searches", "Device searches", Part.FOLLOWED, 40, build_searches)
    )
