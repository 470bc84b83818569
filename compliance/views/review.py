"""The policy record, its reviews and sign-off, the action plan, training, monitoring,
the procedures page and the governors' annual report (sections 2, 8 and 9).

Governors reach the reports, the policy and its reviews, and sign-off; they never see a
person's name here. Who may do what is asked of compliance.review_services.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from compliance import access, guidance, reports
from compliance import review_services as rs
from compliance.charts import bar_chart
from compliance.dashboard import Panel, register_panel
from compliance.forms_review import (
    ActionEditForm,
    ActionForm,
    CommunicationForm,
    LinkedPolicyForm,
    MonitoringEditForm,
    MonitoringForm,
    ReviewForm,
    SummaryForm,
    TrainingEditForm,
    TrainingForm,
)
from compliance.models import (
    Acknowledgement,
    ActionPlanItem,
    AnnualReportSummary,
    LinkedPolicy,
    MonitoringCheck,
    PolicyCommunication,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    StaffType,
    TrainingSession,
)
from compliance.panels import acknowledgement_items
from compliance.policy import PolicyRule
from compliance.policy_text import KEY_POINTS
from compliance.roles import Role
from compliance.selectors import (
    acknowledgements_in_force,
    current_policy,
    key_contacts,
    request_policy,
    request_school,
)
from compliance.transitions import Refused
from compliance.views.base import RecordUpdateView

REVIEW_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "Victoria Road Primary School will review this policy at least annually. The policy will "
    "be revised following any national or local policy updates, any local concerns and/or any "
    "changes to our technical infrastructure.",
)
MONITORING_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "We will regularly monitor internet use taking place via our provided devices and systems "
    "and evaluate online safety mechanisms to ensure that this policy is consistently applied. "
    "Any issues identified will be incorporated into our action planning.",
)
TRAINING_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "All members of the community will be made aware of how the school will monitor policy "
    "compliance: via staff training and Acceptable Use Policies.",
)
DEBRIEF_RULE = PolicyRule(
    "9",
    "Responding to policy breaches",
    "After any investigations are completed, leadership staff will debrief, identify lessons "
    "learnt and implement any policy or curriculum changes, as required.",
)
PROCEDURES_RULE = PolicyRule(
    "9",
    "Responding to policy breaches",
    "Learners, parents and staff will be informed of our complaints procedure and staff will "
    "be made aware of the whistleblowing procedure.",
)
COMMUNICATION_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "All members of the community will be made aware of how the school will monitor policy "
    "compliance: via staff training and Acceptable Use Policies.",
)
REPORT_YEARS_SHOWN = 6


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _current_year_start() -> int:
    return rs.school_year_start(timezone.localdate()).year


def _check_year(year: int) -> None:
    latest = _current_year_start()
    if not latest - 50 <= year <= latest:
        raise Http404("No report for that school year.")


# The policy record


def _communications_by_version(versions: list[PolicyVersion]) -> None:
    """Puts on each version, per audience, the dates and ways it was told. One query."""
    told: dict[int, dict[str, list]] = {}
    for communication in PolicyCommunication.objects.order_by("communicated_on", "pk"):
        by_audience = told.setdefault(communication.policy_version_id, {})
        by_audience.setdefault(communication.audience, []).append(communication)
    for version in versions:
        version.told = [
            {"audience": audience, "entries": told.get(version.pk, {}).get(audience.value, [])}
            for audience in PolicyCommunication.Audience
        ]


def policy_detail(request):
    _require(access.has_any_role(request.user), "Your login has no role yet.")
    user = request.user
    policy = current_policy()
    # owners are people: governors see the register without them
    show_people = rs.may_plan(user)
    versions = list(PolicyVersion.objects.all())
    _communications_by_version(versions)
    context = {
        "policy": policy,
        "policy_rule": REVIEW_RULE,
        "versions": versions,
        "followed": guidance.followed(policy) if policy else [],
        "newer_guidance": guidance.newer_guidance(policy),
        "linked": LinkedPolicy.objects.select_related("owner") if show_people else None,
        "linked_names": LinkedPolicy.objects.values("name", "next_review"),
        "show_people": show_people,
        "reviews": PolicyReview.objects.select_related("new_version"),
        "may_open_reviews": rs.may_read_reports(user),
        "may_record_review": rs.may_record_review(user),
        "may_plan": rs.may_plan(user),
        "today": timezone.localdate(),
    }
    return render(request, "compliance/policy_detail.html", context)


def percent(part: int, whole: int) -> int | None:
    """A whole-number percentage, None when there is nobody to count."""
    return round(100 * part / whole) if whole else None


def policy_read(request):
    """The policy's key points, section by section, where staff acknowledge it."""
    _require(access.has_any_role(request.user), "Your login has no role yet.")
    staff = StaffMember.objects.filter(user=request.user).first()
    context = {
        "policy": request_policy(request),
        "sections": KEY_POINTS,
        "staff": staff,
        "items": acknowledgement_items(staff) if staff else [],
    }
    return render(request, "compliance/policy_read.html", context)


