"""A record's history with field-level differences, and the DSL's audit page."""

from __future__ import annotations

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import CharField, F, Model, Value
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from compliance import access
from compliance.history import (
    HISTORY_KINDS,
    TYPE_LABEL,
    fetch_for_history,
    history_entries,
    register_history_kind,
    slug_of,
)
from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    RecordAccess,
    School,
    StaffMember,
    User,
    Visit,
    Visitor,
)


def _fetch_community_record(user, model: type[Model], pk) -> Model:
    if model is User:
        if not access.may_view_audit(user):
            raise PermissionDenied("Only the DSL sees the history of logins.")
        try:
            return User.objects.get(pk=pk)
        except (User.DoesNotExist, ValueError):
            raise Http404("No such login.") from None
    obj = access.get_for_view(user, model, pk)
    if not access.may_view_history(user, obj):
        raise PermissionDenied("Your role does not show the history of this record.")
    return obj


def register_kinds() -> None:
    """Compliance's own records with a history page (called from ComplianceConfig.ready)."""
    for slug, model in [
        ("school", School),
        ("staff", StaffMember),
        ("class", FormClass),
        ("learner", Learner),
        ("parent", ParentCarer),
        ("visitor", Visitor),
        ("visit", Visit),
        ("user", User),
    ]:
        register_history_kind(
            slug, model, lambda user, pk, model=model: _fetch_community_record(user, model, pk)
        )


def record_history(request, kind: str, pk):
    model = HISTORY_KINDS.get(kind)
    if model is None:
        raise Http404("No such kind of record.")
    obj = fetch_for_history(request.user, kind, pk)
    records = list(
        obj.history.select_related("history_user").order_by("history_date", "history_id")
    )
    entries = history_entries(records, model)
    entries.reverse()
    return render(
        request,
        "compliance/history.html",
        {"object": obj, "entries": entries, "kind_label": model._meta.verbose_name},
    )


def _kind_choices() -> list[tuple[str, str]]:
    # read when a form is made, so that kinds registered by later apps are included
    return [("", "All kinds")] + [
        (slug, model._meta.verbose_name.capitalize()) for slug, model in HISTORY_KINDS.items()
    ]


class AuditFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        queryset=User.objects.order_by("last_name", "first_name", "username"),
        required=False,
        label="Changed by",
    )
    kind = forms.ChoiceField(
        choices=_kind_choices,
        required=False,
        label="Kind of record",
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


def audit(request):
    """Every change to every record, newest first: the DSL only."""
    if not access.may_view_audit(request.user):
        raise PermissionDenied("Only the DSL sees the audit history.")
    form = AuditFilterForm(request.GET or None)
    kinds = HISTORY_KINDS
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            kinds = {data["kind"]: HISTORY_KINDS[data["kind"]]}
        if data["person"]:
            filters["history_user"] = data["person"]
        if data["date_from"]:
            filters["history_date__date__gte"] = data["date_from"]
        if data["date_to"]:
            filters["history_date__date__lte"] = data["date_to"]
    parts = [
        model.history.filter(**filters)
        .annotate(record_kind=Value(slug, output_field=CharField()), record_id=F("id"))
        .values(
            "history_id",
            "history_date",
            "history_type",
            "history_user_id",
            "record_kind",
            "record_id",
        )
        .order_by()
        for slug, model in kinds.items()
    ]
    union = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    union = union.order_by("-history_date", "-history_id")
    page = Paginator(union, 50).get_page(request.GET.get("page"))
    users = User.objects.in_bulk({row["history_user_id"] for row in page if row["history_user_id"]})
    rows = [
        {
            "when": row["history_date"],
            "who": users.get(row["history_user_id"]),
            "type": TYPE_LABEL.get(row["history_type"], row["history_type"]),
            "kind": HISTORY_KINDS[row["record_kind"]]._meta.verbose_name,
            "record_id": row["record_id"],
            "url": reverse("compliance:history", args=[row["record_kind"], row["record_id"]]),
        }
        for row in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/audit.html",
        {"form": form, "page_obj": page, "rows": rows, "query_string": query.urlencode()},
    )


class AccessLogFilterForm(forms.Form):
    person = forms.ModelChoiceField(
        queryset=User.objects.order_by("last_name", "first_name", "username"),
        required=False,
        label="Opened by",
    )
    kind = forms.ChoiceField(
        choices=_kind_choices,
        required=False,
        label="Kind of record",
    )
    record = forms.IntegerField(required=False, min_value=1, label="Record number")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )


def access_log(request):
    """Every read of a confidential record, newest first: the DSL only."""
    if not access.may_view_audit(request.user):
        raise PermissionDenied("Only the DSL sees who opened which record.")
    form = AccessLogFilterForm(request.GET or None)
    entries = RecordAccess.objects.select_related("user", "content_type")
    if form.is_valid():
        data = form.cleaned_data
        if data["person"]:
            entries = entries.filter(user=data["person"])
        if data["kind"]:
            model = HISTORY_KINDS[data["kind"]]
            entries = entries.filter(content_type=ContentType.objects.get_for_model(model))
        if data["record"]:
            entries = entries.filter(object_id=str(data["record"]))
        if data["date_from"]:
            entries = entries.filter(at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(at__date__lte=data["date_to"])
    page = Paginator(entries.order_by("-at", "-pk"), 50).get_page(request.GET.get("page"))
    rows = []
    for entry in page:
        model = entry.content_type.model_class()
        slug = slug_of(model)
        rows.append(
            {
                "entry": entry,
                "kind": model._meta.verbose_name if model else entry.content_type.model,
                "url": reverse("compliance:history", args=[slug, entry.object_id])
                if slug and entry.object_id.isdigit()
                else "",
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/access_log.html",
        {"form": form, "page_obj": page, "rows": rows, "query_string": query.urlencode()},
    )
