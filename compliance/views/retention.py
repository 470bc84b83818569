"""The DSL's retention page: what is due for review, legal holds, disposals awaiting approval.

The DSL and the deputies open it; the actions are POST-only and go through the
transition functions in `compliance.retention`. A refused action comes back to the page
with the reason as a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from compliance import retention
from compliance.models import DisposalRecord, LegalHold
from compliance.policy import RULES as POLICY_RULES
from compliance.retention import RetentionRefused

PAGE_SIZE = 25


class RecordForm(forms.Form):
    """Names a record by its retention rule and key; the page it was sent from."""

    rule = forms.CharField(max_length=100)
    pk = forms.CharField(max_length=64)
    page = forms.IntegerField(required=False, min_value=1)

    def record(self):
        rule = retention.get_rule(self.cleaned_data["rule"])
        model = rule.model
        try:
            return rule, model.objects.get(pk=self.cleaned_data["pk"])
        except (model.DoesNotExist, ValueError, TypeError, forms.ValidationError):
            raise RetentionRefused(
                f"That {model._meta.verbose_name} no longer exists; it may have been disposed of."
            ) from None


class HoldForm(RecordForm):
    reason = forms.CharField(max_length=2000, strip=True)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("refuse", "Refuse")])
    note = forms.CharField(max_length=2000, required=False, strip=True)


class LiftForm(forms.Form):
    reason = forms.CharField(max_length=2000, strip=True)


_FIELD_NAMES = {
    "rule": "the kind of record",
    "pk": "the record",
    "reason": "the reason",
    "decision": "approve or refuse",
    "note": "the note",
}


def _require_viewer(request) -> None:
    if not retention.may_view_retention(request.user):
        raise PermissionDenied("Only the DSL and the deputy DSLs see retention and disposal.")


def _back(request, page: int | None = None) -> HttpResponseRedirect:
    url = reverse("compliance:retention_review")
    if page and page > 1:
        url = f"{url}?page={page}"
    return HttpResponseRedirect(url)


def _form_problem(form: forms.Form) -> str:
    missing = [_FIELD_NAMES.get(name, name) for name in form.errors]
    return f"Nothing was changed: check {', '.join(missing)}."


def _rule_label(key: str) -> str:
    try:
        return retention.get_rule(key).label
    except RetentionRefused:
        return key


@require_safe
def review(request):
    """What is due for review, the disposals awaiting the DSL and the open legal holds."""
    _require_viewer(request)
    today = timezone.localdate()
    page = Paginator(retention.DueList(today=today), PAGE_SIZE).get_page(request.GET.get("page"))
    pending = list(retention.pending_disposals())
    for disposal in pending:
        disposal.rule_label = _rule_label(disposal.rule)
    holds = retention.describe_held(
        list(
            retention.open_holds()
            .select_related("placed_by", "content_type")
            .order_by("placed_at", "pk")
        )
    )
    return render(
        request,
        "compliance/retention.html",
        {
            "today": today,
            "rules": retention.rules(),
            "page_obj": page,
            "due": page.object_list,
            "pending": pending,
            "holds": holds,
            "may_request": retention.may_request_disposal(request.user),
            "may_decide": retention.may_decide_disposal(request.user),
            "may_place_hold": retention.may_place_hold(request.user),
            "may_lift_hold": retention.may_lift_hold(request.user),
            "policy_rule": POLICY_RULES["confidentiality"],
        },
    )


@require_safe
def disposals(request):
    """Every disposal asked for, refused or carried out: the record that items existed."""
    _require_viewer(request)
    records = DisposalRecord.objects.select_related("requested_by", "decided_by").order_by(
        "-requested_at", "-pk"
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for disposal in rows:
        disposal.rule_label = _rule_label(disposal.rule)
    return render(
        request,
        "compliance/retention_disposals.html",
        {"page_obj": page, "rows": rows, "policy_rule": POLICY_RULES["confidentiality"]},
    )


@require_POST
def disposal_request(request):
    _require_viewer(request)
    form = RecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problem(form))
        return _back(request, form.cleaned_data.get("page"))
    try:
        rule, record = form.record()
        disposal = retention.disposal_request(record=record, rule_key=rule.key, by=request.user)
    except (PermissionDenied, RetentionRefused) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Asked the DSL to approve disposing of {disposal.reference}.")
    return _back(request, form.cleaned_data["page"])


@require_POST
def disposal_decide(request, pk: int):
    _require_viewer(request)
    disposal = get_object_or_404(DisposalRecord, pk=pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problem(form))
        return _back(request)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        disposal = retention.disposal_decide(
            disposal=disposal, approve=approve, note=form.cleaned_data["note"], by=request.user
        )
    except (PermissionDenied, RetentionRefused) as refused:
        messages.error(request, str(refused))
    else:
        if approve:
            messages.success(request, f"Disposed of {disposal.reference}.")
        else:
            messages.success(request, f"Refused the disposal of {disposal.reference}; it is kept.")
    return _back(request)


@require_POST
def hold_place(request):
    _require_viewer(request)
    form = HoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problem(form))
        return _back(request, form.cleaned_data.get("page"))
    try:
        rule, record = form.record()
        retention.legal_hold_place(
            record=record, reason=form.cleaned_data["reason"], by=request.user
        )
    except (PermissionDenied, RetentionRefused) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"Placed a legal hold on {rule.describe(record)}.")
    return _back(request, form.cleaned_data["page"])


@require_POST
def hold_lift(request, pk: int):
    _require_viewer(request)
    hold = get_object_or_404(LegalHold, pk=pk)
    form = LiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problem(form))
        return _back(request)
    try:
        retention.legal_hold_lift(hold=hold, reason=form.cleaned_data["reason"], by=request.user)
    except (PermissionDenied, RetentionRefused) as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Lifted the legal hold.")
    return _back(request)


urlpatterns = [
    path("retention/", review, name="retention_review"),
    path("retention/disposals/", disposals, name="retention_disposals"),
    path("retention/disposals/request/", disposal_request, name="retention_disposal_request"),
    path("retention/disposals/<int:pk>/decide/", disposal_decide, name="retention_disposal_decide"),
    path("retention/holds/place/", hold_place, name="retention_hold_place"),
    path("retention/holds/<int:pk>/lift/", hold_lift, name="retention_hold_lift"),
]
