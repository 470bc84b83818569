"""Links on a community record's page to what higher apps hold about it.

A learner's page links to their chronology (incidents) and exemptions (devices), but
compliance must not import those apps: they register a link here when they start, and
the record's page shows the ones the user may follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model


@dataclass(frozen=True)
class RecordLink:
    model: type[Model]
    label: str
    url: Callable[[Model], str]
    visible: Callable[[object, Model], bool]
    order: int = 100


_LINKS: list[RecordLink] = []


def register_record_link(link: RecordLink) -> None:
    if link not in _LINKS:
        _LINKS.append(link)


def links_for(user, record: Model) -> list[dict]:
    found = [
        link for link in _LINKS if isinstance(record, link.model) and link.visible(user, record)
    ]
    found.sort(key=lambda link: (link.order, link.label))
    return [{"label": link.label, "url": link.url(record)} for link in found]
