"""Forms for the school community. Each model form re-checks the model's rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UsernameField
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils import timezone

from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    School,
    StaffMember,
    StaffType,
    User,
    Visit,
    Visitor,
)
from compliance.roles import Role


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateRangeForm(forms.Form):
    """A first and a last day: the last on or after the first, at most `max_days` apart."""

    max_days = 400

    start = forms.DateField(
        label="From", widget=DateInput(), error_messages={"required": "Give the first day."}
    )
    end = forms.DateField(
        label="To", widget=DateInput(), error_messages={"required": "Give the last day."}
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day comes on or after the first.")
            elif (end - start).days > self.max_days:
                self.add_error("end", f"Choose at most {self.max_days} days.")
        return data


class ChoicesById(forms.ModelMultipleChoiceField):
    """Refuses an id no row can have before it reaches the database.

    Django answers `pk=<id beyond 64 bits>` with "no such row" but still sends such an id in
    the `pk__in` query of a multiple choice, which SQLite refuses with OverflowError: a
    server error instead of a form error.
    """

    def clean(self, value):
        for key in value if isinstance(value, list | tuple) else ():
            try:
                number = int(key)
            except (TypeError, ValueError):
                continue  # not a number: Django's own check refuses it
            if not -(2**63) <= number < 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": key},
                )
        return super().clean(value)


class VersionedModelForm(forms.ModelForm):
    """Carries the version of the record it was read at (see compliance.concurrency)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        if self.instance.pk is None:
            self.fields["version"].required = False


class SchoolForm(VersionedModelForm):
    class Meta:
        model = School
        fields = [
            "name",
            "address",
            "phone",
            "local_authority",
            "lado_contact",
            "safeguarding_partnership_contact",
            "education_safeguarding_service_contact",
            "safeguarding_lead_governor",
            "filtering_senior_leader",
            "filtering_governor",
            "phone_approach",
        ]
        widgets = {
            "phone_approach": forms.RadioSelect,
            "address": forms.Textarea(attrs={"rows": 3}),
            "lado_contact": forms.Textarea(attrs={"rows": 2}),
            "safeguarding_partnership_contact": forms.Textarea(attrs={"rows": 2}),
            "education_safeguarding_service_contact": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["safeguarding_lead_governor"].queryset = StaffMember.objects.filter(
            staff_type=StaffType.GOVERNOR, active=True
        )
        # the DfE filtering and monitoring standards: a member of the senior leadership
        # team and a governor
        self.fields["filtering_senior_leader"].queryset = StaffMember.objects.filter(
            staff_type=StaffType.LEADERSHIP, active=True
        )
        self.fields["filtering_governor"].queryset = StaffMember.objects.filter(
            staff_type=StaffType.GOVERNOR, active=True
        )


class StaffMemberForm(VersionedModelForm):
    class Meta:
        model = StaffMember
        fields = ["first_name", "last_name", "email", "staff_type", "job_title", "mis_id", "active"]


class FormClassForm(VersionedModelForm):
    class Meta:
        model = FormClass
        fields = ["name", "year_group", "teachers"]
        field_classes = {"teachers": ChoicesById}
        widgets = {"teachers": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teachers"].queryset = StaffMember.objects.filter(active=True)


class LearnerForm(VersionedModelForm):
    class Meta:
        model = Learner
        fields = [
            "first_name",
            "last_name",
            "date_of_birth",
            "year_group",
            "form_class",
            "mis_id",
            "joined",
            "left",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "joined": DateInput(),
            "left": DateInput(),
        }


class ParentCarerForm(VersionedModelForm):
    class Meta:
        model = ParentCarer
        fields = ["first_name", "last_name", "relationship", "phone", "email", "learners"]
        field_classes = {"learners": ChoicesById}
        widgets = {"learners": forms.SelectMultiple(attrs={"size": 8})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["learners"].queryset = Learner.objects.filter(left__isnull=True)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            self.add_error(
                "phone", "Give a phone number or an email address, so the school can reach them."
            )
        return cleaned


class VisitorForm(VersionedModelForm):
    class Meta:
        model = Visitor
        fields = ["first_name", "last_name", "organisation", "visitor_type", "regular_or_extended"]


class VisitForm(VersionedModelForm):
    class Meta:
        model = Visit
        fields = ["visitor", "arrived", "left", "purpose", "host"]
        widgets = {"arrived": DateTimeInput(), "left": DateTimeInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = StaffMember.objects.filter(active=True)
        self.fields["arrived"].initial = timezone.localtime().replace(second=0, microsecond=0)


class StaffLoginForm(forms.Form):
    """Give a staff member a login, or change their roles (DSL and headteacher only)."""

    # as the login form reads it (NFKC), and only the characters a username may hold
    username = UsernameField(max_length=150, validators=[UnicodeUsernameValidator()])
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="At least 12 characters. Leave blank to keep the current password.",
    )

    def __init__(self, *args, staff: StaffMember, **kwargs):
        self.staff = staff
        super().__init__(*args, **kwargs)
        if staff.user is None:
            self.fields["password"].required = True
            self.fields[
                "password"
            ].help_text = "At least 12 characters; they change it after logging in."

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        clash = User.objects.filter(username__iexact=username)
        if self.staff.user_id:
            clash = clash.exclude(pk=self.staff.user_id)
        if clash.exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            user = self.staff.user or User(
                username=cleaned.get("username", ""),
                first_name=self.staff.first_name,
                last_name=self.staff.last_name,
                email=self.staff.email,
            )
            try:
                validate_password(password, user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned
