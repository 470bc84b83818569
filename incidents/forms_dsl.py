"""Forms of the DSL's triage queue and incident page (policy sections 5, 6 and 9).

No form here sets a `status`, a flag or who did what: the transition functions in
`incidents.services` do. A form collects what one transition needs and checks only what
can be told from the input alone; the rules (who may, in which state, what must come
first) are the services' and come back as a refusal with its reason.

The choices (learners, staff, parents, leads) are fetched once per page by the view and
handed to every form that needs them, so a page with five action rows naming an owner
runs one query for the staff, not five.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from compliance import access as community_access
from compliance.forms import DateInput, DateTimeInput
from compliance.models import (
    Learner,
    LinkedPolicy,
    ParentCarer,
    StaffMember,
    User,
    Visit,
    Visitor,
)
from compliance.roles import Role
from incidents.access import staff_matters
from incidents.forms_report import RECENT_VISITS, grouped_category_choices
from incidents.models import Category, Incident, Involvement, Location, ParentContact, Referral
from incidents.services import LEADS, Action

MAX_ACTIONS = 5
TEXTAREA = {"rows": 3}


def user_label(user: User) -> str:
    return user.get_full_name() or user.username


def learner_label(learner: Learner) -> str:
    form_class = f" ({learner.form_class})" if learner.form_class_id else ""
    return f"{learner.last_name}, {learner.first_name}{form_class}"


def staff_label(staff: StaffMember) -> str:
    return f"{staff.last_name}, {staff.first_name}" + (
        f" ({staff.job_title})" if staff.job_title else ""
    )


class QuickSelect(forms.Select):
    """Django's select with the same HTML, written here rather than through one template
    per option: the incident page offers every learner, member of staff and recent visitor,
    and rendering hundreds of option templates was most of its time."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _ in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    flatatt(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every part is built by format_html)


class RecordChoiceField(forms.TypedChoiceField):
    """One of a list of records the view has already fetched; cleans to the record."""

    widget = QuickSelect

    def __init__(
        self,
        records: Sequence,
        label_from: Callable[[object], str] = str,
        empty_label: str = "---------",
        **kwargs,
    ):
        self.records = {str(record.pk): record for record in records}
        choices = [("", empty_label)] + [(str(record.pk), label_from(record)) for record in records]
        super().__init__(
            choices=choices, coerce=self.records.__getitem__, empty_value=None, **kwargs
        )

    def prepare_value(self, value):
        return str(value.pk) if hasattr(value, "pk") else value


class RecordMultipleChoiceField(forms.TypedMultipleChoiceField):
    """Some of a list of records the view has already fetched; cleans to a list of them."""

    def __init__(self, records: Sequence, label_from: Callable[[object], str] = str, **kwargs):
        self.records = {str(record.pk): record for record in records}
        choices = [(str(record.pk), label_from(record)) for record in records]
        super().__init__(choices=choices, coerce=self.records.__getitem__, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, Iterable) and not isinstance(value, str):
            return [str(v.pk) if hasattr(v, "pk") else str(v) for v in value]
        return value