def policy_acknowledgements(request):
    """The DSL sees who has not acknowledged the current version, by staff type."""
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher see this.")
    policy = current_policy()
    # an acknowledgement of the latest material version, or any later one, counts
    acked = acknowledgements_in_force(Acknowledgement.Kind.POLICY).filter(staff=OuterRef("pk"))
    aup = Acknowledgement.objects.filter(staff=OuterRef("pk"), kind=Acknowledgement.Kind.AUP)
    staff = (
        StaffMember.objects.filter(active=True)
        .annotate(acked=Exists(acked), aup=Exists(aup))
        .order_by("staff_type", "last_name", "first_name")
    )
    groups = []
    for staff_type in StaffType:
        members = [s for s in staff if s.staff_type == staff_type.value]
        if members:
            missing = [s for s in members if not s.acked]
            no_aup = [s for s in members if not s.aup]
            groups.append(
                {
                    "label": staff_type.label,
                    "total": len(members),
                    "missing": missing,
                    "no_aup": no_aup,
                    "rate": percent(len(members) - len(missing), len(members)),
                    "aup_rate": percent(len(members) - len(no_aup), len(members)),
                }
            )
    total = sum(group["total"] for group in groups)
    acknowledged = total - sum(len(group["missing"]) for group in groups)
    context = {
        "policy": policy,
        "groups": groups,
        "policy_rule": TRAINING_RULE,
        "total": total,
        "acknowledged": acknowledged,
        "rate": percent(acknowledged, total),
    }
    return render(request, "compliance/policy_acknowledgements.html", context)


# Reviews and sign-off


def review_add(request):
    _require(rs.may_record_review(request.user), "Only the DSL or the headteacher records reviews.")
    policy = current_policy()
    # the new version starts from the guidance the one in force follows
    initial = (
        {field: getattr(policy, field) for field in guidance.VERSION_FIELDS.values()}
        if policy
        else {}
    )
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            review = rs.review_record(by=request.user, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Review recorded: {review.new_version} is in force. It now awaits a "
                "governor's sign-off.",
            )
            return redirect(review)
    context = {
        "form": form,
        "title": "Record a review of the policy",
        "policy_rule": REVIEW_RULE,
        "cancel_url": reverse("compliance:policy_detail"),
        "policy": policy,
        "newer_guidance": guidance.newer_guidance(policy),
    }
    return render(request, "compliance/review_form.html", context)


