"""The DSL's triage queue (policy section 9): every incident the user handles, newest first,
with counts by status, filters and pages of 25; and the dashboard panels that lead to it.

The DSL and deputies see every incident; the headteacher those involving staff (and their
own reports), through `incidents.access.incidents_for`. An allegation against staff that
has not gone to the LADO within one working day is flagged on each row, at the top of the
queue and on the dashboard.

The page runs a fixed number of queries however many incidents there are: the counts by
status (which also give the paginator its count), the page's rows (as values), the
learners named on them, and one query for the LADO state of the page's allegations and
the overdue ones (each with its first LADO referral); the filter's choices. The filters
are written out by `includes/filter_form_light.html`, not crispy-forms, and each row's
text is worked out here: the queue is opened all day (issue 8).
"""

from __future__ import annotations

import datetime
from typing import NamedTuple, TypedDict

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance.access import has_role
from compliance.dashboard import Panel, register_panel
from compliance.filters import filter_fields
from compliance.listing import short_day, url_maker
from compliance.policy import RULES as POLICY_RULES
from compliance.roles import Role
from incidents.access import incidents_for, may_triage_queue, staff_matters
from incidents.forms_dsl import IncidentFilter
from incidents.models import Category, Incident, Involvement, Referral
from incidents.services import LEADS, lado_referral_due

PAGE_SIZE = 25
Status = Incident.Status
OPEN_STATUSES = (Status.TRIAGED, Status.INVESTIGATING, Status.AWAITING_DEBRIEF)
# every status but closed, named rather than `status != closed`: a database then finds the
# few incidents still open by the status index instead of reading every incident
NOT_CLOSED = tuple(value for value in Status.values if value != Status.CLOSED)

STATUS_TONE = {
    Status.REPORTED: "text-bg-warning",
    Status.TRIAGED: "text-bg-info",
    Status.INVESTIGATING: "text-bg-primary",
    Status.AWAITING_DEBRIEF: "text-bg-secondary",
    Status.CLOSED: "text-bg-light border",
}


# what a row shows (read as values: 25 rows of three models each cost more to build than
# the query takes); the LADO states are read with the LADO referrals overdue
ROW_FIELDS = (
    "pk",
    "reference",
    "reported_at",
    "occurred_at",
    "category",
    "status",
    "child_at_risk",
    "suspected_illegal",
    "staff_allegation",
    "location__name",
    "assignee__username",
    "assignee__first_name",
    "assignee__last_name",
)


CATEGORY_LABELS = dict(Category.choices)
STATUS_LABELS = dict(Status.choices)


def status_counts(queryset: QuerySet) -> dict[str, int]:
    """How many of the incidents are in each status (every status, zero included)."""
    counts = dict.fromkeys(Status.values, 0)
    # COUNT(*): the key need not be read for each incident
    counts.update(queryset.order_by().values_list("status").annotate(n=Count("*")))
    return counts


def _lado_referrals() -> QuerySet:
    return Referral.objects.filter(incident=OuterRef("pk"), agency=Referral.Agency.LADO)


def with_first_lado(queryset: QuerySet) -> QuerySet:
    """Each incident with the time of its first LADO referral (None if there is none):
    an aggregate over the joined referrals, which the ORM builds faster than a subquery.
    It groups the incidents: do not add another aggregate or a join to many rows to the
    same query (each would be counted once per referral)."""
    first = Min("referrals__made_at", filter=Q(referrals__agency=Referral.Agency.LADO))
    return queryset.annotate(first_lado_at=first)


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
        queryset.filter(staff_allegation=True, status__in=NOT_CLOSED)
        .filter(~Exists(_lado_referrals()))
        .only("pk", "reference", "staff_allegation", "triaged_at", "reported_at")
        .order_by("triaged_at", "pk")
    )
    return [incident for incident in candidates if now > lado_referral_due(incident)]


class _Allegation(NamedTuple):
    """What `_lado_states` reads of an allegation: values, named for `lado_state`."""

    pk: int
    reference: str
    status: str
    staff_allegation: bool
    triaged_at: datetime.datetime | None
    reported_at: datetime.datetime
    first_lado_at: datetime.datetime | None


class Overdue(TypedDict):
    """An allegation whose LADO referral is overdue, as the alert at the top links to it."""

    url: str
    reference: str


def _lado_states(
    visible: QuerySet, page_pks: list[int], now: datetime.datetime
) -> tuple[dict[int, str], list[Overdue]]:
    """The LADO state of each allegation against staff on the page, and the open ones
    overdue among all the user sees (as `lado_overdue_incidents`), from one query: the
    allegations on the page and every open one, each with its first LADO referral."""
    wanted = Q(status__in=NOT_CLOSED)
    if page_pks:
        wanted |= Q(pk__in=page_pks)
    # the values first: grouped by them alone, not by every column of an incident
    allegations = with_first_lado(
        visible.filter(wanted, staff_allegation=True)
        .order_by("triaged_at", "pk")
        .values_list(*_Allegation._fields[:-1])
    )
    url = url_maker("incidents:incident_detail")
    states, overdue = {}, []
    for incident in map(_Allegation._make, allegations):
        state = lado_state(incident, now)
        states[incident.pk] = state
        if state == "overdue" and incident.status != Status.CLOSED:
            overdue.append(Overdue(url=url(incident.pk), reference=incident.reference))
    return states, overdue