def _now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class Choices:
    """What the incident page's forms offer, each list fetched once per request and only
    when a form on the page needs it."""

    def __init__(self, user: User, incident: Incident):
        self.user = user
        self.incident = incident

    @cached_property
    def leads(self) -> list[User]:
        return list(leads_queryset())

    @cached_property
    def policies(self) -> list[LinkedPolicy]:
        return list(LinkedPolicy.objects.order_by("name"))

    @cached_property
    def current_policies(self) -> list[LinkedPolicy]:
        return list(self.incident.policies.all())

    @cached_property
    def learners(self) -> list[Learner]:
        return list(
            community_access.visible(self.user, Learner)
            .filter(left__isnull=True)
            .select_related("form_class")
            .order_by("last_name", "first_name", "pk")
        )

    @cached_property
    def staff(self) -> list[StaffMember]:
        return list(StaffMember.objects.filter(active=True).order_by("last_name", "first_name"))

    @cached_property
    def visitors(self) -> list[Visitor]:
        """Visitors on site around when it happened or in the last month, and any already
        named: not every visitor of ten years (thousands of options on every page)."""
        try:
            visitors = community_access.visible(self.user, Visitor)
        except PermissionDenied:
            return []
        happened = self.incident.occurred_at
        # three lists of ids, each read through an index, rather than one join of every
        # visit and involvement
        around = Visit.objects.filter(
            arrived__gte=happened - RECENT_VISITS,
            arrived__lte=happened + datetime.timedelta(days=1),
        ).values("visitor_id")
        recent = Visit.objects.filter(arrived__gte=timezone.now() - RECENT_VISITS)
        named = Involvement.objects.filter(incident=self.incident, visitor__isnull=False)
        return list(
            visitors.filter(
                Q(pk__in=around)
                | Q(pk__in=recent.values("visitor_id"))
                | Q(pk__in=named.values("visitor_id"))
            ).order_by("last_name", "first_name", "pk")
        )

    @cached_property
    def parents(self) -> list[ParentCarer]:
        """Those with parental responsibility for a learner involved."""
        return list(
            ParentCarer.objects.filter(learners__involvements__incident=self.incident)
            .distinct()
            .order_by("last_name", "first_name", "pk")
        )


# The queue ------------------------------------------------------------------------------


def leads_queryset() -> QuerySet:
    """Who an incident may be assigned to: the DSL, deputies and the headteacher."""
    holders = User.groups.through.objects.filter(group__name__in=[*LEADS, Role.HEADTEACHER])
    return User.objects.filter(is_active=True, pk__in=holders.values("user_id")).order_by(
        "first_name", "last_name", "username"
    )


class _LeadField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return user_label(obj)


class _LeadChoice(django_filters.ModelChoiceFilter):
    field_class = _LeadField

    def __init__(self, **kwargs):
        super().__init__(queryset=lambda request: leads_queryset(), **kwargs)


