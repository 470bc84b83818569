"""Forms for pre-existing relationship declarations (policy section 5).

They check the shape of what was typed; the rules are in compliance.relationship_services.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from compliance.filters import SearchFilter
from compliance.forms import ChoicesById, DateInput
from compliance.models import Learner, ParentCarer, RelationshipDeclaration, User
from compliance.roles import Role


class DeclarationForm(forms.Form):
    relationship_with = forms.ChoiceField(
        label="The relationship is with", choices=RelationshipDeclaration.With.choices
    )
    kind = forms.ChoiceField(label="The relationship", choices=RelationshipDeclaration.Kind.choices)
    who = forms.CharField(
        label="Who",
        max_length=200,
        help_text="Their names and, for a learner, their class, so the DSL can identify them.",
    )
    nature = forms.CharField(
        label="The circumstances",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=(
            "How you are in touch outside school, and what could make it hard never to "
            "contact them from a personal device."
        ),
    )


def _users_with(*roles: Role):
    return (
        User.objects.filter(is_active=True, groups__name__in=roles)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class _UserChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class DiscussionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    discussed_on = forms.DateField(
        label="Date of the discussion", widget=DateInput, initial=timezone.localdate
    )
    discussed_with_dsl = _UserChoice(
        label="The DSL (or deputy) in the discussion", queryset=User.objects.none()
    )
    discussed_with_head = _UserChoice(
        label="The headteacher in the discussion", queryset=User.objects.none()
    )
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    arrangements = forms.CharField(
        label="Agreed arrangements and boundaries",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        required=False,
        help_text="For example: contact only through the school office and school email.",
    )
    learners = ChoicesById(
        label="Learners it concerns",
        queryset=Learner.objects.none(),
        required=False,
        help_text="Link the learners' records, if any (hold Ctrl to choose several).",
    )
    parents = ChoicesById(
        label="Parents or carers it concerns", queryset=ParentCarer.objects.none(), required=False
    )

    def __init__(self, *args, declaration: RelationshipDeclaration, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = declaration.version
        declarer = declaration.staff.user_id
        self.fields["discussed_with_dsl"].queryset = _users_with(Role.DSL, Role.DEPUTY_DSL).exclude(
            pk=declarer
        )
        self.fields["discussed_with_head"].queryset = _users_with(Role.HEADTEACHER).exclude(
            pk=declarer
        )
        self.fields["learners"].queryset = Learner.objects.filter(left__isnull=True).order_by(
            "last_name", "first_name"
        )
        self.fields["parents"].queryset = ParentCarer.objects.order_by("last_name", "first_name")

    def clean_discussed_on(self):
        day = self.cleaned_data["discussed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Record a discussion once it has taken place.")
        return day


class EndForm(forms.Form):
    reason = forms.CharField(
        label="Why it no longer applies",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class DeclarationFilter(django_filters.FilterSet):
    q = SearchFilter(["staff__first_name", "staff__last_name", "who"])
    status = django_filters.ChoiceFilter(choices=RelationshipDeclaration.Status.choices)
    relationship_with = django_filters.ChoiceFilter(
        label="With", choices=RelationshipDeclaration.With.choices
    )
    reconfirm = django_filters.BooleanFilter(
        label="To re-confirm since the last review",
        method="filter_reconfirm",
        widget=forms.Select(choices=[("", "Any"), ("true", "Yes")]),
    )

    class Meta:
        model = RelationshipDeclaration
        fields = ["q", "status", "relationship_with"]

    def filter_reconfirm(self, queryset, name, value):
        from compliance.relationship_services import to_reconfirm

        return to_reconfirm(queryset) if value else queryset
