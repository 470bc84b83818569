"""Forms for low-level concerns about staff: raising one, and the DSL's or headteacher's
steps (the staff member's response, the outcome, escalation to an allegation).

No form here writes a record: `incidents.concerns` does, and refuses with a reason. The
forms that change a concern carry the version they were read at, so a save based on a
stale copy is refused and both versions are shown.
"""

from __future__ import annotations

import datetime

from django import forms

from compliance.forms import DateTimeInput
from compliance.models import StaffMember, User
from compliance.roles import Role
from incidents.forms_dsl import RecordChoiceField
from incidents.forms_report import (
    _now_local_minute,
    clean_occurred_at,
    grouped_category_choices,
    location_choices,
)
from incidents.models import Category, Location, LowLevelConcern


def _staff_label(staff: StaffMember) -> str:
    return f"{staff.full_name}{f' ({staff.job_title})' if staff.job_title else ''}"


class ConcernRaiseForm(forms.Form):
    staff = forms.Field(label="Who the concern is about")  # replaced in __init__
    occurred_at = forms.DateTimeField(
        label="When", widget=DateTimeInput(), help_text="Now, unless it happened earlier."
    )
    location = forms.ChoiceField(label="Where")
    account = forms.CharField(
        label="What you saw or heard",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Facts only: what happened, when, who was there. Not your opinion of them. "
        "Only the DSL and the headteacher will read it.",
    )

    def __init__(self, *args, by: User, **kwargs):
        super().__init__(*args, **kwargs)
        # every current colleague but oneself; a concern about the headteacher goes to the
        # chair of governors instead (said on the page)
        heads = User.objects.filter(is_active=True, groups__name=Role.HEADTEACHER)
        colleagues = list(
            StaffMember.objects.filter(active=True)
            .exclude(user=by)
            .exclude(user__in=heads)
            .order_by("last_name", "first_name", "pk")
        )
        self.fields["staff"] = RecordChoiceField(
            colleagues,
            _staff_label,
            empty_label="Choose a member of staff",
            label="Who it is about",
        )
        self.locations = {loc.pk: loc for loc in Location.objects.order_by("name")}
        self.fields["location"].choices = location_choices(self.locations.values())
        self.fields["occurred_at"].initial = _now_local_minute

    def clean_occurred_at(self) -> datetime.datetime:
        return clean_occurred_at(self.cleaned_data["occurred_at"])

    def clean_location(self) -> Location:
        try:
            return self.locations[int(self.cleaned_data["location"])]
        except (KeyError, ValueError):
            raise forms.ValidationError("Choose where it happened.") from None


def _version_field() -> forms.IntegerField:
    """The version the concern was read at: a save from a stale copy is refused."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class _AtVersion:
    """Sets the version field to the concern's (a mixin: not a form of its own)."""

    def __init__(self, *args, concern: LowLevelConcern, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = concern.version


class ConcernResponseForm(_AtVersion, forms.Form):
    version = _version_field()
    response = forms.CharField(
        label="The staff member's response",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What they said when the concern was discussed with them.",
    )

    def __init__(self, *args, concern: LowLevelConcern, **kwargs):
        super().__init__(*args, concern=concern, **kwargs)
        self.fields["response"].initial = concern.staff_response


class ConcernOutcomeForm(_AtVersion, forms.Form):
    version = _version_field()
    outcome = forms.ChoiceField(
        choices=LowLevelConcern.Outcome.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    detail = forms.CharField(
        label="What was decided, and why",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ConcernEscalateForm(_AtVersion, forms.Form):
    version = _version_field()
    category = forms.ChoiceField(
        label="The allegation's incident category",
        choices=grouped_category_choices(),
        initial=Category.STAFF_PERSONAL_CONTACT,
    )
    reason = forms.CharField(
        label="Why it now meets the harm threshold",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The member of staff may have harmed a child, committed an offence against "
        "a child, or behaved in a way that shows they may not be suitable to work with "
        "children. The LADO is told within one working day.",
    )


class ConcernFilterForm(forms.Form):
    """The log, narrowed to one member of staff or one status."""

    staff = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *LowLevelConcern.Status.choices]
    )

    def __init__(self, *args, staff_choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "Any member of staff"), *staff_choices]
