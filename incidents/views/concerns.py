"""Low-level concerns about staff (KCSIE 2022 onwards): a separate log that the DSL and the
headteacher alone read.

Any member of staff raises a concern and then sees only that it was received (its
reference and when); the log, each concern's page, its history and the pattern by staff
member are for the DSL and the headteacher (`incidents.access.concerns_for`): a deputy
DSL, the office, governors and staff get 403, and no one reads a concern about
themselves. The steps (the staff member's response, the outcome, escalation to an
allegation) are POST-only and call `incidents.concerns`; a refusal comes back to the page
with what was typed, a stale copy with both versions (409). Every opening of a concern is
logged.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from compliance.concurrency import StaleEdit
from compliance.dashboard import Panel, register_panel
from compliance.history import history_url
from compliance.models import StaffMember
from compliance.policy import PolicyRule
from compliance.services import record_access_log
from compliance.transitions import Refused
from incidents import access, concerns
from incidents.forms_concerns import (
    ConcernEscalateForm,
    ConcernFilterForm,
    ConcernOutcomeForm,
    ConcernRaiseForm,
    ConcernResponseForm,
)
from incidents.models import LowLevelConcern
from incidents.services import lado_referral_due

CONCERN_RULE = PolicyRule(
    "5",
    "Staff use of mobile and smart technology",
    "If a member of staff breaches our policy, action will be taken in line with our staff "
    "code of conduct and grievance policy.",
)
PER_PAGE = 25
Status = LowLevelConcern.Status


def _require_raiser(user) -> None:
    if not access.may_raise_concern(user):
        raise PermissionDenied("Your role does not raise concerns here: tell the DSL.")


# Raising a concern ---------------------------------------------------------------------


def concern_raise(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_raiser(user)
    form = ConcernRaiseForm(request.POST or None, by=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            concern = concerns.concern_raise(
                staff=data["staff"],
                occurred_at=data["occurred_at"],
                location=data["location"],
                account=data["account"],
                by=user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            return redirect("incidents:concern_received", pk=concern.pk)
    return render(
        request, "incidents/concern_raise.html", {"form": form, "policy_rule": CONCERN_RULE}
    )


@require_GET
def concern_received(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt: the reference and when. Not the log, and not what happens to it."""
    concern = access.get_raised_concern(request.user, pk)
    record_access_log(user=request.user, record=concern)
    return render(request, "incidents/concern_received.html", {"concern": concern})


# The log: the DSL and the headteacher ----------------------------------------------------


@require_GET
def concern_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    visible = access.concerns_for(user)
    staff_choices = [
        (s.pk, s.full_name)
        for s in StaffMember.objects.filter(pk__in=visible.values("staff_id")).order_by(
            "last_name", "first_name", "pk"
        )
    ]
    filters = ConcernFilterForm(request.GET or None, staff_choices=staff_choices)
    shown = visible.select_related("staff", "location")
    if filters.is_valid():
        if filters.cleaned_data["staff"]:
            shown = shown.filter(staff_id=filters.cleaned_data["staff"])
        if filters.cleaned_data["status"]:
            shown = shown.filter(status=filters.cleaned_data["status"])
    page = Paginator(shown.order_by("-raised_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/concern_list.html",
        {
            "form": filters,
            "page_obj": page,
            "object_list": page.object_list,
            "query_string": query.urlencode(),
            "policy_rule": CONCERN_RULE,
        },
    )


@require_GET
def concern_pattern(request: HttpRequest) -> HttpResponse:
    """Per member of staff: how many concerns, when, and which are recent."""
    rows = concerns.pattern(request.user)
    return render(
        request,
        "incidents/concern_pattern.html",
        {
            "rows": rows,
            "repeated_count": concerns.REPEATED_COUNT,
            "window_days": concerns.REPEATED_WINDOW.days,
            "policy_rule": CONCERN_RULE,
        },
    )


def _detail(
    request: HttpRequest,
    concern: LowLevelConcern,
    bound: dict[str, Form] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """The concern's page; after a refused or stale step, the form as it was typed. Every
    rendering is an opening of the record: logged."""
    user = request.user
    record_access_log(user=user, record=concern)
    bound = bound or {}
    open_ = concern.status == Status.OPEN
    context = {
        "concern": concern,
        "policy_rule": CONCERN_RULE,
        "others": list(concerns.others_about(concern, user)[:20]),
        "history_url": history_url(concern),
        "response_form": bound.get("response")
        or (ConcernResponseForm(concern=concern) if open_ else None),
        "outcome_form": bound.get("outcome")
        or (ConcernOutcomeForm(concern=concern) if open_ else None),
        "escalate_form": bound.get("escalate")
        or (ConcernEscalateForm(concern=concern) if concern.status != Status.ESCALATED else None),
        "stale": status == 409,
        # the form just sent, if any (tests and the fuzzer find it here)
        "form": next(iter(bound.values()), None),
    }
    return render(request, "incidents/concern_detail.html", context, status=status)


@require_GET
def concern_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, access.get_concern(request.user, pk))


def _act(
    request: HttpRequest,
    pk: int,
    *,
    key: str,
    form_class: type[Form],
    step: Callable[[object, LowLevelConcern, dict, int], str],
) -> HttpResponse:
    """One step on a concern: the form, then the function; a refusal comes back to the page
    with what was typed, a save based on a stale copy with what is saved now (409)."""
    concern = access.get_concern(request.user, pk)
    form = form_class(request.POST, concern=concern)
    if form.is_valid():
        data = dict(form.cleaned_data)
        expected = data.pop("version")
        try:
            said = step(request.user, concern, data, expected)
        except StaleEdit as stale:
            form.add_error(
                None,
                "Someone saved this concern after you opened it: the page now shows what is "
                "saved. What you typed is below; send it again if it still stands.",
            )
            form.data = form.data.copy()
            form.data["version"] = stale.current.version
            fresh = access.get_concern(request.user, pk)
            return _detail(request, fresh, {key: form}, status=409)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, said)
            return redirect("incidents:concern_detail", pk=concern.pk)
    return _detail(request, concern, {key: form})