class IncidentFilter(django_filters.FilterSet):
    """The triage queue's filters. The view applies `status` itself, after counting every
    status under the other filters (the tabs)."""

    status = django_filters.ChoiceFilter(
        choices=Incident.Status.choices, empty_label="Any status", method="filter_nothing"
    )
    category = django_filters.ChoiceFilter(choices=Category.choices, empty_label="Any category")
    location = django_filters.ModelChoiceFilter(
        queryset=Location.objects.order_by("name"), empty_label="Any location"
    )
    learner = django_filters.CharFilter(method="filter_learner", label="Learner's name")
    occurred_from = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__gte",
        label="Happened on or after",
        widget=DateInput(),
    )
    occurred_to = django_filters.DateFilter(
        field_name="occurred_at",
        lookup_expr="date__lte",
        label="Happened on or before",
        widget=DateInput(),
    )
    assignee = _LeadChoice(label="Assigned to", empty_label="Anyone", null_label="Nobody yet")
    staff = django_filters.BooleanFilter(
        method="filter_staff",
        label="Matters involving staff",
        widget=forms.Select(choices=[("", "Any"), ("true", "Only those involving staff")]),
    )

    class Meta:
        model = Incident
        fields = [
            "status",
            "category",
            "location",
            "learner",
            "occurred_from",
            "occurred_to",
            "assignee",
            "staff",
        ]

    def get_form_class(self):
        """The form, made once for the class: django-filter makes a new form class on every
        request, and the queue is opened all day (issue 8). None of these fields depends on
        who asks (a filter that did could not be kept here); each form still reads its
        choices afresh, as every form copies its fields and their querysets."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_nothing(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset

    def filter_learner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        words = value[:200].split()[:5]
        if not words:
            return queryset
        named = Q()
        for word in words:
            named &= Q(learner__first_name__icontains=word) | Q(learner__last_name__icontains=word)
        people = Involvement.objects.filter(named, incident=OuterRef("pk"))
        return queryset.filter(Exists(people))

    def filter_staff(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(staff_matters()) if value else queryset


# The workflow ---------------------------------------------------------------------------


class TriageForm(forms.Form):
    category = forms.ChoiceField(
        # under KCSIE's 4 Cs (content, contact, conduct, commerce)
        choices=grouped_category_choices,
        help_text="Change it if the report is better described another way.",
    )
    child_at_risk = forms.BooleanField(
        required=False,
        label="A child is at risk of harm",
        help_text="Escalates under the child protection policy and alerts the DSL at once.",
    )
    suspected_illegal = forms.BooleanField(
        required=False,
        label="Suspected illegal material",
        help_text="It cannot close until the police referral is recorded and, for a "
        "learner's device, its hand-over to the police.",
    )
    staff_allegation = forms.BooleanField(
        required=False,
        label="A member of staff may have harmed a child, committed an offence or shown "
        "unsuitability",
        help_text="The LADO is told within one working day; the headteacher is alerted.",
    )
    assignee = forms.Field()  # replaced in __init__
    policies = forms.Field()  # replaced in __init__

    def __init__(
        self,
        *args,
        incident: Incident,
        leads: Sequence[User],
        policies: Sequence[LinkedPolicy],
        current_policies: Sequence[LinkedPolicy] = (),
        **kwargs,
    ):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("category", incident.category)
        kwargs["initial"].setdefault("policies", list(current_policies))
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = RecordChoiceField(
            leads,
            user_label,
            empty_label="Me",
            required=False,
            label="Assign to",
            help_text="The DSL, a deputy or the headteacher leads it from here.",
        )
        self.fields["policies"] = RecordMultipleChoiceField(
            policies,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label="Policies it is handled under",
            help_text="Child protection is added for a child at risk; the code of conduct when "
            "a member of staff did it.",
        )


class EscalateForm(forms.Form):
    """A flag found later in the investigation. Flags are raised, never lowered."""

    child_at_risk = forms.BooleanField(required=False, label="A child is at risk of harm")
    suspected_illegal = forms.BooleanField(required=False, label="Suspected illegal material")
    staff_allegation = forms.BooleanField(
        required=False,
        label="A member of staff may have harmed a child, committed an offence or shown "
        "unsuitability",
    )

    def __init__(self, *args, incident: Incident, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if getattr(incident, name):
                field.disabled = True
                field.initial = True
                field.help_text = "Already raised."

    def clean(self):
        data = super().clean()
        raised = [n for n, f in self.fields.items() if data.get(n) and not f.disabled]
        if not raised:
            raise forms.ValidationError("Tick what has been found.")
        return dict.fromkeys(raised, True)


class StepForm(forms.Form):
    """A step that needs nothing typed (start the investigation, ready for debrief, close)."""


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs=TEXTAREA),
        max_length=10000,
        help_text="A correction or a later fact. Notes are dated and never edited.",
    )


class PersonForm(forms.Form):
    part = forms.ChoiceField(choices=Involvement.Part.choices, label="Their part")
    learner = forms.Field()
    staff = forms.Field()
    visitor = forms.Field()

    def __init__(
        self,
        *args,
        learners: Sequence[Learner],
        staff: Sequence[StaffMember],
        visitors: Sequence[Visitor],
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["learner"] = RecordChoiceField(
            learners, learner_label, required=False, label="A learner"
        )
        self.fields["staff"] = RecordChoiceField(
            staff, staff_label, required=False, label="Or a member of staff"
        )
        self.fields["visitor"] = RecordChoiceField(
            visitors, str, required=False, label="Or a visitor"
        )
        if not visitors:
            del self.fields["visitor"]

    def clean(self):
        data = super().clean()
        chosen = [n for n in ("learner", "staff", "visitor") if data.get(n)]
        if len(chosen) != 1:
            raise forms.ValidationError(
                "Choose one person: a learner, a member of staff or a visitor."
            )
        return data


class ReferralForm(forms.Form):
    agency = forms.ChoiceField(choices=Referral.Agency.choices)
    made_at = forms.DateTimeField(label="When", widget=DateTimeInput())
    contact = forms.CharField(label="Who was spoken to", max_length=200)
    reference = forms.CharField(label="Their reference number", max_length=100, required=False)
    advice = forms.CharField(
        label="Advice given", widget=forms.Textarea(attrs=TEXTAREA), required=False
    )
    outcome = forms.CharField(widget=forms.Textarea(attrs=TEXTAREA), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("made_at", _now_local())
        super().__init__(*args, **kwargs)


class ParentsToldForm(forms.Form):
    parent = forms.Field()
    told_at = forms.DateTimeField(label="When", widget=DateTimeInput())
    how = forms.ChoiceField(choices=ParentContact.How.choices, label="How")
    summary = forms.CharField(label="What they were told", widget=forms.Textarea(attrs=TEXTAREA))

    def __init__(self, *args, parents: Sequence[ParentCarer], **kwargs):
        kwargs.setdefault("initial", {}).setdefault("told_at", _now_local())
        super().__init__(*args, **kwargs)
        self.fields["parent"] = RecordChoiceField(
            parents,
            lambda p: f"{p.full_name} ({p.get_relationship_display().lower()})",
            label="Parent or carer told",
        )
        self.order_fields(["parent", "told_at", "how", "summary"])


class ParentsNotToldForm(forms.Form):
    reason = forms.CharField(
        label="Why parents or carers were not told",
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="For example: telling them would put the child at risk (child protection).",
    )


class ConductForm(forms.Form):
    outcome = forms.CharField(
        label="Outcome under the staff code of conduct",
        widget=forms.Textarea(attrs=TEXTAREA),
    )


class DebriefForm(forms.Form):
    held_on = forms.DateField(label="Date of the debrief", widget=DateInput())
    attendees = forms.Field()
    lessons = forms.CharField(label="Lessons learnt", widget=forms.Textarea(attrs=TEXTAREA))
    policy_changes = forms.CharField(
        label="Policy changes", widget=forms.Textarea(attrs=TEXTAREA), required=False
    )
    curriculum_changes = forms.CharField(
        label="Curriculum changes", widget=forms.Textarea(attrs=TEXTAREA), required=False
    )

    def __init__(self, *args, staff: Sequence[StaffMember], **kwargs):
        kwargs.setdefault("initial", {}).setdefault("held_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["attendees"] = RecordMultipleChoiceField(
            staff,
            staff_label,
            label="Who attended",
            widget=forms.SelectMultiple(attrs={"size": 6}),
            help_text="Hold Ctrl (or Cmd) to choose more than one.",
        )
        self.order_fields(["held_on", "attendees"])
        for n in range(1, MAX_ACTIONS + 1):
            self.fields[f"action_{n}_description"] = forms.CharField(
                label=f"Action {n}: what is to be done", required=False, max_length=2000
            )
            self.fields[f"action_{n}_owner"] = RecordChoiceField(
                staff, staff_label, required=False, label=f"Action {n}: owner"
            )
            self.fields[f"action_{n}_due"] = forms.DateField(
                label=f"Action {n}: due by", required=False, widget=DateInput()
            )

    def action_rows(self) -> list[tuple[int, list]]:
        return [
            (n, [self[f"action_{n}_{part}"] for part in ("description", "owner", "due")])
            for n in range(1, MAX_ACTIONS + 1)
        ]

    def main_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith("action_")]

    def clean(self):
        data = super().clean()
        actions = []
        for n in range(1, MAX_ACTIONS + 1):
            parts = {
                part: data.get(f"action_{n}_{part}") for part in ("description", "owner", "due")
            }
            typed = {part for part in parts if self.data.get(self.add_prefix(f"action_{n}_{part}"))}
            if not typed:
                continue
            missing = [part for part, value in parts.items() if not value]
            for part in missing:
                if f"action_{n}_{part}" not in self.errors:
                    self.add_error(
                        f"action_{n}_{part}",
                        "Each action needs what is to be done, an owner and a due date.",
                    )
            if not missing:
                actions.append(
                    Action(description=parts["description"], owner=parts["owner"], due=parts["due"])
                )
        data["actions"] = actions
        return data


class AttachmentRemoveForm(forms.Form):
    reason = forms.CharField(
        label="Why the file is removed",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The file is deleted; the record that it existed, and why it went, stays.",
    )
