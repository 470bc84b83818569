"""A learner's chronology: every incident they were involved in, every search of their
device, every exemption, confiscation, uncollected device, register exception and call
home, newest first, on one printable page. For the DSL and the deputies (KCSIE: the DSL
keeps a chronology of concerns about a child).

The page first asks which kinds of record the learner has (one query of indexed EXISTS),
then reads one query per kind they have, however many years the school has used the
system (a child seldom has every kind): each kind is capped at its newest `PER_KIND`
rows and the merged list is shown whole (not paginated), so that it prints as one
document. When a kind has more rows than the cap, the page says so and from which date
the list is complete.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance.listing import url_maker
from compliance.models import Learner
from compliance.selectors import rows_exist
from compliance.services import record_access_log
from devices.models import CallHome, Confiscation, Exemption, HandIn, HandInException
from incidents.access import may_see_chronology
from incidents.models import Incident, Involvement, Search

# newest rows read of each kind; a primary-school child rarely comes near it
PER_KIND = 200


class Entry(TypedDict):
    """One line of the chronology. A dict, not an object: a template tries a key before an
    attribute, and each miss costs an exception (hundreds of lines, seven fields each)."""

    kind: str  # the badge
    at: datetime.datetime  # what the list is sorted by
    when: str  # `at` as the page shows it: the date, and the time unless a whole day
    title: str
    details: str
    status: str
    url: str


@dataclass(frozen=True)
class Truncated:
    kind: str
    complete_from: datetime.datetime


@functools.cache
def _labels(model: type[Model], field: str) -> dict:
    """A choice field's labels by value: what `get_<field>_display` reads, once."""
    return dict(model._meta.get_field(field).flatchoices)


def _label(model: type[Model], field: str, value) -> str:
    return str(_labels(model, field).get(value, value))


class _Page:
    """What every line repeats, worked out once a page: the timezone (each line's URL is
    made by `compliance.listing.url_maker`, one `reverse` a kind: a child's chronology may
    run to hundreds of lines)."""

    def __init__(self) -> None:
        self.timezone = timezone.get_current_timezone()
        self.today = timezone.localdate()

    def when(self, moment: datetime.datetime) -> str:
        return f"{moment.astimezone(self.timezone):%d/%m/%Y %H:%M}"

    def day(self, day: datetime.date) -> tuple[datetime.datetime, str]:
        """A day's place in the list (its local midnight), and how it is shown."""
        at = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.timezone)
        return at, f"{day:%d/%m/%Y}"


