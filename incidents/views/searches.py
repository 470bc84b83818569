"""Searches of learners' devices (policy section 6; DfE "Searching, screening and
confiscation"): the form that records one, its page, parents told later, and the list.

A search is recorded by the DSL team (or the headteacher, on an incident they handle) on
the incident it belongs to. The device's custody is recorded in the same transaction as
the search: an earlier confiscation linked (and returned or handed to the police now, if
that is what happened), or a new one recorded here. If any step is refused, nothing is
recorded and the form comes back with the reason and what was typed.

Every opening of a search is logged: it is a record about a child.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance.access import has_role
from compliance.models import Learner, StaffMember, User
from compliance.policy import PolicyRule
from compliance.services import record_access_log
from compliance.transitions import Refused
from devices import services as device_services
from devices.access import staff_member_of
from devices.models import Confiscation, CustodyEvent
from incidents import services
from incidents.access import get_incident, get_search, may_see_chronology, searches_for
from incidents.forms_search import Custody, ParentsToldForm, SearchForm, SearchListFilter
from incidents.models import Incident, Search

SEARCH_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Learners' mobile phones or devices may be searched (by 2 members of staff where "
    "possible) by a DSL and/or the headteacher, with the consent of the learner or a "
    "parent/carer. Content may be deleted or requested to be deleted if it contravenes our "
    "policies, in line with the DfE 'Searching, Screening and Confiscation' guidance.",
)
POLICE_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "If there is suspicion that material on a learner's personal device or mobile phone may be "
    "illegal, or may provide evidence relating to a criminal offence, the device will be handed "
    "over to the police for further investigation.",
)
OPEN_STATUSES = (
    Incident.Status.TRIAGED,
    Incident.Status.INVESTIGATING,
    Incident.Status.AWAITING_DEBRIEF,
)
PAGE_SIZE = 25


def may_record_search(user) -> bool:
    """Who is offered the form; `search_record` applies the rule again when it is sent."""
    return has_role(user, *services.SEARCH_LEADS)


def _leads():
    """The people who may lead a search (the form offers these)."""
    return User.objects.filter(
        is_active=True, groups__name__in=[role.value for role in services.SEARCH_LEADS]
    ).distinct()


# Recording a search ----------------------------------------------------------------------


def _taker(lead: User, by: User) -> StaffMember:
    """Who took the device, for a confiscation recorded with the search: the lead."""
    staff = StaffMember.objects.filter(user=lead, active=True).first() or staff_member_of(by)
    if staff is None:
        raise Refused(
            "A confiscation names the member of staff who took the device, and neither the "
            "lead's login nor yours is linked to a staff record: ask the DSL to link it."
        )
    return staff


def _custody(form: SearchForm, by: User) -> Confiscation | None:
    """The device's custody, recorded through the devices services before the search."""
    data = form.cleaned_data
    if data["custody"] == Custody.NONE:
        return None
    if data["custody"] == Custody.EXISTING:
        confiscation = data["confiscation"]
    else:
        confiscation = device_services.confiscation_record(
            learner=data["learner"],
            category=data["new_category"],
            description=data["device"],
            reason=data["grounds"],
            stored_where=data["new_stored_where"],
            taken_by=_taker(data["led_by"], by),
            taken_at=data["searched_at"],
            by=by,
        )
    if form.returns_now():
        confiscation = device_services.confiscation_return(
            confiscation=confiscation, returned_to=data["returned_to"], by=by
        )
    if form.hands_over():
        confiscation = device_services.confiscation_hand_to_police(
            confiscation=confiscation,
            officer=data["police_officer"],
            reference=data["police_reference"],
            at=data["police_at"],
            by=by,
        )
    return confiscation


def _record(form: SearchForm, incident: Incident, by: User) -> Search:
    data = form.cleaned_data
    # one transaction: a refused search leaves no confiscation, return or hand-over behind
    with transaction.atomic():
        confiscation = _custody(form, by)
        return services.search_record(
            incident=incident,
            learner=data["learner"],
            device=data["device"],
            searched_at=data["searched_at"],
            place=data["place"],
            led_by=data["led_by"],
            second_staff=data["second_staff"],
            no_second_reason=data["no_second_reason"],
            grounds=data["grounds"],
            sought=data["sought"],
            consent_by=data["consent_by"],
            consent_parent=data["consent_parent"],
            consent_how=data["consent_how"],
            found="" if data["nothing_found"] else data["found"],
            deletion=data["deletion"],
            deletion_reason=data["deletion_reason"],
            outcome=data["outcome"],
            confiscation=confiscation,
            parents_told_at=data["parents_told_at"] if data["parents_told"] else None,
            by=by,
        )


