"""Filtering and monitoring pages: the annual review, block and allow decisions, monitoring
alerts and their review by the DSL (KCSIE 2023; the DfE's filtering and monitoring standards).

The DSL, deputies and the headteacher see these pages; an alert is reviewed by the DSL or a
deputy acting for them, and only they see whom an alert is about (on the alert's page, each
opening logged). Governors see the annual review as counts in their report; staff and the
office see nothing here. The rules are in compliance.filtering.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone

from compliance import access, services
from compliance import filtering as fm
from compliance.dashboard import Panel, register_panel
from compliance.forms_filtering import (
    AlertReviewForm,
    FilterDecisionFilter,
    FilterDecisionForm,
    FilteringReviewFilter,
    FilteringReviewForm,
    MonitoringAlertFilter,
    MonitoringAlertForm,
)
from compliance.models import FilterDecision, FilteringReview, MonitoringAlert, School
from compliance.policy import PolicyRule
from compliance.selectors import joined, request_school
from compliance.transitions import Refused
from compliance.views.base import RecordListView

FILTERING_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "We will regularly monitor internet use taking place via our provided devices and systems "
    "and evaluate online safety mechanisms to ensure that this policy is consistently applied. "
    "Any issues identified will be incorporated into our action planning.",
)
DENIED = "Filtering and monitoring are for the DSL, deputies and the headteacher."


def _require(allowed: bool, message: str = DENIED) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _get(model, pk, *related):
    try:
        return joined(model.objects.all(), related).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None


def _named(request) -> dict:
    school = request_school(request)
    return {
        "senior_leader": school.filtering_senior_leader if school else None,
        "governor": school.filtering_governor if school else None,
    }


def overview(request):
    """The named people, the review's due date, alerts awaiting review and the three lists."""
    user = request.user
    _require(fm.may_see_filtering(user))
    counts = MonitoringAlert.objects.aggregate(
        awaiting=Count("pk", filter=Q(status=MonitoringAlert.Status.AWAITING)),
        total=Count("pk"),
    )
    context = {
        "policy_rule": FILTERING_RULE,
        "due": fm.filtering_review_due(),
        "alerts": counts,
        "decisions": FilterDecision.objects.count(),
        "may_edit_school": access.may_edit_kind(user, School),
        **_named(request),
    }
    return render(request, "compliance/filtering_overview.html", context)


# The annual review


class FilteringReviewList(RecordListView):
    model = FilteringReview
    filterset_class = FilteringReviewFilter
    prefetch_related = ("participants",)
    template_name = "compliance/filtering_review_list.html"

    def dispatch(self, request, *args, **kwargs):
        _require(fm.may_see_filtering(request.user))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = FILTERING_RULE
        context["due"] = fm.filtering_review_due()
        return context


def review_add(request):
    _require(fm.may_record_filtering(request.user))
    form = FilteringReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = fm.filtering_review_record(by=request.user, **form.service_arguments())
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            added = len(form.cleaned_data["actions"])
            messages.success(
                request,
                f"Review {review.reference} recorded"
                + (
                    f"; {added} action{'s' if added > 1 else ''} added to the plan."
                    if added
                    else "."
                ),
            )
            return redirect(review)
    context = {
        "form": form,
        "title": "Record the annual review of filtering and monitoring",
        "policy_rule": FILTERING_RULE,
        "cancel_url": reverse("compliance:filtering_review_list"),
        **_named(request),
    }
    return render(request, "compliance/filtering_review_form.html", context)


def review_detail(request, pk: int):
    user = request.user
    _require(fm.may_see_filtering(user))
    review = _get(FilteringReview, pk, "recorded_by")
    context = {
        "review": review,
        "participants": review.participants.all(),
        "actions": fm.review_actions(review),
        "policy_rule": FILTERING_RULE,
        "history_url": reverse("compliance:history", args=["filtering_review", review.pk]),
    }
    return render(request, "compliance/filtering_review_detail.html", context)


# Decisions to block or allow


class FilterDecisionList(RecordListView):
    model = FilterDecision
    filterset_class = FilterDecisionFilter
    select_related = ("decided_by", "reversed_by")
    template_name = "compliance/filter_decision_list.html"

    def dispatch(self, request, *args, **kwargs):
        _require(fm.may_see_filtering(request.user))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = FILTERING_RULE
        return context