def communication_add(request, pk: int):
    """When and how a version was told to staff, pupils or parents."""
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher record this.")
    version = get_object_or_404(PolicyVersion, pk=pk)
    form = CommunicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rs.communication_record(by=request.user, policy_version=version, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Recorded who was told of {version}.")
            return redirect(reverse("compliance:policy_detail") + "#versions-heading")
    context = {
        "form": form,
        "title": f"Record who was told of {version}",
        "policy_rule": COMMUNICATION_RULE,
        "cancel_url": reverse("compliance:policy_detail"),
    }
    return render(request, "compliance/record_form.html", context)


def review_detail(request, pk: int):
    user = request.user
    _require(rs.may_read_reports(user), "Governors and safeguarding leads see reviews.")
    review = get_object_or_404(PolicyReview.objects.select_related("new_version"), pk=pk)
    context = {
        "review": review,
        "policy_rule": REVIEW_RULE,
        # governors see what was decided and when, never who
        "show_people": rs.may_plan(user),
        "may_sign_off": rs.may_sign_off(user) and not review.signed_off,
    }
    if context["show_people"]:
        context["reviewed_by"] = review.reviewed_by
        context["signed_by"] = review.governor_signed_by
    return render(request, "compliance/review_detail.html", context)


@require_POST
def review_sign_off(request, pk: int):
    _require(rs.may_sign_off(request.user), "Only a governor signs off a review.")
    review = get_object_or_404(PolicyReview, pk=pk)
    try:
        rs.review_sign_off(review=review, by=request.user)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Thank you: you signed off the review.")
    return redirect(review)


# Action plan


def actions_list(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher see this.")
    today = timezone.localdate()
    items = ActionPlanItem.objects.select_related("owner")
    show = request.GET.get("show", "open")
    if show == "open":
        items = items.filter(status=ActionPlanItem.Status.OPEN)
    elif show == "closed":
        items = items.exclude(status=ActionPlanItem.Status.OPEN)
    counts = ActionPlanItem.objects.aggregate(
        open=Count("pk", filter=Q(status=ActionPlanItem.Status.OPEN)),
        overdue=Count("pk", filter=Q(status=ActionPlanItem.Status.OPEN, due__lt=today)),
        done=Count("pk", filter=Q(status=ActionPlanItem.Status.DONE)),
    )
    context = {
        "items": items,
        "show": show,
        "counts": counts,
        "today": today,
        "policy_rule": MONITORING_RULE,
        "statuses": [ActionPlanItem.Status.DONE, ActionPlanItem.Status.DROPPED],
    }
    return render(request, "compliance/actions_list.html", context)


def actions_add(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher add actions.")
    initial = {"source": request.GET.get("source", ActionPlanItem.Source.REVIEW)}
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rs.action_create(by=request.user, **form.cleaned_data)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, "Action added to the plan.")
            return redirect("compliance:actions_list")
    context = {
        "form": form,
        "title": "Add to the action plan",
        "policy_rule": DEBRIEF_RULE,
        "cancel_url": reverse("compliance:actions_list"),
    }
    return render(request, "compliance/actions_form.html", context)


@require_POST
def actions_close(request, pk: int):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher close actions.")
    action = get_object_or_404(ActionPlanItem, pk=pk)
    try:
        rs.action_close(action=action, by=request.user, status=request.POST.get("status", ""))
    except (Refused, ValueError) as refused:
        message = str(refused) if isinstance(refused, Refused) else "Choose how it was closed."
        messages.error(request, message)
    else:
        messages.success(request, "Action closed.")
    return redirect("compliance:actions_list")


# Training and monitoring


def training_list(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher see this.")
    sessions = TrainingSession.objects.annotate(attended=Count("attendees"))
    context = {"sessions": sessions, "policy_rule": TRAINING_RULE}
    return render(request, "compliance/training_list.html", context)


def training_add(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher add training.")
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rs.training_record(by=request.user, **form.cleaned_data)
        messages.success(request, "Training session recorded.")
        return redirect("compliance:training_list")
    context = {
        "form": form,
        "title": "Record a training session",
        "policy_rule": TRAINING_RULE,
        "cancel_url": reverse("compliance:training_list"),
    }
    return render(request, "compliance/training_form.html", context)


def monitoring_list(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher see this.")
    context = {"checks": MonitoringCheck.objects.all(), "policy_rule": MONITORING_RULE}
    return render(request, "compliance/monitoring_list.html", context)


def monitoring_add(request):
    _require(rs.may_plan(request.user), "Only the DSL, deputies and the headteacher add checks.")
    form = MonitoringForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rs.monitoring_record(by=request.user, **form.cleaned_data)
        messages.success(request, "Monitoring check recorded. Add any issue to the action plan.")
        return redirect("compliance:monitoring_list")
    context = {
        "form": form,
        "title": "Record a monitoring check",
        "policy_rule": MONITORING_RULE,
        "cancel_url": reverse("compliance:monitoring_list"),
    }
    return render(request, "compliance/monitoring_form.html", context)


# Edit pages: the DSL, deputies and the headteacher; a stale save shows both versions (409)


class _PlanEdit(RecordUpdateView):
    denied = "Only the DSL, deputies and the headteacher change these."

    def dispatch(self, request, *args, **kwargs):
        _require(rs.may_plan(request.user), self.denied)
        return super().dispatch(request, *args, **kwargs)

    def get_object(self, queryset=None):
        return get_object_or_404(self.model, pk=self.kwargs["pk"])


class LinkedPolicyEdit(_PlanEdit):
    model = LinkedPolicy
    form_class = LinkedPolicyForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = REVIEW_RULE
        return context


class ActionEdit(_PlanEdit):
    model = ActionPlanItem
    form_class = ActionEditForm

    def dispatch(self, request, *args, **kwargs):
        _require(rs.may_plan(request.user), self.denied)
        action = get_object_or_404(ActionPlanItem, pk=kwargs["pk"])
        if action.status != ActionPlanItem.Status.OPEN:
            messages.error(request, "A closed action is kept as it was; add a new one instead.")
            return redirect("compliance:actions_list")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = DEBRIEF_RULE
        return context


class TrainingEdit(_PlanEdit):
    model = TrainingSession
    form_class = TrainingEditForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = TRAINING_RULE
        return context


class MonitoringEdit(_PlanEdit):
    model = MonitoringCheck
    form_class = MonitoringEditForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy_rule"] = MONITORING_RULE
        return context


# Procedures (section 9), linked from every dashboard


def procedures(request):
    _require(access.has_any_role(request.user), "Your login has no role yet.")
    school = request_school(request)
    context = {
        "school": school,
        "contacts": key_contacts(school),
        "policy_rule": PROCEDURES_RULE,
    }
    return render(request, "compliance/procedures.html", context)


# The governors' annual report


def _year_label(year: int) -> str:
    return f"{year} to {year + 1}"


def report_list(request):
    _require(rs.may_read_reports(request.user), "Governors and safeguarding leads see reports.")
    latest = _current_year_start()
    years = [
        {"year": year, "label": _year_label(year), "current": year == latest}
        for year in range(latest, latest - REPORT_YEARS_SHOWN, -1)
    ]
    context = {"years": years, "may_write_summary": rs.may_write_summary(request.user)}
    return render(request, "compliance/report_list.html", context)


def _report_context(year: int) -> dict:
    start, end = reports.school_year(year)
    sections = reports.report_for(year)
    for section in sections:
        for table in section.tables:
            if table.get("chart") and table["rows"]:
                table["svg"] = bar_chart(f"{section.title}: {table['title']}", table["rows"])
    return {
        "year": year,
        "label": _year_label(year),
        "start": start,
        "end": end,
        "sections": sections,
        "generated": timezone.localtime(),
        "suppressed": reports.SUPPRESSED,
    }


def report_detail(request, year: int):
    _require(rs.may_read_reports(request.user), "Governors and safeguarding leads see reports.")
    _check_year(year)
    context = _report_context(year)
    context["may_write_summary"] = rs.may_write_summary(request.user)
    return render(request, "compliance/report_detail.html", context)


def render_report_pdf(year: int) -> bytes:
    # imported here: WeasyPrint loads Pango and fonts, which no other request needs
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("compliance/report_pdf.html", _report_context(year))
    # nothing is fetched: the template is self-contained
    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


def report_pdf(request, year: int):
    _require(rs.may_read_reports(request.user), "Governors and safeguarding leads see reports.")
    _check_year(year)
    response = HttpResponse(render_report_pdf(year), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"governors-report-{year}-{year + 1}.pdf"
    )
    return response


def report_csv(request, year: int):
    _require(rs.may_read_reports(request.user), "Governors and safeguarding leads see reports.")
    _check_year(year)
    response = HttpResponse(reports.report_csv(year), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"governors-report-{year}-{year + 1}.csv"
    )
    return response


def report_summary(request, year: int):
    _require(rs.may_write_summary(request.user), "The DSL writes the summary of lessons learnt.")
    _check_year(year)
    start = datetime.date(year, 9, 1)
    summary = AnnualReportSummary.objects.filter(year_start=start).first()
    form = SummaryForm(request.POST or None, initial={"text": summary.text if summary else ""})
    if request.method == "POST" and form.is_valid():
        rs.summary_save(by=request.user, year_start=start, text=form.cleaned_data["text"])
        messages.success(request, "Summary saved.")
        return redirect("compliance:report_detail", year=year)
    context = {
        "form": form,
        "title": f"Summary of lessons learnt, {_year_label(year)}",
        "policy_rule": DEBRIEF_RULE,
        "cancel_url": reverse("compliance:report_detail", args=[year]),
    }
    return render(request, "compliance/report_summary_form.html", context)


# Dashboard panels


def _lead_panel_context(request) -> dict:
    today = timezone.localdate()
    policy = request_policy(request)
    actions = ActionPlanItem.objects.aggregate(
        open=Count("pk", filter=Q(status=ActionPlanItem.Status.OPEN)),
        overdue=Count("pk", filter=Q(status=ActionPlanItem.Status.OPEN, due__lt=today)),
    )
    acked = acknowledgements_in_force(Acknowledgement.Kind.POLICY).filter(staff=OuterRef("pk"))
    staff = StaffMember.objects.filter(active=True).aggregate(
        total=Count("pk"), acked=Count("pk", filter=Q(Exists(acked)))
    )
    awaiting = PolicyReview.objects.filter(governor_signed_at__isnull=True).count()
    due_soon = policy is not None and policy.next_review <= today + datetime.timedelta(days=60)
    return {
        "policy": policy,
        "due_soon": due_soon,
        "actions": actions,
        "gaps": staff["total"] - staff["acked"],
        "rate": percent(staff["acked"], staff["total"]),
        "awaiting": awaiting,
        "may_record_review": rs.may_record_review(request.user),
    }


def _governor_panel_context(request) -> dict:
    awaiting = PolicyReview.objects.filter(governor_signed_at__isnull=True).select_related(
        "new_version"
    )
    return {"awaiting": awaiting, "last_year": _current_year_start() - 1}


def register_panels() -> None:
    register_panel(
        Panel(
            key="review_lead",
            title="Review and action plan",
            template="compliance/panels/review_lead.html",
            visible=rs.may_plan,
            context=_lead_panel_context,
            reads=(ActionPlanItem, Acknowledgement, StaffMember, PolicyReview, PolicyVersion),
            order=3,
        )
    )
    register_panel(
        Panel(
            key="review_governor",
            title="Reports and sign-off",
            template="compliance/panels/review_governor.html",
            visible=lambda user: access.has_role(user, Role.GOVERNOR),
            context=_governor_panel_context,
            order=2,
        )
    )
    register_panel(
        Panel(
            key="procedures",
            title="Reporting a concern",
            template="compliance/panels/review_procedures.html",
            visible=access.has_any_role,
            order=89,
        )
    )


def _fetch_for_history(model):
    """History names people: the DSL, deputies and the headteacher only (not governors)."""

    def fetch(user, pk):
        _require(rs.may_plan(user), "Only the DSL, deputies and the headteacher see history.")
        try:
            return model.objects.get(pk=pk)
        except (model.DoesNotExist, ValueError, TypeError):
            raise Http404("No such record.") from None

    return fetch


def register() -> None:
    """Panels, report sections, history pages and the demo seeder (from ComplianceConfig)."""
    from compliance import demo_filtering, demo_review
    from compliance.demo import register_demo_seeder
    from compliance.history import register_history_kind

    register_panels()
    for slug, model in (
        ("review", PolicyReview),
        ("action", ActionPlanItem),
        ("training", TrainingSession),
        ("monitoring", MonitoringCheck),
        ("summary", AnnualReportSummary),
        ("communication", PolicyCommunication),
    ):
        register_history_kind(slug, model, _fetch_for_history(model))
    reports.register()
    register_demo_seeder("compliance_review", demo_review.seed, order=5)
    register_demo_seeder("compliance_filtering", demo_filtering.seed, order=6)
    from compliance import reminders
    from compliance.views import filtering, relationships

    filtering.register()
    relationships.register()
    reminders.register()


urlpatterns = [
    path("policy/", policy_detail, name="policy_detail"),
    path("policy/acknowledgements/", policy_acknowledgements, name="policy_acknowledgements"),
    path("policy/reviews/add/", review_add, name="review_add"),
    path(
        "policy/versions/<int:pk>/told/",
        communication_add,
        name="policy_communication_add",
    ),
    path("policy/reviews/<int:pk>/", review_detail, name="review_detail"),
    path("policy/reviews/<int:pk>/sign-off/", review_sign_off, name="review_sign_off"),
    path("actions/", actions_list, name="actions_list"),
    path("actions/add/", actions_add, name="actions_add"),
    path("actions/<int:pk>/close/", actions_close, name="actions_close"),
    path("actions/<int:pk>/edit/", ActionEdit.as_view(), name="actions_edit"),
    path("policy/read/", policy_read, name="policy_read"),
    path("policy/linked/<int:pk>/edit/", LinkedPolicyEdit.as_view(), name="linked_policy_edit"),
    path("training/<int:pk>/edit/", TrainingEdit.as_view(), name="training_edit"),
    path("monitoring/<int:pk>/edit/", MonitoringEdit.as_view(), name="monitoring_edit"),
    path("training/", training_list, name="training_list"),
    path("training/add/", training_add, name="training_add"),
    path("monitoring/", monitoring_list, name="monitoring_list"),
    path("monitoring/add/", monitoring_add, name="monitoring_add"),
    path("procedures/", procedures, name="procedures"),
    path("reports/", report_list, name="report_list"),
    path("reports/<int:year>/", report_detail, name="report_detail"),
    path("reports/<int:year>/pdf/", report_pdf, name="report_pdf"),
    path("reports/<int:year>/csv/", report_csv, name="report_csv"),
    path("reports/<int:year>/summary/", report_summary, name="report_summary"),
]