def _incidents(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    rows = list(
        Involvement.objects.filter(learner=learner)
        .order_by("-incident__occurred_at", "-incident_id", "pk")
        .values_list(
            "incident_id",
            "part",
            "incident__reference",
            "incident__category",
            "incident__occurred_at",
            "incident__status",
            "incident__location__name",
        )[: PER_KIND + 1]
    )
    more = len(rows) > PER_KIND
    # a learner may be involved twice in one incident (say, affected and witness)
    parts: dict[int, list[str]] = {}
    incidents = {}
    for pk, part, *incident in rows[:PER_KIND]:
        incidents.setdefault(pk, incident)
        parts.setdefault(pk, []).append(_label(Involvement, "part", part))
    url = url_maker("incidents:incident_detail")
    entries = [
        Entry(
            kind="Incident",
            at=occurred_at,
            when=page.when(occurred_at),
            title=f"{reference}: {_label(Incident, 'category', category)}",
            details=f"Their part: {'; '.join(parts[pk])}. Where: {location}.",
            status=_label(Incident, "status", status),
            url=url(pk),
        )
        for pk, (reference, category, occurred_at, status, location) in incidents.items()
    ]
    return entries, more


def _searches(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    rows = list(
        Search.objects.filter(learner=learner)
        .order_by("-searched_at", "-pk")
        .values_list(
            "pk",
            "searched_at",
            "device",
            "incident__reference",
            "found_nothing",
            "outcome",
            "parents_told_at",
        )[: PER_KIND + 1]
    )
    url = url_maker("incidents:search_detail")
    entries = [
        Entry(
            kind="Search",
            at=searched_at,
            when=page.when(searched_at),
            title=f"Search of {device} ({reference})",
            details="Nothing was found." if found_nothing else "Something was found.",
            status=_label(Search, "outcome", outcome)
            + ("" if parents_told_at else "; parents not yet told"),
            url=url(pk),
        )
        for pk, searched_at, device, reference, found_nothing, outcome, parents_told_at in rows[
            :PER_KIND
        ]
    ]
    return entries, len(rows) > PER_KIND


def _exemptions(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    rows = list(
        Exemption.objects.filter(learner=learner)
        .order_by("-requested_at", "-pk")
        .values_list("pk", "requested_at", "kind", "category__name", "starts", "ends", "status")[
            : PER_KIND + 1
        ]
    )
    url = url_maker("devices:exemption_detail")
    entries = [
        Entry(
            kind="Exemption",
            at=requested_at,
            when=page.when(requested_at),
            title=f"{_label(Exemption, 'kind', kind)}: {category}",
            details=f"From {starts:%d/%m/%Y} to {ends:%d/%m/%Y}.",
            status=_label(Exemption, "status", status),
            url=url(pk),
        )
        for pk, requested_at, kind, category, starts, ends, status in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _confiscations(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    rows = list(
        Confiscation.objects.filter(learner=learner)
        .order_by("-taken_at", "-pk")
        .values_list("pk", "taken_at", "category__name", "description", "reason", "status")[
            : PER_KIND + 1
        ]
    )
    url = url_maker("devices:confiscation_detail")
    entries = [
        Entry(
            kind="Confiscation",
            at=taken_at,
            when=page.when(taken_at),
            title=f"{category}: {description}",
            details=reason,
            status=_label(Confiscation, "status", status),
            url=url(pk),
        )
        for pk, taken_at, category, description, reason, status in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _uncollected(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    """Devices handed in and never collected, on days before today (today's may still be)."""
    rows = list(
        HandIn.objects.filter(learner=learner, collected_at__isnull=True, day__lt=page.today)
        .order_by("-day", "-pk")
        .values_list("day", "handed_in_at", "switched_off")[: PER_KIND + 1]
    )
    uncollected = reverse("devices:handin_uncollected")
    entries = []
    for day, handed_in_at, switched_off in rows[:PER_KIND]:
        at, when = page.day(day)
        entries.append(
            Entry(
                kind="Uncollected device",
                at=at,
                when=when,
                title="Handed in and not collected",
                details=f"Handed in {handed_in_at.astimezone(page.timezone):%H:%M}"
                + ("" if switched_off else ", not switched off")
                + ".",
                status="Not collected",
                url=f"{uncollected}?{urlencode({'date': day.isoformat()})}",
            )
        )
    return entries, len(rows) > PER_KIND


def _calls_home(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    """Calls staff made home for the learner, or took from home for them (section 6)."""
    rows = list(
        CallHome.objects.filter(learner=learner)
        .order_by("-called_at", "-pk")
        .values_list(
            "pk",
            "called_at",
            "direction",
            "contact_id",
            "contact__first_name",
            "contact__last_name",
            "contact_name",
            "reason",
            "caller__first_name",
            "caller__last_name",
            "outcome",
        )[: PER_KIND + 1]
    )
    url = url_maker("devices:call_detail")
    entries = []
    for (
        pk,
        called_at,
        direction,
        contact,
        contact_first,
        contact_last,
        contact_name,
        reason,
        caller_first,
        caller_last,
        outcome,
    ) in rows[:PER_KIND]:
        # as `CallHome.whom`: the parent on record, or the name taken down
        whom = f"{contact_first} {contact_last}" if contact else contact_name
        entries.append(
            Entry(
                kind="Call home",
                at=called_at,
                when=page.when(called_at),
                title=f"{_label(CallHome, 'direction', direction)}: {whom}",
                details=f"{reason} ({caller_first} {caller_last})",
                status=_label(CallHome, "outcome", outcome),
                url=url(pk),
            )
        )
    return entries, len(rows) > PER_KIND


def _register_exceptions(learner: Learner, page: _Page) -> tuple[list[Entry], bool]:
    """Days the learner's phone was out of step with the school's approach (not locked away,
    pouch not sealed, seen or used, brought in): a pattern the DSL may need to see."""
    rows = list(
        HandInException.objects.filter(learner=learner)
        .order_by("-day", "-pk")
        .values_list("day", "kind", "details", "approach")[: PER_KIND + 1]
    )
    # the register of the learner's class now, on the day
    register = ""
    if learner.form_class_id is not None:
        register = reverse("devices:handin_class", args=[learner.form_class_id])
    entries = []
    for day, kind, details, approach in rows[:PER_KIND]:
        at, when = page.day(day)
        entries.append(
            Entry(
                kind="Register exception",
                at=at,
                when=when,
                title=_label(HandInException, "kind", kind),
                details=details,
                status=_label(HandInException, "approach", approach),
                url=f"{register}?{urlencode({'date': day.isoformat()})}" if register else "",
            )
        )
    return entries, len(rows) > PER_KIND


# each kind: how the notice of a cut list names it, its model, and how it is read
KINDS = (
    ("Incidents", Involvement, _incidents),
    ("Searches", Search, _searches),
    ("Exemptions", Exemption, _exemptions),
    ("Confiscations", Confiscation, _confiscations),
    ("Uncollected devices", HandIn, _uncollected),
    ("Calls home", CallHome, _calls_home),
    ("Register exceptions", HandInException, _register_exceptions),
)


def _kinds_recorded(learner: Learner, page: _Page) -> list[bool]:
    """Whether the learner has any of each of `KINDS`, in one query: the page then asks
    nothing of the kinds they have none of (most, for most children)."""
    checks = []
    for _, model, _ in KINDS:
        where: dict[str, object] = {"learner": learner.pk}
        if model is HandIn:  # as `_uncollected`: not collected, on a day before today
            where.update(collected_at__isnull=True, day__lt=page.today)
        checks.append((model, where))
    return rows_exist(checks)


def chronology_for(learner: Learner) -> tuple[list[Entry], list[Truncated]]:
    """Every kind, merged newest first; and which kinds were cut at `PER_KIND`."""
    entries: list[Entry] = []
    truncated: list[Truncated] = []
    page = _Page()
    for (label, _, read), recorded in zip(KINDS, _kinds_recorded(learner, page), strict=True):
        if not recorded:
            continue
        found, more = read(learner, page)
        entries.extend(found)
        if more:
            truncated.append(Truncated(label, min(entry["at"] for entry in found)))
    entries.sort(key=lambda entry: entry["at"], reverse=True)
    return entries, truncated


@require_GET
def chronology(request: HttpRequest, learner_pk: int) -> HttpResponse:
    user = request.user
    if not may_see_chronology(user):
        raise PermissionDenied("A learner's chronology is for the DSL and the deputy DSLs.")
    try:
        learner = Learner.objects.select_related("form_class").get(pk=learner_pk)
    except Learner.DoesNotExist:
        raise Http404("No such learner.") from None
    record_access_log(user=user, record=learner)
    entries, truncated = chronology_for(learner)
    return render(
        request,
        "incidents/chronology.html",
        {
            "learner": learner,
            "entries": entries,
            "truncated": truncated,
            # the list is complete back to the latest of the cut-off dates
            "complete_from": max((t.complete_from for t in truncated), default=None),
            "per_kind": PER_KIND,
            "printed_at": timezone.now(),
        },
    )


urlpatterns = [
    path("learners/<int:learner_pk>/chronology/", chronology, name="chronology"),
]


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready): none."""