def _response(user, concern: LowLevelConcern, data: dict, expected: int) -> str:
    concerns.concern_record_response(
        concern=concern, response=data["response"], by=user, expected_version=expected
    )
    return "The staff member's response is recorded."


def _outcome(user, concern: LowLevelConcern, data: dict, expected: int) -> str:
    concerns.concern_record_outcome(
        concern=concern,
        outcome=data["outcome"],
        detail=data["detail"],
        by=user,
        expected_version=expected,
    )
    return "The outcome is recorded; the concern stays in the log and in the pattern."


@require_POST
def concern_response(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, key="response", form_class=ConcernResponseForm, step=_response)


@require_POST
def concern_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, key="outcome", form_class=ConcernOutcomeForm, step=_outcome)


def _escalate(user, concern: LowLevelConcern, data: dict, expected: int) -> str:
    incident = concerns.concern_escalate(
        concern=concern,
        category=data["category"],
        reason=data["reason"],
        by=user,
        expected_version=expected,
    )
    due = timezone.localtime(lado_referral_due(incident))
    return (
        f"Escalated to an allegation: {incident.reference}. Refer it to the LADO by "
        f"{due:%d/%m/%Y %H:%M}."
    )


@require_POST
def concern_escalate(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, key="escalate", form_class=ConcernEscalateForm, step=_escalate)


urlpatterns = [
    path("concerns/raise/", concern_raise, name="concern_raise"),
    path("concerns/<int:pk>/received/", concern_received, name="concern_received"),
    path("concerns/", concern_list, name="concern_list"),
    path("concerns/pattern/", concern_pattern, name="concern_pattern"),
    path("concerns/<int:pk>/", concern_detail, name="concern_detail"),
    path("concerns/<int:pk>/response/", concern_response, name="concern_response"),
    path("concerns/<int:pk>/outcome/", concern_outcome, name="concern_outcome"),
    path("concerns/<int:pk>/escalate/", concern_escalate, name="concern_escalate"),
]


# Dashboard ----------------------------------------------------------------------------


def _panel_context(request: HttpRequest) -> dict:
    # one query: the log's open concerns, those awaiting the staff member's response, and
    # those raised in the last 30 days (a concern about the reader is not counted)
    since = timezone.now() - datetime.timedelta(days=30)
    counts = access.concerns_for(request.user).aggregate(
        open=Count("pk", filter=Q(status=Status.OPEN)),
        awaiting_response=Count("pk", filter=Q(status=Status.OPEN, staff_response="")),
        recent=Count("pk", filter=Q(raised_at__gte=since)),
    )
    listing = reverse("incidents:concern_list")
    return {
        **counts,
        "open_url": f"{listing}?status={Status.OPEN.value}",
        "list_url": listing,
        "pattern_url": reverse("incidents:concern_pattern"),
    }


def register_panels() -> None:
    """The DSL's and the headteacher's panel (called from IncidentsConfig.ready). Raising a
    concern is offered on the "Report a concern" panel."""
    register_panel(
        Panel(
            key="low_level_concerns",
            title="Low-level concerns about staff",
            template="incidents/panels/concerns.html",
            visible=access.may_read_concerns,
            context=_panel_context,
            reads=(LowLevelConcern, StaffMember),
            order=5,
        )
    )