@require_http_methods(["GET", "POST"])
def search_add(request: HttpRequest, incident_pk: int) -> HttpResponse:
    user = request.user
    if not may_record_search(user):
        raise PermissionDenied("Searches are recorded by the DSL team or the headteacher.")
    incident = get_incident(user, incident_pk)
    form = SearchForm(
        request.POST or None,
        learners=Learner.objects.filter(involvements__incident=incident).distinct(),
        leads=_leads(),
        lead=user,
    )
    refused = ""
    if request.method == "POST":
        if form.is_valid():
            try:
                search = _record(form, incident, user)
            except Refused as reason:
                refused = str(reason)
            else:
                messages.success(request, f"Recorded the search for {incident.reference}.")
                return redirect(search)
        else:
            refused = "Nothing was recorded: check the answers marked below."
    return render(
        request,
        "incidents/search_form.html",
        {
            "incident": incident,
            "form": form,
            "refused": refused,
            "incident_open": incident.status in OPEN_STATUSES,
            "policy_rule": SEARCH_RULE,
            "police_rule": POLICE_RULE,
        },
    )


# One search ------------------------------------------------------------------------------


def _detail(
    request: HttpRequest,
    search: Search,
    *,
    bound: ParentsToldForm | None = None,
    refused: str = "",
) -> HttpResponse:
    """Everything recorded, and the chain of custody of its device. Every rendering is a
    read of a record about a child: logged."""
    user = request.user
    record_access_log(user=user, record=search)
    search = Search.objects.select_related(
        "incident",
        "learner",
        "learner__form_class",
        "led_by",
        "second_staff",
        "consent_parent",
        "deleted_by",
        "parents_told_by",
        "recorded_by",
        "confiscation",
        "confiscation__category",
    ).get(pk=search.pk)
    events = []
    if search.confiscation_id:
        events = list(
            CustodyEvent.objects.filter(confiscation_id=search.confiscation_id)
            .select_related("by")
            .order_by("at", "pk")
        )
    untold = search.parents_told_at is None
    return render(
        request,
        "incidents/search_detail.html",
        {
            "search": search,
            "events": events,
            # a form just sent is shown again (with what was typed) even if the step closed
            "parents_form": bound or ParentsToldForm(),
            # the form just sent, if any (shown again with what was typed)
            "form": bound,
            "may_tell": (untold and services.may_handle(user, search.incident))
            or bound is not None,
            "may_see_chronology": may_see_chronology(user),
            "refused": refused,
            "policy_rule": SEARCH_RULE,
        },
    )


@require_GET
def search_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_search(request.user, pk))


@require_POST
def search_parents_told(request: HttpRequest, pk: int) -> HttpResponse:
    search = get_search(request.user, pk)
    form = ParentsToldForm(request.POST)
    if not form.is_valid():
        return _detail(
            request, search, bound=form, refused="Nothing was recorded: check the form below."
        )
    try:
        services.search_parents_told(
            search=search, by=request.user, told_at=form.cleaned_data["told_at"]
        )
    except Refused as reason:
        return _detail(request, search, bound=form, refused=str(reason))
    messages.success(request, "Recorded that parents or carers were told.")
    return redirect(search)


# Every search ----------------------------------------------------------------------------


@require_GET
def search_list(request: HttpRequest) -> HttpResponse:
    """Every search this user may see, newest first: two queries a page (count, rows)."""
    searches = searches_for(request.user).select_related(
        "incident", "learner", "learner__form_class", "led_by"
    )
    filterset = SearchListFilter(request.GET or None, queryset=searches, request=request)
    rows = filterset.qs.order_by(*Search._meta.ordering)
    # a page number out of range or not a number shows the nearest page, not a 404
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/search_list.html",
        {
            "page_obj": page,
            "object_list": page.object_list,
            "filter": filterset,
            "query_string": query.urlencode(),
            "policy_rule": SEARCH_RULE,
        },
    )


urlpatterns = [
    path("searches/", search_list, name="search_list"),
    path("<int:incident_pk>/searches/add/", search_add, name="search_add"),
    path("searches/<int:pk>/", search_detail, name="search_detail"),
    path("searches/<int:pk>/parents-told/", search_parents_told, name="search_parents_told"),
]


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready): none; the triage
    queue shows what is waiting on an incident."""
