"""The DSL's triage queue (policy section 9): every incident the user handles, newest first,
with counts by status, filters and pages of 25; and the dashboard panels that lead to it.

The DSL and deputies see every incident; the headteacher those involving staff (and their
own reports), through `incidents.access.incidents_for`. An allegation against staff that
has not gone to the LADO within one working day is flagged on each row, at the top of the
queue and on the dashboard.

The page runs a fixed number of queries however many incidents there are: the LADO state
of each row comes from one annotation (the first LADO referral), the learners named on
the page from one prefetch.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance.access import has_role
from compliance.dashboard import Panel, register_panel
from compliance.policy import RULES as POLICY_RULES
from compliance.roles import Role
from incidents.access import incidents_for, may_triage_queue, staff_matters
from incidents.forms_dsl import IncidentFilter
from incidents.models import Incident, Involvement, Referral
from incidents.services import LEADS, lado_referral_due

PAGE_SIZE = 25
Status = Incident.Status
OPEN_STATUSES = (Status.TRIAGED, Status.INVESTIGATING, Status.AWAITING_DEBRIEF)

STATUS_TONE = {
    Status.REPORTED: "text-bg-warning",
    Status.TRIAGED: "text-bg-info",
    Status.INVESTIGATING: "text-bg-primary",
    Status.AWAITING_DEBRIEF: "text-bg-secondary",
    Status.CLOSED: "text-bg-light border",
}


def _lado_referrals() -> QuerySet:
    return Referral.objects.filter(incident=OuterRef("pk"), agency=Referral.Agency.LADO)


def with_first_lado(queryset: QuerySet) -> QuerySet:
    """Each incident with the time of its first LADO referral (None if there is none)."""
    first = _lado_referrals().order_by("made_at").values("made_at")[:1]
    return queryset.annotate(first_lado_at=Subquery(first))


def lado_state(incident: Incident, now: datetime.datetime) -> str:
    """For an incident annotated by `with_first_lado`: "" (no allegation against staff),
    "due" (not yet referred, still in time), "overdue" (not referred within one working
    day), "late" (referred, but after the working day) or "made" (referred in time).

    "overdue" and "late" are what `services.lado_overdue` calls overdue.
    """
    due = lado_referral_due(incident)
    if due is None:
        return ""
    made = incident.first_lado_at
    if made is not None:
        return "late" if made > due else "made"
    return "overdue" if now > due else "due"


def lado_overdue_incidents(queryset: QuerySet, now: datetime.datetime | None = None) -> list:
    """Open allegations against staff with no LADO referral a working day on: one query
    (the working day is counted in Python: weekends are not a date range in SQL)."""
    now = now or timezone.now()
    candidates = (
        queryset.filter(staff_allegation=True)
        .exclude(status=Status.CLOSED)
        .filter(~Exists(_lado_referrals()))
        .only("pk", "reference", "staff_allegation", "triaged_at", "reported_at")
        .order_by("triaged_at", "pk")
    )
    return [incident for incident in candidates if now > lado_referral_due(incident)]


def _decorate(incident: Incident, now: datetime.datetime) -> None:
    incident.lado = lado_state(incident, now)
    incident.status_tone = STATUS_TONE[incident.status]
    incident.learner_names = [p.learner.full_name for p in incident.learners_involved]


@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The triage queue: counts by status (under the other filters), the filters, 25 a page."""
    user = request.user
    if not may_triage_queue(user):
        raise PermissionDenied(
            "The triage queue is for the DSL and deputies, and the headteacher for matters "
            "involving staff."
        )
    visible = incidents_for(user)
    filterset = IncidentFilter(request.GET or None, queryset=visible, request=request)
    status = filterset.form.cleaned_data.get("status") if filterset.is_valid() else None
    narrowed = filterset.qs
    counts = narrowed.aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in Status.values}
    )
    rows = narrowed.filter(status=status) if status else narrowed
    rows = with_first_lado(
        rows.select_related("location", "assignee", "reported_by").prefetch_related(
            Prefetch(
                "people",
                queryset=Involvement.objects.filter(learner__isnull=False)
                .select_related("learner")
                .order_by("learner__last_name", "learner__first_name", "pk"),
                to_attr="learners_involved",
            )
        )
    ).order_by("-reported_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for incident in page.object_list:
        _decorate(incident, now)

    query = request.GET.copy()
    query.pop("page", None)
    query.pop("status", None)
    base = f"{request.path}?{query.urlencode()}&" if query else f"{request.path}?"
    tabs = [
        {
            "label": "All",
            "count": sum(counts.values()),
            "url": base.rstrip("?&"),
            "current": not status,
        }
    ] + [
        {
            "label": label,
            "count": counts[value],
            "url": f"{base}status={value}",
            "current": status == value,
        }
        for value, label in Status.choices
    ]
    page_query = request.GET.copy()
    page_query.pop("page", None)
    return render(
        request,
        "incidents/queue.html",
        {
            "filter": filterset,
            "page_obj": page,
            "tabs": tabs,
            "query_string": page_query.urlencode(),
            "lado_overdue": lado_overdue_incidents(visible, now),
            "policy_rule": POLICY_RULES["confidentiality"],
        },
    )


urlpatterns = [path("queue/", queue, name="queue")]


# Dashboard ----------------------------------------------------------------------------


def _status_links(queryset: QuerySet, extra: str = "") -> tuple[dict, list[dict]]:
    counts = queryset.aggregate(
        **{value: Count("pk", filter=Q(status=value)) for value in Status.values}
    )
    listing = reverse("incidents:queue")
    links = [
        {"label": label, "count": counts[value], "url": f"{listing}?status={value}{extra}"}
        for value, label in Status.choices
        if value in OPEN_STATUSES
    ]
    return counts, links


def _triage_panel_context(request: HttpRequest) -> dict:
    """New reports, what is open by status, and the LADO referrals overdue."""
    visible = incidents_for(request.user)
    counts, links = _status_links(visible)
    listing = reverse("incidents:queue")
    return {
        "new": counts[Status.REPORTED],
        "new_url": f"{listing}?status={Status.REPORTED.value}",
        "open": links,
        "lado_overdue": lado_overdue_incidents(visible),
        "queue_url": listing,
    }


def _staff_panel_context(request: HttpRequest) -> dict:
    """Matters involving staff: open by status, conduct outcomes to record, LADO overdue."""
    matters = incidents_for(request.user).filter(staff_matters())
    counts, links = _status_links(matters, "&staff=true")
    staff_involved = Involvement.objects.filter(incident=OuterRef("pk"), staff__isnull=False)
    outcome_due = (
        matters.filter(Exists(staff_involved), conduct_outcome="", status__in=OPEN_STATUSES)
        .order_by("reported_at", "pk")
        .only("pk", "reference")
    )
    listing = reverse("incidents:queue")
    return {
        "new": counts[Status.REPORTED],
        "new_url": f"{listing}?status={Status.REPORTED.value}&staff=true",
        "open": links,
        "outcome_due": list(outcome_due),
        "lado_overdue": lado_overdue_incidents(matters),
        "queue_url": f"{listing}?staff=true",
    }


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready)."""
    register_panel(
        Panel(
            key="triage_queue",
            title="Triage queue",
            template="incidents/panels/queue.html",
            visible=lambda user: has_role(user, *LEADS),
            context=_triage_panel_context,
            order=10,
        )
    )
    register_panel(
        Panel(
            key="staff_matters",
            title="Staff matters",
            template="incidents/panels/staff_matters.html",
            visible=lambda user: has_role(user, Role.HEADTEACHER),
            context=_staff_panel_context,
            order=11,
        )
    )
