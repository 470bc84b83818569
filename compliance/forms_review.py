"""Forms for the policy review, action plan, training, monitoring and the DSL's summary.

They check the shape of what was typed; the rules (who may, what must come first) are in
compliance.review_services, which the views call with the cleaned data.
"""

from __future__ import annotations

from django import forms
from django.db import models
from django.utils import timezone

from compliance import guidance
from compliance.forms import ChoicesById, DateInput, VersionedModelForm
from compliance.guidance import GuidanceKind
from compliance.models import (
    ActionPlanItem,
    LinkedPolicy,
    MonitoringCheck,
    PolicyCommunication,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    TrainingSession,
)


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
    material_change = forms.BooleanField(
        label="This version is a material change",
        required=False,
        initial=True,
        help_text=PolicyVersion._meta.get_field("material_change").help_text,
    )
    follows_kcsie = forms.ChoiceField(
        label="It follows Keeping children safe in education",
        choices=[("", "Not said"), *guidance.choices(GuidanceKind.KCSIE)],
        required=False,
    )
    follows_phone_guidance = forms.ChoiceField(
        label="It follows the DfE's Mobile phones in schools",
        choices=[("", "Not said"), *guidance.choices(GuidanceKind.PHONES)],
        required=False,
    )
    follows_filtering_standards = forms.ChoiceField(
        label="It follows the DfE's filtering and monitoring standards",
        choices=[("", "Not said"), *guidance.choices(GuidanceKind.FILTERING)],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # when each audience was told (optional now; add more on the policy page later)
        for audience in PolicyCommunication.Audience:
            self.fields[f"told_{audience.value}_on"] = forms.DateField(
                label=f"Told to {audience.label.lower()} on",
                widget=DateInput,
                required=False,
            )
            self.fields[f"told_{audience.value}_how"] = forms.ChoiceField(
                label="How",
                choices=[("", "---------"), *PolicyCommunication.Method.choices],
                required=False,
            )

    def clean_date_written(self):
        day = self.cleaned_data["date_written"]
        if day > timezone.localdate():
            raise forms.ValidationError("The version cannot have been written in the future.")
        return day

    def clean(self):
        data = super().clean()
        communications = []
        for audience in PolicyCommunication.Audience:
            on, how = f"told_{audience.value}_on", f"told_{audience.value}_how"
            day, method = data.pop(on, None), data.pop(how, "")
            if day is None and not method:
                continue
            if day is None:
                if on not in self.errors:
                    self.add_error(on, "Give the date they were told, or leave both empty.")
                continue
            if not method:
                self.add_error(how, "Say how they were told.")
                continue
            if day > timezone.localdate():
                self.add_error(on, "Record it once they have been told.")
                continue
            communications.append({"audience": audience.value, "on": day, "method": method})
        data["communications"] = communications
        return data

    def communication_rows(self) -> list[list]:
        return [
            [self[f"told_{audience.value}_on"], self[f"told_{audience.value}_how"]]
            for audience in PolicyCommunication.Audience
        ]

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith("told_")]


class CommunicationForm(forms.Form):
    audience = forms.ChoiceField(label="Told to", choices=PolicyCommunication.Audience.choices)
    communicated_on = forms.DateField(label="Date told", widget=DateInput)
    method = forms.ChoiceField(label="How", choices=PolicyCommunication.Method.choices)
    note = forms.CharField(
        max_length=300,
        required=False,
        help_text="For example the meeting or the newsletter issue. Name no one.",
    )

    def clean_communicated_on(self):
        day = self.cleaned_data["communicated_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Record it once they have been told.")
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


# Edit pages: the same rules as the add pages, with the version they were read at.


def _not_future(day, message: str):
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(message)
    return day


class LinkedPolicyForm(VersionedModelForm):
    class Meta:
        model = LinkedPolicy
        fields = ["name", "owner", "next_review"]
        widgets = {"next_review": DateInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = StaffMember.objects.filter(active=True)


class ActionEditForm(VersionedModelForm):
    class Meta:
        model = ActionPlanItem
        fields = ["source", "source_reference", "description", "owner", "due"]
        widgets = {"due": DateInput, "description": forms.Textarea(attrs={"rows": 3})}
        labels = {"source_reference": "Reference"}
        help_texts = {
            "source_reference": "Where it came from, e.g. an incident reference. Never a name."
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the current owner stays choosable even if they have since left
        owner = self.instance.owner_id if self.instance.pk else None
        self.fields["owner"].queryset = StaffMember.objects.filter(
            models.Q(active=True) | models.Q(pk=owner)
        )


class TrainingEditForm(VersionedModelForm):
    attendees = ChoicesById(
        queryset=StaffMember.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Who attended.",
    )

    class Meta:
        model = TrainingSession
        fields = ["held_on", "topic", "attendees"]
        widgets = {"held_on": DateInput}
        labels = {"held_on": "Date"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # people who have left since stay on the record of who attended
        kept = self.instance.attendees.values("pk") if self.instance.pk else []
        self.fields["attendees"].queryset = StaffMember.objects.filter(
            models.Q(active=True) | models.Q(pk__in=kept)
        )

    def clean_held_on(self):
        return _not_future(self.cleaned_data["held_on"], "Record training once it has been held.")


class MonitoringEditForm(VersionedModelForm):
    class Meta:
        model = MonitoringCheck
        fields = ["checked_on", "what_checked", "findings", "actions"]
        widgets = {
            "checked_on": DateInput,
            "what_checked": forms.Textarea(attrs={"rows": 3}),
            "findings": forms.Textarea(attrs={"rows": 3}),
            "actions": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"checked_on": "Date of the check"}

    def clean_checked_on(self):
        return _not_future(
            self.cleaned_data["checked_on"], "Record the check once it has been done."
        )
