"""A learner's chronology: every incident they were involved in, every search of their
device, every exemption, confiscation, uncollected device, register exception and call
home, newest first, on one printable page. For the DSL and the deputies (KCSIE: the DSL
keeps a chronology of concerns about a child).

The page reads one query per kind of record, however many years the school has used the
system: each kind is capped at its newest `PER_KIND` rows and the merged list is shown
whole (not paginated), so that it prints as one document. When a kind has more rows than
the cap, the page says so and from which date the list is complete.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance.models import Learner
from compliance.services import record_access_log
from devices.models import CallHome, Confiscation, Exemption, HandIn, HandInException
from incidents.access import may_see_chronology
from incidents.models import Involvement, Search

# newest rows read of each kind; a primary-school child rarely comes near it
PER_KIND = 200


@dataclass(frozen=True)
class Entry:
    """One line of the chronology."""

    kind: str  # the badge
    at: datetime.datetime  # what the list is sorted by
    day_only: bool  # show the date without a time
    title: str
    details: str
    status: str
    url: str


@dataclass(frozen=True)
class Truncated:
    kind: str
    complete_from: datetime.datetime


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _incidents(learner: Learner) -> tuple[list[Entry], bool]:
    rows = list(
        Involvement.objects.filter(learner=learner)
        .select_related("incident", "incident__location")
        .order_by("-incident__occurred_at", "-incident_id", "pk")[: PER_KIND + 1]
    )
    more = len(rows) > PER_KIND
    # a learner may be involved twice in one incident (say, affected and witness)
    parts: dict[int, list[str]] = {}
    incidents = {}
    for row in rows[:PER_KIND]:
        incidents.setdefault(row.incident_id, row.incident)
        parts.setdefault(row.incident_id, []).append(row.get_part_display())
    entries = [
        Entry(
            kind="Incident",
            at=incident.occurred_at,
            day_only=False,
            title=f"{incident.reference}: {incident.get_category_display()}",
            details=f"Their part: {'; '.join(parts[pk])}. Where: {incident.location.name}.",
            status=incident.get_status_display(),
            url=reverse("incidents:incident_detail", args=[pk]),
        )
        for pk, incident in incidents.items()
    ]
    return entries, more


def _searches(learner: Learner) -> tuple[list[Entry], bool]:
    rows = list(
        Search.objects.filter(learner=learner)
        .select_related("incident")
        .order_by("-searched_at", "-pk")[: PER_KIND + 1]
    )
    entries = [
        Entry(
            kind="Search",
            at=search.searched_at,
            day_only=False,
            title=f"Search of {search.device} ({search.incident.reference})",
            details="Nothing was found." if search.found_nothing else "Something was found.",
            status=search.get_outcome_display()
            + ("" if search.parents_told_at else "; parents not yet told"),
            url=reverse("incidents:search_detail", args=[search.pk]),
        )
        for search in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _exemptions(learner: Learner) -> tuple[list[Entry], bool]:
    rows = list(
        Exemption.objects.filter(learner=learner)
        .select_related("category")
        .order_by("-requested_at", "-pk")[: PER_KIND + 1]
    )
    entries = [
        Entry(
            kind="Exemption",
            at=exemption.requested_at,
            day_only=False,
            title=f"{exemption.get_kind_display()}: {exemption.category.name}",
            details=f"From {exemption.starts:%d/%m/%Y} to {exemption.ends:%d/%m/%Y}.",
            status=exemption.get_status_display(),
            url=reverse("devices:exemption_detail", args=[exemption.pk]),
        )
        for exemption in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _confiscations(learner: Learner) -> tuple[list[Entry], bool]:
    rows = list(
        Confiscation.objects.filter(learner=learner)
        .select_related("category")
        .order_by("-taken_at", "-pk")[: PER_KIND + 1]
    )
    entries = [
        Entry(
            kind="Confiscation",
            at=confiscation.taken_at,
            day_only=False,
            title=f"{confiscation.category.name}: {confiscation.description}",
            details=confiscation.reason,
            status=confiscation.get_status_display(),
            url=reverse("devices:confiscation_detail", args=[confiscation.pk]),
        )
        for confiscation in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _uncollected(learner: Learner) -> tuple[list[Entry], bool]:
    """Devices handed in and never collected, on days before today (today's may still be)."""
    rows = list(
        HandIn.objects.filter(
            learner=learner, collected_at__isnull=True, day__lt=timezone.localdate()
        ).order_by("-day", "-pk")[: PER_KIND + 1]
    )
    uncollected = reverse("devices:handin_uncollected")
    entries = [
        Entry(
            kind="Uncollected device",
            at=_aware(hand_in.day),
            day_only=True,
            title="Handed in and not collected",
            details=f"Handed in {timezone.localtime(hand_in.handed_in_at):%H:%M}"
            + ("" if hand_in.switched_off else ", not switched off")
            + ".",
            status="Not collected",
            url=f"{uncollected}?{urlencode({'date': hand_in.day.isoformat()})}",
        )
        for hand_in in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _calls_home(learner: Learner) -> tuple[list[Entry], bool]:
    """Calls staff made home for the learner, or took from home for them (section 6)."""
    rows = list(
        CallHome.objects.filter(learner=learner)
        .select_related("caller", "contact")
        .order_by("-called_at", "-pk")[: PER_KIND + 1]
    )
    entries = [
        Entry(
            kind="Call home",
            at=call.called_at,
            day_only=False,
            title=f"{call.get_direction_display()}: {call.whom}",
            details=f"{call.reason} ({call.caller.full_name})",
            status=call.get_outcome_display(),
            url=reverse("devices:call_detail", args=[call.pk]),
        )
        for call in rows[:PER_KIND]
    ]
    return entries, len(rows) > PER_KIND


def _register_exceptions(learner: Learner) -> tuple[list[Entry], bool]:
    """Days the learner's phone was out of step with the school's approach (not locked away,
    pouch not sealed, seen or used, brought in): a pattern the DSL may need to see."""
    rows = list(
        HandInException.objects.filter(learner=learner)
        .select_related("learner__form_class")
        .order_by("-day", "-pk")[: PER_KIND + 1]
    )
    entries = []
    for exception in rows[:PER_KIND]:
        form_class = exception.learner.form_class_id
        url = ""
        if form_class is not None:
            url = reverse("devices:handin_class", args=[form_class])
            url += f"?{urlencode({'date': exception.day.isoformat()})}"
        entries.append(
            Entry(
                kind="Register exception",
                at=_aware(exception.day),
                day_only=True,
                title=exception.get_kind_display(),
                details=exception.details,
                status=exception.get_approach_display(),
                url=url,
            )
        )
    return entries, len(rows) > PER_KIND


KINDS = (
    ("Incidents", _incidents),
    ("Searches", _searches),
    ("Exemptions", _exemptions),
    ("Confiscations", _confiscations),
    ("Uncollected devices", _uncollected),
    ("Calls home", _calls_home),
    ("Register exceptions", _register_exceptions),
)


def chronology_for(learner: Learner) -> tuple[list[Entry], list[Truncated]]:
    """Every kind, merged newest first; and which kinds were cut at `PER_KIND`."""
    entries: list[Entry] = []
    truncated: list[Truncated] = []
    for label, read in KINDS:
        found, more = read(learner)
        entries.extend(found)
        if more:
            truncated.append(Truncated(label, min(entry.at for entry in found)))
    entries.sort(key=lambda entry: entry.at, reverse=True)
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
