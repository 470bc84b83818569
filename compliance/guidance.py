"""The national guidance a version of the policy follows, and which editions are newer.

A small reference list kept in code (not a table): editions change once a year at most, a
new one is a reviewed commit (and a migration, since the policy version's fields offer them
as choices), and every school on this product reads the same list. Dates are the DfE's
publication dates on GOV.UK (KCSIE is published for information in late spring or summer
and comes into force on 1 September).

"Newer than a version", per kind of guidance: an edition published after the one the
version says it follows; when the version names none of that kind, every edition published
after the date the version was written.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models


class GuidanceKind(models.TextChoices):
    KCSIE = "kcsie", "Keeping children safe in education"
    PHONES = "phones", "DfE Mobile phones in schools"
    FILTERING = "filtering", "DfE Filtering and monitoring standards"


@dataclass(frozen=True)
class Edition:
    kind: GuidanceKind
    key: str  # what a policy version stores
    title: str
    published: datetime.date

    @property
    def label(self) -> str:
        return f"{self.title} (published {self.published.day} {self.published:%B %Y})"


EDITIONS: tuple[Edition, ...] = (
    Edition(GuidanceKind.KCSIE, "2021", "KCSIE 2021", datetime.date(2021, 7, 6)),
    Edition(GuidanceKind.KCSIE, "2022", "KCSIE 2022", datetime.date(2022, 5, 17)),
    Edition(GuidanceKind.KCSIE, "2023", "KCSIE 2023", datetime.date(2023, 6, 26)),
    Edition(GuidanceKind.KCSIE, "2024", "KCSIE 2024", datetime.date(2024, 5, 24)),
    Edition(GuidanceKind.KCSIE, "2025", "KCSIE 2025", datetime.date(2025, 7, 7)),
    Edition(
        GuidanceKind.PHONES,
        "2024-02",
        "Mobile phones in schools, February 2024",
        datetime.date(2024, 2, 19),
    ),
    Edition(
        GuidanceKind.PHONES,
        "2026-01",
        "Mobile phones in schools, January 2026",
        datetime.date(2026, 1, 20),
    ),
    Edition(
        GuidanceKind.FILTERING,
        "2023",
        "Filtering and monitoring standards, 2023",
        datetime.date(2023, 3, 22),
    ),
)


def editions_of(kind: GuidanceKind) -> list[Edition]:
    return sorted((e for e in EDITIONS if e.kind == kind), key=lambda e: e.published)


def choices(kind: GuidanceKind) -> list[tuple[str, str]]:
    """The editions of one kind as field choices, oldest first."""
    return [(e.key, e.title) for e in editions_of(kind)]


def edition(kind: GuidanceKind, key: str) -> Edition | None:
    for found in EDITIONS:
        if found.kind == kind and found.key == key:
            return found
    return None


def latest(kind: GuidanceKind) -> Edition:
    return editions_of(kind)[-1]


# Which field of PolicyVersion names the edition of each kind it follows.
VERSION_FIELDS: dict[GuidanceKind, str] = {
    GuidanceKind.KCSIE: "follows_kcsie",
    GuidanceKind.PHONES: "follows_phone_guidance",
    GuidanceKind.FILTERING: "follows_filtering_standards",
}


def followed(version) -> list[tuple[GuidanceKind, Edition | None]]:
    """For each kind: the edition the version says it follows, or None."""
    return [
        (kind, edition(kind, getattr(version, name) or "")) for kind, name in VERSION_FIELDS.items()
    ]


def newer_guidance(version) -> list[Edition]:
    """Editions newer than those `version` follows: a reason to review it. Oldest first.

    Empty when there is no version (nothing to compare) or it follows the newest of each.
    """
    if version is None:
        return []
    newer: list[Edition] = []
    for kind, followed_edition in followed(version):
        since = followed_edition.published if followed_edition is not None else version.date_written
        newer += [e for e in editions_of(kind) if e.published > since]
    return sorted(newer, key=lambda e: e.published)
