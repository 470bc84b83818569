"""Forms for filtering and monitoring: the annual review, block and allow decisions,
monitoring alerts and their review, and the lists' filters.

They check the shape of what was typed; the rules are in compliance.filtering.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone

from compliance.filters import SearchFilter
from compliance.forms import ChoicesById, DateInput
from compliance.models import (
    FilterDecision,
    FilteringReview,
    Learner,
    MonitoringAlert,
    StaffMember,
)

MAX_ACTIONS = 3
NO_NAMES = "Name no learner: governors read the summary of this review."


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _not_future(day, message: str):
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(message)
    return day


class FilteringReviewForm(forms.Form):
    reviewed_on = forms.DateField(
        label="Date of the review", widget=DateInput, initial=timezone.localdate
    )
    participants = ChoicesById(
        label="Who took part",
        queryset=StaffMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The DSL leads; the named senior leader and governor take part.",
    )
    other_participants = forms.CharField(
        label="Others who took part",
        max_length=300,
        required=False,
        help_text=FilteringReview._meta.get_field("other_participants").help_text,
    )
    what_tested = forms.CharField(
        label="What was tested",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="For example: test sites on each kind of device, a guest login, reports from "
        "the monitoring system, how alerts reach the DSL.",
    )
    findings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, help_text=NO_NAMES
    )
    next_review = forms.DateField(
        label="Next review",
        widget=DateInput,
        required=False,
        help_text="Leave empty for a year on (the standards: at least annually).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        staff = StaffMember.objects.filter(active=True).order_by("last_name", "first_name")
        self.fields["participants"].queryset = staff
        for n in range(1, MAX_ACTIONS + 1):
            self.fields[f"action_{n}_description"] = forms.CharField(
                label=f"Action {n}: what is to be done", required=False, max_length=2000
            )
            self.fields[f"action_{n}_owner"] = forms.ModelChoiceField(
                queryset=staff, required=False, label=f"Action {n}: owner"
            )
            self.fields[f"action_{n}_due"] = forms.DateField(
                label=f"Action {n}: due by", required=False, widget=DateInput
            )

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith("action_")]

    def action_rows(self) -> list[tuple[int, list]]:
        return [
            (n, [self[f"action_{n}_{part}"] for part in ("description", "owner", "due")])
            for n in range(1, MAX_ACTIONS + 1)
        ]

    def clean_reviewed_on(self):
        return _not_future(
            self.cleaned_data["reviewed_on"], "Record the review once it has been held."
        )

    def clean(self):
        data = super().clean()
        actions = []
        for n in range(1, MAX_ACTIONS + 1):
            names = {part: f"action_{n}_{part}" for part in ("description", "owner", "due")}
            typed = [name for name in names.values() if self.data.get(self.add_prefix(name))]
            if not typed:
                continue
            values = {part: data.get(name) for part, name in names.items()}
            missing = [part for part, value in values.items() if not value]
            for part in missing:
                if names[part] not in self.errors:
                    self.add_error(
                        names[part],
                        "Each action needs what is to be done, an owner and a due date.",
                    )
            if not missing:
                actions.append(values)
        data["actions"] = actions
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        names = ("reviewed_on", "participants", "other_participants", "what_tested", "findings")
        return {
            **{name: data[name] for name in names},
            "next_review": data.get("next_review"),
            "actions": data["actions"],
        }


class FilterDecisionForm(forms.Form):
    target = forms.ChoiceField(
        label="A site or a category", choices=FilterDecision.Target.choices, required=False
    )
    what = forms.CharField(
        max_length=300,
        required=False,
        help_text=FilterDecision._meta.get_field("what").help_text,
    )
    action = forms.ChoiceField(label="Decision", choices=FilterDecision.Action.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    decided_by = forms.ModelChoiceField(label="Who decided", queryset=StaffMember.objects.none())
    decided_on = forms.DateField(label="Date decided", widget=DateInput, initial=timezone.localdate)

    def __init__(self, *args, reverses: FilterDecision | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.reverses = reverses
        self.fields["decided_by"].queryset = StaffMember.objects.filter(active=True)
        if reverses is not None:
            # a reversal is about the same site or category, with the other decision
            del self.fields["target"]
            del self.fields["what"]
            opposite = [c for c in FilterDecision.Action.choices if c[0] != reverses.action]
            self.fields["action"].choices = opposite
            self.fields["action"].initial = opposite[0][0]

    def clean_decided_on(self):
        return _not_future(self.cleaned_data["decided_on"], "The date decided is in the future.")

    def clean(self):
        data = super().clean()
        if self.reverses is None:
            if not data.get("target") and "target" not in self.errors:
                self.add_error("target", "Say whether it is a site or a category.")
            if not (data.get("what") or "").strip() and "what" not in self.errors:
                self.add_error("what", "Say which site or category.")
        return data


class MonitoringAlertForm(forms.Form):
    raised_at = forms.DateTimeField(label="When the alert was raised", widget=DateTimeInput)
    system = forms.CharField(
        label="System that raised it",
        max_length=100,
        help_text=MonitoringAlert._meta.get_field("system").help_text,
    )
    kind = forms.ChoiceField(label="What kind", choices=MonitoringAlert.Kind.choices)
    subject = forms.ChoiceField(label="Whose activity", choices=MonitoringAlert.Subject.choices)
    learner = forms.ModelChoiceField(
        queryset=Learner.objects.none(),
        required=False,
        help_text="Only for an alert about a learner; shown only to the DSL and deputies.",
    )
    staff = forms.ModelChoiceField(
        label="Member of staff",
        queryset=StaffMember.objects.none(),
        required=False,
        help_text="Only for an alert about a member of staff.",
    )
    device = forms.CharField(
        label="Device or account",
        max_length=100,
        required=False,
        help_text=MonitoringAlert._meta.get_field("device").help_text,
    )
    summary = forms.CharField(
        label="What the system reported",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=MonitoringAlert._meta.get_field("summary").help_text,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = Learner.objects.filter(left__isnull=True).select_related(
            "form_class"
        )
        self.fields["staff"].queryset = StaffMember.objects.filter(active=True)

    def clean_raised_at(self):
        raised = self.cleaned_data["raised_at"]
        if raised > timezone.now():
            raise forms.ValidationError("An alert cannot have been raised in the future.")
        return raised

    def clean(self):
        data = super().clean()
        subject = data.get("subject")
        if data.get("learner") and subject != MonitoringAlert.Subject.LEARNER:
            self.add_error("learner", "Name a learner only for an alert about a learner.")
        if data.get("staff") and subject != MonitoringAlert.Subject.STAFF:
            self.add_error("staff", "Name a member of staff only for an alert about staff.")
        return data


class AlertReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=MonitoringAlert.Outcome.choices)
    note = forms.CharField(
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
        help_text="Needed when you spoke to someone: what was said and agreed.",
    )
    incident_reference = forms.CharField(
        label="Incident reference",
        max_length=30,
        required=False,
        help_text="For 'Incident raised': report the incident first, then give its reference.",
    )


class FilteringReviewFilter(django_filters.FilterSet):
    reviewed_from = django_filters.DateFilter(
        field_name="reviewed_on", lookup_expr="gte", label="Reviewed from", widget=DateInput
    )
    reviewed_to = django_filters.DateFilter(
        field_name="reviewed_on", lookup_expr="lte", label="Reviewed to", widget=DateInput
    )

    class Meta:
        model = FilteringReview
        fields = ["reviewed_from", "reviewed_to"]


class FilterDecisionFilter(django_filters.FilterSet):
    q = SearchFilter(["what"], label="Site or category")
    action = django_filters.ChoiceFilter(label="Decision", choices=FilterDecision.Action.choices)
    target = django_filters.ChoiceFilter(label="Kind", choices=FilterDecision.Target.choices)
    in_force = django_filters.BooleanFilter(
        label="In force",
        method="filter_in_force",
        widget=forms.Select(choices=[("", "Any"), ("true", "In force"), ("false", "Reversed")]),
    )

    class Meta:
        model = FilterDecision
        fields = ["q", "action", "target"]

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(reversed_by__isnull=value)


class MonitoringAlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MonitoringAlert.Status.choices)
    kind = django_filters.ChoiceFilter(label="Kind", choices=MonitoringAlert.Kind.choices)
    subject = django_filters.ChoiceFilter(label="Whose", choices=MonitoringAlert.Subject.choices)
    outcome = django_filters.ChoiceFilter(choices=MonitoringAlert.Outcome.choices)
    raised_from = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__gte", label="Raised from", widget=DateInput
    )
    raised_to = django_filters.DateFilter(
        field_name="raised_at", lookup_expr="date__lte", label="Raised to", widget=DateInput
    )

    class Meta:
        model = MonitoringAlert
        fields = ["status", "kind", "subject", "outcome"]
