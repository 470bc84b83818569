"""Forms and list filters for the school device register (section 4) and confiscations (6).

No form here sets a `status` or a device's holder: the transition functions in
`devices.services` do. A form only collects what a transition needs and re-checks what
the database would otherwise refuse with an error page.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from compliance.filters import SearchFilter
from compliance.forms import DateTimeInput, VersionedModelForm
from compliance.models import Acknowledgement, Learner, StaffMember
from devices.models import Confiscation, DeviceCategory, SchoolDevice

# The school device register -----------------------------------------------------------


class SchoolDeviceForm(VersionedModelForm):
    """Add or edit a device's details; its status and holder change only by issue/return/lost."""

    class Meta:
        model = SchoolDevice
        fields = [
            "asset_tag",
            "category",
            "make_model",
            "serial_number",
            "work_phone_number",
            "passcode_set",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "asset_tag": "The label on the device, e.g. VRPS-0042.",
            "work_phone_number": "Section 4: the work number, for staff who contact parents.",
        }

    def clean_asset_tag(self) -> str:
        tag = self.cleaned_data["asset_tag"].strip()
        # the same label typed in another case is the same device
        clash = SchoolDevice.objects.filter(asset_tag__iexact=tag)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another device already has this asset tag.")
        return tag

    def clean_passcode_set(self) -> bool:
        passcode_set = self.cleaned_data["passcode_set"]
        if not passcode_set and self.instance.status == SchoolDevice.Status.ISSUED:
            raise forms.ValidationError(
                "This device is issued: it must keep its passcode, password or PIN. "
                "Take it back first (policy section 4)."
            )
        return passcode_set


class _StaffWithAupChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        acknowledged = getattr(obj, "aup_acknowledged_at", None)
        if acknowledged is None:
            return f"{obj.full_name}: has not acknowledged the AUP"
        day = timezone.localtime(acknowledged).strftime("%d/%m/%Y")
        return f"{obj.full_name}: AUP acknowledged {day}"


def staff_with_aup() -> QuerySet:
    """Active staff, each with the date they last acknowledged the acceptable use policy."""
    latest = (
        Acknowledgement.objects.filter(staff=OuterRef("pk"), kind=Acknowledgement.Kind.AUP)
        .values("staff")
        .annotate(latest=Max("acknowledged_at"))
        .values("latest")
    )
    return StaffMember.objects.filter(active=True).annotate(aup_acknowledged_at=Subquery(latest))


class IssueForm(forms.Form):
    staff = _StaffWithAupChoice(
        queryset=StaffMember.objects.none(),
        label="Issue to",
        empty_label="Choose a member of staff",
        help_text="Section 4: only to someone who has acknowledged the acceptable use policy "
        "(AUP), which tells them that activity may be monitored.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_with_aup()


class LostForm(forms.Form):
    details = forms.CharField(
        label="What happened",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="When and where it was last seen; whether it was stolen; who was told.",
    )


class DeviceFilter(django_filters.FilterSet):
    q = SearchFilter(
        ["asset_tag", "make_model", "serial_number", "holder__first_name", "holder__last_name"],
        label="Asset tag, make or holder",
    )
    status = django_filters.ChoiceFilter(choices=SchoolDevice.Status.choices, empty_label="Any")
    category = django_filters.ModelChoiceFilter(
        queryset=DeviceCategory.objects.all(), empty_label="Any"
    )

    class Meta:
        model = SchoolDevice
        fields = ["q", "status", "category"]


# Confiscation and custody ---------------------------------------------------------------


class _LearnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Learner) -> str:
        form_class = obj.form_class.name if obj.form_class_id else "no class"
        return f"{obj.last_name}, {obj.first_name} ({form_class})"


class ConfiscationForm(forms.ModelForm):
    """What a member of staff records when they take a device from a learner.

    Never saved directly: the view passes the cleaned data to `confiscation_record`.
    """

    class Meta:
        model = Confiscation
        fields = [
            "learner",
            "category",
            "description",
            "reason",
            "stored_where",
            "taken_by",
            "taken_at",
        ]
        field_classes = {"learner": _LearnerChoice}
        labels = {
            "category": "Kind of device",
            "reason": "Why it was taken",
            "stored_where": "Where it is kept",
            "taken_at": "When it was taken",
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 3}), "taken_at": DateTimeInput()}

    def __init__(self, *args, learners: QuerySet, takers: QuerySet, taker=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learner"].queryset = learners
        self.fields["taken_by"].queryset = takers
        self.fields["taken_by"].initial = taker.pk if taker else None
        self.fields["learner"].empty_label = "Choose the learner"
        self.fields["category"].empty_label = "Choose the kind of device"
        self.fields["taken_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class MoveForm(forms.Form):
    stored_where = forms.CharField(label="Where it is kept now", max_length=200)


class ConfiscationReturnForm(forms.Form):
    returned_to = forms.CharField(
        label="Returned to",
        max_length=200,
        help_text="Their name and who they are, e.g. the learner, or a parent with their name.",
    )


class PoliceForm(forms.Form):
    officer = forms.CharField(label="Police officer", max_length=200, help_text="Name and number.")
    reference = forms.CharField(label="Police reference", max_length=100)
    at = forms.DateTimeField(label="Handed over at", widget=DateTimeInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class ConfiscationFilter(django_filters.FilterSet):
    q = SearchFilter(["learner__first_name", "learner__last_name"], label="Learner")
    status = django_filters.ChoiceFilter(choices=Confiscation.Status.choices, empty_label="Any")
    taken_from = django_filters.DateFilter(
        field_name="taken_at",
        lookup_expr="date__gte",
        label="Taken from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    taken_to = django_filters.DateFilter(
        field_name="taken_at",
        lookup_expr="date__lte",
        label="Taken to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Confiscation
        fields = ["q", "status", "taken_from", "taken_to"]
