"""Forms for the office desk (policy sections 6 and 7): finding a visitor, signing them in
with the briefing and their device agreement, the visitor log export, and calls home.

No form here writes a record: `devices.reception` does, and refuses with a reason. A form
re-checks each rule next to its field, so the clerk sees what to put right without losing
what was typed.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from compliance.filters import SearchFilter
from compliance.forms import DateRangeForm, DateTimeInput
from compliance.models import Learner, ParentCarer, StaffMember, Visitor
from devices.models import CallHome, DeviceCategory, Exemption, VisitorDeviceAgreement
from devices.reception import DeviceUse, exemptions_in_force

# Exports cover at most this many days at once (a school year and a bit).
MAX_EXPORT_DAYS = 400


def _now_minute() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _active_staff() -> QuerySet:
    return StaffMember.objects.filter(active=True).order_by("last_name", "first_name", "pk")


class FindVisitorForm(forms.Form):
    q = forms.CharField(
        label="Find a visitor",
        max_length=200,
        required=False,
        help_text="Name or organisation: a few letters are enough.",
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "type": "search"}),
    )


class DeviceUseForm(forms.Form):
    """The briefing and the device use agreed (section 7)."""

    briefing_given = forms.BooleanField(
        label="The visitor has been given the verbal briefing on the use of phones and devices",
        required=True,
        error_messages={
            "required": "Give the visitor the verbal briefing, then tick that it was given."
        },
    )
    briefed_by = forms.ModelChoiceField(
        label="Briefing given by",
        queryset=StaffMember.objects.none(),
        error_messages={"required": "Say who gave the briefing."},
    )
    use = forms.ChoiceField(
        label="Device use permitted",
        choices=VisitorDeviceAgreement.Use.choices,
        initial=VisitorDeviceAgreement.Use.NONE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the device use permitted."},
    )
    purpose = forms.CharField(
        label="Purpose agreed",
        max_length=300,
        required=False,
        help_text="For example: recording notes of a multi-agency meeting.",
    )
    where = forms.CharField(
        max_length=200, required=False, help_text="For example: the meeting room only."
    )
    when = forms.CharField(
        max_length=200, required=False, help_text="For example: during the meeting, 10:00-11:00."
    )
    agreed_by = forms.ModelChoiceField(
        label="Agreed by (member of staff)", queryset=StaffMember.objects.none(), required=False
    )
    with_learners = forms.BooleanField(
        label="The use involves working with learners",
        required=False,
        help_text="This needs the headteacher's approval (section 7).",
    )
    exemption = forms.ModelChoiceField(
        label="Headteacher's approval",
        queryset=Exemption.objects.none(),
        required=False,
        empty_label="None in force",
    )
    ask_headteacher = forms.BooleanField(
        label="Ask the headteacher for approval now",
        required=False,
        help_text="The request goes to the headteacher; the visitor signs once it is approved.",
    )
    category = forms.ModelChoiceField(
        label="Kind of device",
        queryset=DeviceCategory.objects.order_by("name"),
        required=False,
        empty_label="Choose",
    )
    aup_acknowledged = forms.BooleanField(
        label="The visitor has read and acknowledged the acceptable use policy",
        required=False,
    )

    def __init__(self, *args, visitor: Visitor, aup_due: bool, briefer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.visitor = visitor
        self.aup_due = aup_due
        staff = _active_staff()
        self.fields["briefed_by"].queryset = staff
        self.fields["agreed_by"].queryset = staff
        if briefer is not None:
            self.fields["briefed_by"].initial = briefer.pk
        in_force = exemptions_in_force(visitor, timezone.localdate()).select_related("category")
        self.fields["exemption"].queryset = in_force
        found = list(in_force[:2])
        if len(found) == 1:
            self.fields["exemption"].initial = found[0].pk  # the one in force, already chosen
        self.fields["exemption"].empty_label = "Choose the approval"
        self.fields["exemption"].label_from_instance = lambda e: (
            f"Exemption #{e.pk}: {e.category.name}, until {e.ends:%d/%m/%Y}"
        )
        phone = DeviceCategory.objects.filter(name__icontains="phone").order_by("pk").first()
        if phone is not None:
            self.fields["category"].initial = phone.pk
        if not aup_due:
            del self.fields["aup_acknowledged"]

    def clean(self):
        data = super().clean()
        agreed = data.get("use") == VisitorDeviceAgreement.Use.AGREED
        if agreed:
            for name, message in (
                ("purpose", "Say what the device may be used for."),
                ("where", "Say where the device may be used."),
                ("when", "Say when the device may be used."),
            ):
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, message)
            if data.get("agreed_by") is None and "agreed_by" not in self.errors:
                self.add_error(
                    "agreed_by",
                    "Device use is permitted only when agreed by a named member of staff.",
                )
        if data.get("with_learners"):
            if not agreed:
                self.add_error(
                    "with_learners",
                    "Use with learners is a specific purpose: choose that above and say who "
                    "agreed it.",
                )
            elif data.get("exemption") is None and not self.fields["exemption"].queryset.exists():
                if not data.get("ask_headteacher"):
                    self.add_error(
                        "ask_headteacher",
                        "No approval is in force for this visitor: ask the headteacher now, "
                        "or record no use until it is approved.",
                    )
                elif data.get("category") is None:
                    self.add_error("category", "Choose the kind of device.")
        if self.aup_due and not data.get("aup_acknowledged"):
            self.add_error(
                "aup_acknowledged",
                "This visitor is on site regularly: they acknowledge the acceptable use policy "
                "first (section 7).",
            )
        return data

    def device_use(self) -> DeviceUse:
        data = self.cleaned_data
        return DeviceUse(
            briefing_given=bool(data.get("briefing_given")),
            briefed_by=data.get("briefed_by"),
            use=data.get("use", ""),
            purpose=data.get("purpose", ""),
            where=data.get("where", ""),
            when=data.get("when", ""),
            agreed_by=data.get("agreed_by"),
            with_learners=bool(data.get("with_learners")),
            exemption=data.get("exemption"),
            ask_headteacher=bool(data.get("ask_headteacher")),
            category=data.get("category"),
            aup_acknowledged=bool(data.get("aup_acknowledged")),
        )


class SignInForm(DeviceUseForm):
    """Sign a visitor in: the visit, then the briefing and device use, in one form."""

    host = forms.ModelChoiceField(
        label="Host (member of staff)",
        queryset=StaffMember.objects.none(),
        widget=forms.Select(attrs={"autofocus": True}),
        error_messages={"required": "Say who the visitor is here to see."},
    )
    purpose_of_visit = forms.CharField(
        label="Purpose of the visit",
        max_length=300,
        error_messages={"required": "Say what the visit is for."},
    )
    arrived = forms.DateTimeField(
        label="Arrived",
        widget=DateTimeInput(),
        help_text="Now, unless they arrived earlier.",
        error_messages={"required": "Give the arrival time.", "invalid": "Enter a date and time."},
    )

    field_order = ["host", "purpose_of_visit", "arrived"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = _active_staff()
        self.fields["arrived"].initial = _now_minute

    def clean_arrived(self) -> datetime.datetime:
        arrived = self.cleaned_data["arrived"]
        now = timezone.now()
        if arrived > now + datetime.timedelta(minutes=5):
            raise forms.ValidationError("Arrival cannot be in the future.")
        if arrived < now - datetime.timedelta(hours=12):
            raise forms.ValidationError(
                "Sign visitors in on the day they arrive; correct older visits from the "
                "visitor log."
            )
        return arrived


class ExportForm(DateRangeForm):
    """The visitor log for a range of dates, as CSV."""

    max_days = MAX_EXPORT_DAYS


class CallHomeForm(forms.Form):
    """One call made or taken for a learner (section 6), in a few keystrokes."""

    learner = forms.ModelChoiceField(
        queryset=Learner.objects.none(), error_messages={"required": "Choose the learner."}
    )
    direction = forms.ChoiceField(
        label="Who phoned whom",
        choices=CallHome.Direction.choices,
        initial=CallHome.Direction.TO_HOME,
        widget=forms.RadioSelect,
        error_messages={"required": "Say who phoned whom."},
    )
    contact = forms.ModelChoiceField(
        label="Parent or carer",
        queryset=ParentCarer.objects.none(),
        required=False,
        empty_label="Someone else (name them below)",
    )
    contact_name = forms.CharField(
        label="Someone else (name and relationship)", max_length=200, required=False
    )
    caller = forms.ModelChoiceField(
        label="Member of staff on the call",
        queryset=StaffMember.objects.none(),
        error_messages={"required": "Say who made or took the call."},
    )
    called_at = forms.DateTimeField(
        label="When",
        widget=DateTimeInput(),
        error_messages={
            "required": "Give the time of the call.",
            "invalid": "Enter a date and time.",
        },
    )
    reason = forms.CharField(
        label="What about",
        max_length=300,
        help_text="For example: feeling unwell, to be collected.",
        error_messages={"required": "Say what the call was about."},
    )
    outcome = forms.ChoiceField(
        choices=CallHome.Outcome.choices,
        initial=CallHome.Outcome.SPOKE,
        error_messages={"required": "Choose the outcome of the call."},
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, learners: QuerySet, caller=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = learners.select_related("form_class").order_by(
            "last_name", "first_name", "pk"
        )
        self.fields["learner"].label_from_instance = lambda learner: (
            f"{learner.last_name}, {learner.first_name}"
            f" ({learner.form_class.name if learner.form_class else 'no class'})"
        )
        self.fields["contact"].queryset = (
            ParentCarer.objects.filter(learners__in=learners)
            .distinct()
            .order_by("last_name", "first_name", "pk")
        )
        self.fields["caller"].queryset = _active_staff()
        if caller is not None:
            self.fields["caller"].initial = caller.pk
        self.fields["called_at"].initial = _now_minute

    def clean(self):
        data = super().clean()
        learner, contact = data.get("learner"), data.get("contact")
        name = (data.get("contact_name") or "").strip()
        if contact is None and not name and "contact_name" not in self.errors:
            self.add_error(
                "contact_name", "Choose the parent or carer above, or name who was on the call."
            )
        if contact is not None and name:
            self.add_error("contact_name", "Leave this empty when a parent or carer is chosen.")
        if (
            contact is not None
            and learner is not None
            and not contact.learners.filter(pk=learner.pk).exists()
        ):
            self.add_error(
                "contact", f"{contact} is not recorded as a parent or carer of {learner}."
            )
        called_at = data.get("called_at")
        if called_at and called_at > timezone.now() + datetime.timedelta(minutes=5):
            self.add_error("called_at", "The call cannot be in the future.")
        return data


class CallHomeFilter(django_filters.FilterSet):
    # a learner's page links here with their id; a number no id can be is refused, never
    # sent to the database (SQLite takes at most 64 bits)
    learner = django_filters.NumberFilter(
        field_name="learner_id",
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**31 - 1,
        decimal_places=0,
    )
    q = SearchFilter(["learner__first_name", "learner__last_name"], label="Learner")
    direction = django_filters.ChoiceFilter(
        choices=CallHome.Direction.choices, empty_label="Either way"
    )
    called_from = django_filters.DateFilter(
        field_name="called_at",
        lookup_expr="date__gte",
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    called_to = django_filters.DateFilter(
        field_name="called_at",
        lookup_expr="date__lte",
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = CallHome
        fields = ["learner", "q", "direction", "called_from", "called_to"]
