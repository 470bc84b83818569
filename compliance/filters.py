"""List filters for the community pages."""

from __future__ import annotations

from typing import TypedDict

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    StaffMember,
    Visit,
    Visitor,
    YearGroup,
)


def _name_search(fields: list[str]):
    def method(queryset: QuerySet, name: str, value: str) -> QuerySet:
        query = Q()
        for word in value.split()[:5]:
            word_q = Q()
            for field in fields:
                word_q |= Q(**{f"{field}__icontains": word})
            query &= word_q
        return queryset.filter(query)

    return method


class SearchFilter(django_filters.CharFilter):
    def __init__(self, fields: list[str], **kwargs):
        kwargs.setdefault("label", "Search")
        super().__init__(method=_name_search(fields), **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return self.method(qs, self.field_name, value[:200])


class StaffFilter(django_filters.FilterSet):
    q = SearchFilter(["first_name", "last_name", "job_title", "mis_id"])
    active = django_filters.BooleanFilter(
        widget=forms.Select(choices=[("", "Any"), ("true", "Active"), ("false", "Not active")])
    )

    class Meta:
        model = StaffMember
        fields = ["q", "staff_type", "active"]


class FormClassFilter(django_filters.FilterSet):
    class Meta:
        model = FormClass
        fields = ["year_group"]


class LearnerFilter(django_filters.FilterSet):
    q = SearchFilter(["first_name", "last_name", "mis_id"])
    year_group = django_filters.ChoiceFilter(choices=YearGroup.choices)
    form_class = django_filters.ModelChoiceFilter(queryset=FormClass.objects.all(), label="Class")
    on_roll = django_filters.BooleanFilter(
        field_name="left",
        lookup_expr="isnull",
        label="On roll",
        widget=forms.Select(choices=[("", "Any"), ("true", "On roll"), ("false", "Left")]),
    )

    class Meta:
        model = Learner
        fields = ["q", "year_group", "form_class", "on_roll"]

    def __init__(self, *args, form_classes: QuerySet | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if form_classes is not None:
            self.filters["form_class"].queryset = form_classes


class ParentCarerFilter(django_filters.FilterSet):
    q = SearchFilter(["first_name", "last_name", "email", "phone"])

    class Meta:
        model = ParentCarer
        fields = ["q", "relationship"]


class VisitorFilter(django_filters.FilterSet):
    q = SearchFilter(["first_name", "last_name", "organisation"])

    class Meta:
        model = Visitor
        fields = ["q", "visitor_type", "regular_or_extended"]


class VisitFilter(django_filters.FilterSet):
    q = SearchFilter(["visitor__first_name", "visitor__last_name", "visitor__organisation"])
    arrived_from = django_filters.DateFilter(
        field_name="arrived",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    arrived_to = django_filters.DateFilter(
        field_name="arrived",
        lookup_expr="date__lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    on_site = django_filters.BooleanFilter(
        field_name="left",
        lookup_expr="isnull",
        label="On site now",
        widget=forms.Select(choices=[("", "Any"), ("true", "On site"), ("false", "Signed out")]),
    )

    class Meta:
        model = Visit
        fields = ["q", "arrived_from", "arrived_to", "on_site"]


# Filter forms written out by hand ------------------------------------------------------


class FilterField(TypedDict):
    """One of a filter form's fields, ready to write out by hand
    (templates/includes/filter_form_light.html): crispy-forms renders the same markup at
    a few milliseconds a field, and the busiest lists (the triage queue, the approvals
    queue) are opened all day. A dict: a template tries a key before an attribute."""

    id: str
    name: str
    label: str
    kind: str  # "select", or the input's type ("text", "date")
    css: str
    value: str | None  # an input's value attribute (None: no attribute)
    options: list[tuple[str, str, bool]]  # a select's (value, label, selected)
    errors: list[str]


def filter_fields(form: forms.Form) -> list[FilterField]:
    """The form's fields as Django's widgets would render them: the same names, ids,
    values, options and selections, with crispy's classes and error ids."""
    fields = []
    for bound in form:
        widget = bound.field.widget
        shown = widget.format_value(bound.value())
        options: list[tuple[str, str, bool]] = []
        if isinstance(widget, forms.Select):
            kind, css, value = "select", "select form-select", None
            selected = set(shown)
            for option, label in widget.choices:
                option = str(option)
                options.append((option, str(label), option in selected))
                selected.discard(option)  # as Django: a value selects its first option only
        else:
            kind = widget.input_type
            css = f"{type(widget).__name__.lower()} form-control"
            value = None if shown is None else str(shown)
        fields.append(
            FilterField(
                id=bound.auto_id,
                name=bound.html_name,
                label=str(bound.label),
                kind=kind,
                css=css,
                value=value,
                options=options,
                errors=list(bound.errors),
            )
        )
    return fields