# the badges of a row's Flags cell: (colour, words, test id), in the order shown
LADO_FLAGS = {
    "overdue": ("text-bg-danger", "LADO overdue", "lado-badge"),
    "late": ("text-bg-warning", "LADO referred late", ""),
    "due": ("text-bg-warning", "LADO due", ""),
}
CHILD_AT_RISK = ("text-bg-danger", "Child at risk", "")
SUSPECTED_ILLEGAL = ("text-bg-dark", "Suspected illegal", "")
STAFF_ALLEGATION = ("text-bg-secondary", "Staff allegation", "")


class Row(TypedDict):
    """One incident of the page, as the table shows it. A dict, not an object: a template
    tries a key before an attribute, and each miss costs an exception."""

    url: str
    reference: str
    reported: str
    occurred: str
    category: str
    location: str
    learners: str
    status: str
    status_tone: str
    flags: list[tuple[str, str, str]]  # most rows have none: one loop, not four tests
    assignee: str


def _flags(incident, lado: str) -> list[tuple[str, str, str]]:
    flags = [LADO_FLAGS[lado]] if lado in LADO_FLAGS else []
    if incident.child_at_risk:
        flags.append(CHILD_AT_RISK)
    if incident.suspected_illegal:
        flags.append(SUSPECTED_ILLEGAL)
    if incident.staff_allegation:
        flags.append(STAFF_ALLEGATION)
    return flags


def _learner_names(incident_pks: list[int]) -> dict[int, str]:
    """The learners involved in each incident, by surname, in one query.

    Written as SQL (names and tables are the models' own, quoted; the page's keys are
    parameters): the ORM took longer to build this join than the database to run it, on a
    page opened all day (issue 8)."""
    if not incident_pks:
        return {}
    connection = connections[router.db_for_read(Involvement)]
    quote = connection.ops.quote_name
    involvement = Involvement._meta
    learner = involvement.get_field("learner").related_model._meta
    by = quote(involvement.get_field("learner").column)
    incident = quote(involvement.get_field("incident").column)
    first, last = (quote(learner.get_field(name).column) for name in ("first_name", "last_name"))
    sql = (
        f"SELECT i.{incident}, l.{first}, l.{last} "  # noqa: S608
        f"FROM {quote(involvement.db_table)} i "
        f"INNER JOIN {quote(learner.db_table)} l ON l.{quote(learner.pk.column)} = i.{by} "
        f"WHERE i.{incident} IN ({', '.join(['%s'] * len(incident_pks))}) "
        f"ORDER BY l.{last}, l.{first}, i.{quote(involvement.pk.column)}"
    )
    names: dict[int, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, incident_pks)
        for incident_pk, first_name, last_name in cursor.fetchall():
            names.setdefault(incident_pk, []).append(f"{first_name} {last_name}")
    return {pk: ", ".join(learners) for pk, learners in names.items()}


def _assignee(incident) -> str:
    """As `str(User)`: the full name, or the username if there is none."""
    if incident.assignee__username is None:
        return ""
    name = f"{incident.assignee__first_name} {incident.assignee__last_name}".strip()
    return name or incident.assignee__username


def _rows(incidents: list, lado: dict[int, str]) -> list[Row]:
    """The page's rows, from named `ROW_FIELDS` values, with their LADO states."""
    learners = _learner_names([incident.pk for incident in incidents])
    url = url_maker("incidents:incident_detail")
    # as `date:"j M Y, H:i"` (the current timezone looked up once, not for every cell)
    here = timezone.get_current_timezone()

    def when(moment: datetime.datetime) -> str:
        local = moment.astimezone(here)
        return f"{short_day(local)}, {local:%H:%M}"

    return [
        Row(
            url=url(incident.pk),
            reference=incident.reference,
            reported=when(incident.reported_at),
            occurred=when(incident.occurred_at),
            category=CATEGORY_LABELS.get(incident.category, incident.category),
            location=incident.location__name,
            learners=learners.get(incident.pk, "—"),
            status=STATUS_LABELS[incident.status],
            status_tone=STATUS_TONE[incident.status],
            flags=_flags(incident, lado.get(incident.pk, "")),
            assignee=_assignee(incident),
        )
        for incident in incidents
    ]


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
    counts = status_counts(narrowed)
    rows = narrowed.filter(status=status) if status else narrowed
    rows = rows.order_by("-reported_at", "-pk").values_list(*ROW_FIELDS, named=True)
    paginator = Paginator(rows, PAGE_SIZE)
    # the tabs' counts already hold the page's: no second count
    paginator.count = counts[status] if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    incidents = list(page.object_list)
    lado, lado_overdue = _lado_states(
        visible, [i.pk for i in incidents if i.staff_allegation], timezone.now()
    )

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
            "filter_fields": filter_fields(filterset.form),
            "page_obj": page,
            "rows": _rows(incidents, lado),
            "tabs": tabs,
            "query_string": page_query.urlencode(),
            "lado_overdue": lado_overdue,
            "policy_rule": POLICY_RULES["confidentiality"],
        },
    )


urlpatterns = [path("queue/", queue, name="queue")]


# Dashboard ----------------------------------------------------------------------------


def _status_links(queryset: QuerySet, extra: str = "") -> tuple[dict, list[dict]]:
    counts = status_counts(queryset)
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
            reads=(Incident, Involvement, Referral),
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
            reads=(Incident, Involvement, Referral),
            order=11,
        )
    )
