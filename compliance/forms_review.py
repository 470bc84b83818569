"""Forms for the policy review, action plan, training, monitoring and the DSL's summary.

They check the shape of what was typed; the rules (who may, what must come first) are in
compliance.review_services, which the views call with the cleaned data.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from compliance.forms import DateInput
from compliance.models import ActionPlanItem, PolicyReview, StaffMember


class ReviewForm(forms.Form):
    trigger = forms.ChoiceField(choices=PolicyReview.Trigger.choices)
    changes = forms.CharField(
        label="What changed",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the review changed in the policy, or that nothing needed to change.",
    )
    version_number = forms.CharField(label="New version number", max_length=20)
    date_written = forms.DateField(
        label="Date the new version was written", widget=DateInput, initial=timezone.localdate
    )
    next_review = forms.DateField(
        label="Next review",
        widget=DateInput,
        required=False,
        help_text="Leave empty for a year after today (the policy: at least annually).",
    )

    def clean_date_written(self):
        day = self.cleaned_data["date_written"]
        if day > timezone.localdate():
            raise forms.ValidationError("The version cannot have been written in the future.")
        return day


class ActionForm(forms.Form):
    source = forms.ChoiceField(choices=ActionPlanItem.Source.choices)
    source_reference = forms.CharField(
        label="Reference",
        max_length=50,
        required=False,
        help_text="Where it came from, e.g. an incident reference. Never a name.",
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(queryset=StaffMember.objects.none())
    due = forms.DateField(widget=DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = StaffMember.objects.filter(active=True)


class TrainingForm(forms.Form):
    held_on = forms.DateField(label="Date", widget=DateInput)
    topic = forms.CharField(max_length=200)
    attendees = forms.ModelMultipleChoiceField(
        queryset=StaffMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Who attended.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = StaffMember.objects.filter(active=True)

    def clean_held_on(self):
        day = self.cleaned_data["held_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Record training once it has been held.")
        return day


class MonitoringForm(forms.Form):
    checked_on = forms.DateField(label="Date of the check", widget=DateInput)
    what_checked = forms.CharField(
        label="What was checked", widget=forms.Textarea(attrs={"rows": 3})
    )
    findings = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    actions = forms.CharField(
        label="Actions taken or planned",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Any issue found goes into the action plan too (section 8).",
    )

    def clean_checked_on(self):
        day = self.cleaned_data["checked_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Record the check once it has been done.")
        return day


class SummaryForm(forms.Form):
    text = forms.CharField(
        label="Summary of lessons learnt",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Governors read this: name no learner, parent, member of staff or visitor.",
    )
