"""List filters for the community pages."""

from __future__ import annotations

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