def decision_add(request):
    user = request.user
    _require(fm.may_record_filtering(user))
    reverses = None
    if request.GET.get("reverses") or request.POST.get("reverses"):
        reverses = _get(FilterDecision, request.GET.get("reverses") or request.POST.get("reverses"))
    form = FilterDecisionForm(request.POST or None, reverses=reverses)
    if request.method == "POST" and form.is_valid():
        try:
            decision = fm.filter_decision_record(by=user, reverses=reverses, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Decision {decision.reference} recorded.")
            return redirect(decision)
    context = {
        "form": form,
        "reverses": reverses,
        "title": f"Reverse {reverses.reference}" if reverses else "Record a filtering decision",
        "policy_rule": FILTERING_RULE,
        "cancel_url": reverses.get_absolute_url()
        if reverses
        else reverse("compliance:filter_decision_list"),
    }
    return render(request, "compliance/filter_decision_form.html", context)


def decision_detail(request, pk: int):
    _require(fm.may_see_filtering(request.user))
    decision = _get(FilterDecision, pk, "decided_by", "recorded_by", "reverses", "reversed_by")
    in_force = fm.decision_in_force(decision)
    context = {
        "decision": decision,
        "in_force": in_force,
        "reversed_by": None if in_force else decision.reversed_by,
        "may_reverse": in_force and fm.may_record_filtering(request.user),
        "policy_rule": FILTERING_RULE,
        "history_url": reverse("compliance:history", args=["filter_decision", decision.pk]),
    }
    return render(request, "compliance/filter_decision_detail.html", context)


# Monitoring alerts


class MonitoringAlertList(RecordListView):
    """Alerts without the person's name: the kind, the system, whose (a learner, staff)."""

    model = MonitoringAlert
    filterset_class = MonitoringAlertFilter
    template_name = "compliance/alert_list.html"

    def dispatch(self, request, *args, **kwargs):
        _require(fm.may_see_filtering(request.user))
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        # no learner or staff member is read for a list
        return super().base_queryset().defer("summary", "review_note")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = FILTERING_RULE
        return context


def alert_add(request):
    _require(fm.may_record_filtering(request.user))
    form = MonitoringAlertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alert = fm.alert_record(by=request.user, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Alert {alert.reference} recorded: it awaits the DSL.")
            return redirect(alert)
    context = {
        "form": form,
        "title": "Record a monitoring alert",
        "policy_rule": FILTERING_RULE,
        "cancel_url": reverse("compliance:alert_list"),
    }
    return render(request, "compliance/record_form.html", context)


def _alert_context(request, alert: MonitoringAlert, form: AlertReviewForm | None = None) -> dict:
    user = request.user
    show_person = fm.may_see_alert_person(user)
    may_review = fm.may_review_alert(user) and alert.status == MonitoringAlert.Status.AWAITING
    return {
        "alert": alert,
        "show_person": show_person,
        "may_review": may_review,
        "form": (form or AlertReviewForm()) if may_review else None,
        "policy_rule": FILTERING_RULE,
        "may_view_history": show_person,
        "history_url": reverse("compliance:history", args=["alert", alert.pk]),
    }


def alert_detail(request, pk: int):
    user = request.user
    _require(fm.may_see_filtering(user))
    alert = _get(MonitoringAlert, pk, "learner", "staff", "reviewed_by", "recorded_by")
    if fm.may_see_alert_person(user) and (alert.learner_id or alert.staff_id):
        # the person an alert is about is confidential: every opening is logged
        services.record_access_log(user=user, record=alert)
    return render(request, "compliance/alert_detail.html", _alert_context(request, alert))


def alert_review(request, pk: int):
    """GET shows the alert with the review form; POST records the outcome."""
    user = request.user
    _require(fm.may_see_filtering(user))
    _require(
        fm.may_review_alert(user), "Only the DSL, or a deputy acting for them, reviews alerts."
    )
    alert = _get(MonitoringAlert, pk, "learner", "staff", "reviewed_by", "recorded_by")
    if alert.status != MonitoringAlert.Status.AWAITING:
        messages.info(request, f"{alert.reference} has already been reviewed.")
        return redirect(alert)
    form = AlertReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            fm.alert_review(alert=alert, by=user, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{alert.reference} reviewed.")
            return redirect(alert)
    return render(request, "compliance/alert_detail.html", _alert_context(request, alert, form))


# The dashboard panel


def _panel_context(request) -> dict:
    today = timezone.localdate()
    due = fm.filtering_review_due(today)
    school = request_school(request)
    return {
        "due": due,
        "due_soon": due["next_review"] is not None
        and not due["overdue"]
        and due["next_review"] <= today + datetime.timedelta(days=30),
        "awaiting": fm.alerts_awaiting_review().count(),
        "unnamed": school is not None
        and (school.filtering_senior_leader_id is None or school.filtering_governor_id is None),
        "may_review": fm.may_review_alert(request.user),
    }


def _fetcher(model, allowed):
    def fetch(user, pk):
        _require(allowed(user))
        return _get(model, pk)

    return fetch


def register() -> None:
    """The panel and history pages (from compliance.views.review.register)."""
    from compliance.history import register_history_kind

    register_panel(
        Panel(
            key="filtering",
            title="Filtering and monitoring",
            template="compliance/panels/filtering.html",
            visible=fm.may_see_filtering,
            context=_panel_context,
            reads=(FilteringReview, MonitoringAlert, School),
            order=4,
        )
    )
    register_history_kind(
        "filtering_review", FilteringReview, _fetcher(FilteringReview, fm.may_see_filtering)
    )
    register_history_kind(
        "filter_decision", FilterDecision, _fetcher(FilterDecision, fm.may_see_filtering)
    )
    # an alert's history names the person it is about: those who review alerts only
    register_history_kind(
        "alert", MonitoringAlert, _fetcher(MonitoringAlert, fm.may_see_alert_person)
    )


urlpatterns = [
    path("filtering/", overview, name="filtering"),
    path("filtering/reviews/", FilteringReviewList.as_view(), name="filtering_review_list"),
    path("filtering/reviews/add/", review_add, name="filtering_review_add"),
    path("filtering/reviews/<int:pk>/", review_detail, name="filtering_review_detail"),
    path("filtering/decisions/", FilterDecisionList.as_view(), name="filter_decision_list"),
    path("filtering/decisions/add/", decision_add, name="filter_decision_add"),
    path("filtering/decisions/<int:pk>/", decision_detail, name="filter_decision_detail"),
    path("filtering/alerts/", MonitoringAlertList.as_view(), name="alert_list"),
    path("filtering/alerts/add/", alert_add, name="alert_add"),
    path("filtering/alerts/<int:pk>/", alert_detail, name="alert_detail"),
    path("filtering/alerts/<int:pk>/review/", alert_review, name="alert_review"),
]
