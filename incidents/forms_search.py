"""The search form (DfE "Searching, screening and confiscation"; policy section 6) and the
filters of the list of searches.

The form parses what was typed and checks that its parts agree with each other (nothing
found ticked and nothing described; the custody a device outcome needs). The rules of the
guidance and the policy (who leads, a second member of staff or why not, whose consent,
why content was deleted, the hand-over to the police) are `incidents.services.search_record`'s:
the form does not repeat them, so that a refusal always gives the one reason the service
gives. For that reason the lists of who may lead and which parent may consent offer only
those who may, but accept any active login or parent: the service then says why not.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils import timezone

from compliance.filters import SearchFilter
from compliance.forms import DateTimeInput
from compliance.models import Learner, ParentCarer, StaffMember, User
from compliance.roles import Role
from devices.models import Confiscation, DeviceCategory
from incidents.models import Search


def _now() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class _OfferedIterator(ModelChoiceIterator):
    def __init__(self, field):
        super().__init__(field)
        self.queryset = field.offered


class OfferedChoiceField(forms.ModelChoiceField):
    """Lists `offered`, accepts any of `queryset` (see the module's docstring)."""

    iterator = _OfferedIterator

    def __init__(self, *, offered: QuerySet, queryset: QuerySet, **kwargs):
        self.offered = offered
        super().__init__(queryset=queryset, **kwargs)


class _LearnerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Learner) -> str:
        form_class = obj.form_class.name if obj.form_class_id else "no class"
        return f"{obj.full_name} ({form_class})"


class _LeadChoice(OfferedChoiceField):
    def label_from_instance(self, obj: User) -> str:
        # the groups are prefetched with the list: one query for all the labels
        names = {group.name for group in obj.groups.all()}
        roles = ", ".join(label for value, label in Role.choices if value in names)
        return f"{obj.get_full_name() or obj.username} ({roles})" if roles else str(obj)


class _ParentChoice(OfferedChoiceField):
    def label_from_instance(self, obj: ParentCarer) -> str:
        children = getattr(obj, "involved_learners", None)
        if children:
            names = ", ".join(learner.full_name for learner in children)
            return f"{obj.full_name} ({obj.get_relationship_display().lower()} of {names})"
        return obj.full_name


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffMember) -> str:
        return f"{obj.full_name} ({obj.job_title})" if obj.job_title else obj.full_name


class _ConfiscationChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Confiscation) -> str:
        taken = timezone.localtime(obj.taken_at)
        return (
            f"#{obj.pk} {obj.learner.full_name}: {obj.category.name}, {obj.description} "
            f"(taken {taken:%d/%m/%Y}; {obj.get_status_display().lower()})"
        )


class Custody(models.TextChoices):
    NONE = "none", "Nothing to record: the device was not kept"
    EXISTING = "existing", "It had already been confiscated: link that record"
    NEW = "new", "Record the confiscation now"


def _required(message: str) -> dict:
    return {"required": message}


class SearchForm(forms.Form):
    """Everything the guidance asks to be recorded about one search, in the order it happens.

    Never saved directly: the view passes the cleaned data to the custody services and to
    `search_record`, in one transaction.
    """

    learner = _LearnerChoice(
        queryset=Learner.objects.none(),
        label="Learner whose device was searched",
        empty_label="Choose the learner",
        help_text="Only learners involved in this incident are listed.",
        error_messages=_required("Choose the learner whose device was searched."),
    )
    device = forms.CharField(
        label="Which device",
        max_length=200,
        help_text="Make, colour, case: enough to recognise it.",
        error_messages=_required("Record the device."),
    )
    searched_at = forms.DateTimeField(
        label="When the search took place",
        widget=DateTimeInput(),
        error_messages=_required("Give the date and time of the search."),
    )
    place = forms.CharField(
        label="Where the search took place",
        max_length=200,
        error_messages=_required("Record where it took place."),
    )
    led_by = _LeadChoice(
        offered=User.objects.none(),
        queryset=User.objects.none(),
        label="Led by",
        empty_label="Choose who led the search",
        help_text="The DSL, a deputy DSL or the headteacher.",
        error_messages=_required("Say who led the search."),
    )
    second_staff = _StaffChoice(
        queryset=StaffMember.objects.none(),
        required=False,
        label="Second member of staff present",
        empty_label="Nobody else was present",
    )
    no_second_reason = forms.CharField(
        label="Why no second member of staff was present",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when nobody else was present.",
    )
    grounds = forms.CharField(
        label="Grounds for the search",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why there was good reason to search: what was seen, heard or reported.",
        error_messages=_required("Record the grounds for the search."),
    )
    sought = forms.CharField(
        label="What was being looked for",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages=_required("Record what was being looked for."),
    )
    consent_by = forms.ChoiceField(
        label="Who consented",
        choices=Search.ConsentBy.choices,
        widget=forms.RadioSelect,
        error_messages=_required("Say who consented: the learner or a parent or carer."),
    )
    consent_parent = _ParentChoice(
        offered=ParentCarer.objects.none(),
        queryset=ParentCarer.objects.none(),
        required=False,
        label="The parent or carer who consented",
        empty_label="Choose the parent or carer",
        help_text="Only parents and carers with parental responsibility for the learner.",
    )
    consent_how = forms.CharField(
        label="How consent was given",
        max_length=200,
        help_text="E.g. said yes in the DSL's office; by phone to the school office.",
        error_messages=_required("Record how consent was given."),
    )
    found = forms.CharField(
        label="What was found",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Describe it; never copy, print or forward it. Leave empty if nothing was found.",
    )
    nothing_found = forms.BooleanField(label="Nothing was found", required=False)
    deletion = forms.ChoiceField(
        label="Content deleted",
        choices=Search.Deletion.choices,
        initial=Search.Deletion.NONE,
        widget=forms.RadioSelect,
    )
    deletion_reason = forms.CharField(
        label="Why it was deleted, or the learner asked to delete it",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Which of our policies it contravenes. You are recorded as having deleted "
        "it, or asked for it.",
    )
    outcome = forms.ChoiceField(
        label="What happened to the device",
        choices=Search.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages=_required("Say what happened to the device."),
    )
    custody = forms.ChoiceField(
        label="The device's custody",
        choices=Custody.choices,
        initial=Custody.NONE,
        widget=forms.RadioSelect,
        help_text="A device kept by the school or handed to the police is a confiscation, "
        "with its chain of custody.",
    )
    confiscation = _ConfiscationChoice(
        queryset=Confiscation.objects.none(),
        required=False,
        label="The earlier confiscation",
        empty_label="Choose the confiscation",
    )
    returned_to = forms.CharField(
        label="Returned to",
        max_length=200,
        required=False,
        help_text="When a device held by the school is returned now: name them and who they "
        "are, e.g. the learner, or a parent with their name.",
    )
    new_category = forms.ModelChoiceField(
        queryset=DeviceCategory.objects.none(),
        required=False,
        label="Kind of device",
        empty_label="Choose the kind of device",
    )
    new_stored_where = forms.CharField(label="Where it is kept", max_length=200, required=False)
    police_officer = forms.CharField(
        label="Police officer", max_length=200, required=False, help_text="Name and number."
    )
    police_reference = forms.CharField(label="Police reference", max_length=100, required=False)
    police_at = forms.DateTimeField(
        label="Handed to the police at", required=False, widget=DateTimeInput()
    )
    parents_told = forms.BooleanField(
        label="Parents or carers have been told of the search and its outcome",
        required=False,
        help_text="If not yet, record it later on the search's page.",
    )
    parents_told_at = forms.DateTimeField(
        label="When they were told", required=False, widget=DateTimeInput()
    )

    def __init__(
        self,
        *args,
        learners: QuerySet,
        leads: QuerySet,
        lead: User | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        learners = learners.select_related("form_class").order_by("last_name", "first_name", "pk")
        self.fields["learner"].queryset = learners
        if len(learners) == 1:
            self.fields["learner"].initial = learners[0].pk

        lead_field = self.fields["led_by"]
        lead_field.offered = leads.prefetch_related("groups").order_by(
            "last_name", "first_name", "pk"
        )
        lead_field.queryset = User.objects.filter(is_active=True)
        lead_field.initial = lead.pk if lead else None

        self.fields["second_staff"].queryset = StaffMember.objects.filter(active=True).order_by(
            "last_name", "first_name", "pk"
        )

        parent_field = self.fields["consent_parent"]
        parent_field.offered = (
            ParentCarer.objects.filter(learners__in=learners)
            .distinct()
            .prefetch_related(
                Prefetch("learners", queryset=learners.all(), to_attr="involved_learners")
            )
            .order_by("last_name", "first_name", "pk")
        )
        parent_field.queryset = ParentCarer.objects.all()

        self.fields["confiscation"].queryset = (
            Confiscation.objects.filter(learner__in=learners)
            .select_related("learner", "category")
            .order_by("-taken_at", "-pk")
        )
        self.fields["new_category"].queryset = DeviceCategory.objects.order_by("name")
        self.fields["searched_at"].initial = _now()
        self.fields["police_at"].initial = _now()
        self.fields["parents_told_at"].initial = _now()

    # Parts that must agree with each other ------------------------------------------------

    def clean(self):
        data = super().clean()
        self._clean_found(data)
        self._clean_people(data)
        self._clean_deletion(data)
        self._clean_custody(data)
        self._clean_parents_told(data)
        return data

    def _clean_found(self, data: dict) -> None:
        described = bool((data.get("found") or "").strip())
        ticked = data.get("nothing_found", False)
        if not described and not ticked:
            self.add_error("found", "Say what was found, or tick \u201cNothing was found\u201d.")
        elif described and ticked:
            self.add_error(
                "nothing_found",
                "You ticked \u201cNothing was found\u201d but described what was found: "
                "untick it, or empty the description.",
            )

    def _clean_people(self, data: dict) -> None:
        if data.get("second_staff") and (data.get("no_second_reason") or "").strip():
            self.add_error(
                "no_second_reason",
                "A second member of staff is named: leave the reason empty.",
            )
        if data.get("consent_by") == Search.ConsentBy.LEARNER and data.get("consent_parent"):
            self.add_error(
                "consent_parent",
                "You chose the learner's consent: leave the parent or carer empty, or choose "
                "\u201cA parent or carer\u201d.",
            )

    def _clean_deletion(self, data: dict) -> None:
        if data.get("deletion") == Search.Deletion.NONE and (
            (data.get("deletion_reason") or "").strip()
        ):
            self.add_error(
                "deletion_reason",
                "You chose \u201cNothing deleted\u201d: leave the reason empty, or say what "
                "was deleted.",
            )

    def _clean_custody(self, data: dict) -> None:
        outcome = data.get("outcome")
        custody = data.get("custody")
        if not outcome or not custody:
            return
        if custody == Custody.EXISTING:
            if not data.get("confiscation"):
                self.add_error("confiscation", "Choose the confiscation to link.")
        elif custody == Custody.NEW:
            if outcome == Search.Outcome.RETURNED:
                self.add_error(
                    "custody",
                    "The device was returned, so it was not kept: there is no confiscation "
                    "to record.",
                )
                return
            if not data.get("new_category"):
                self.add_error("new_category", "Choose the kind of device.")
            if not (data.get("new_stored_where") or "").strip():
                self.add_error("new_stored_where", "Say where the device is kept.")
        elif outcome == Search.Outcome.RETAINED:
            self.add_error(
                "custody",
                "A device the school keeps is recorded as a confiscation: link the earlier "
                "one or record it now.",
            )
        linked = data.get("confiscation") if custody == Custody.EXISTING else None
        if (
            outcome == Search.Outcome.RETAINED
            and linked
            and linked.status != Confiscation.Status.HELD
        ):
            self.add_error(
                "confiscation",
                f"That device is no longer held by the school "
                f"({linked.get_status_display().lower()}).",
            )
        if (
            outcome == Search.Outcome.RETURNED
            and linked
            and linked.status != Confiscation.Status.RETURNED
            and not (data.get("returned_to") or "").strip()
        ):
            self.add_error("returned_to", "Say to whom the device was returned.")
        hand_over = outcome == Search.Outcome.POLICE and (
            custody == Custody.NEW
            or (linked is not None and linked.status == Confiscation.Status.HELD)
        )
        if hand_over:
            if not (data.get("police_officer") or "").strip():
                self.add_error("police_officer", "Name the police officer who took the device.")
            if not (data.get("police_reference") or "").strip():
                self.add_error("police_reference", "Give the police reference number.")
            police_at = data.get("police_at")
            searched_at = data.get("searched_at")
            if not police_at:
                self.add_error("police_at", "Give the date and time of the hand-over.")
            elif searched_at and police_at < searched_at:
                self.add_error("police_at", "The hand-over cannot come before the search.")

    def _clean_parents_told(self, data: dict) -> None:
        if not data.get("parents_told"):
            return
        told_at = data.get("parents_told_at")
        if told_at is None:
            self.add_error("parents_told_at", "Say when the parents or carers were told.")
            return
        if told_at > timezone.now():
            self.add_error("parents_told_at", "That time is in the future.")
        searched_at = data.get("searched_at")
        if searched_at and told_at < searched_at:
            self.add_error("parents_told_at", "Parents are told after the search.")

    # Which parts of the form were used ------------------------------------------------------

    def hands_over(self) -> bool:
        data = self.cleaned_data
        if data["outcome"] != Search.Outcome.POLICE:
            return False
        if data["custody"] == Custody.NEW:
            return True
        linked = data.get("confiscation") if data["custody"] == Custody.EXISTING else None
        return linked is not None and linked.status == Confiscation.Status.HELD

    def returns_now(self) -> bool:
        data = self.cleaned_data
        linked = data.get("confiscation") if data["custody"] == Custody.EXISTING else None
        return (
            data["outcome"] == Search.Outcome.RETURNED
            and linked is not None
            and linked.status != Confiscation.Status.RETURNED
        )


class ParentsToldForm(forms.Form):
    told_at = forms.DateTimeField(
        label="When parents or carers were told of the search and its outcome",
        widget=DateTimeInput(),
        error_messages=_required("Say when they were told."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["told_at"].initial = _now()


class SearchListFilter(django_filters.FilterSet):
    q = SearchFilter(["learner__first_name", "learner__last_name"], label="Learner")
    reference = django_filters.CharFilter(
        field_name="incident__reference", lookup_expr="icontains", label="Incident reference"
    )
    outcome = django_filters.ChoiceFilter(choices=Search.Outcome.choices, empty_label="Any")
    # both are "exclude": "true" (found, told) leaves out the rows with nothing found, or
    # with no time told
    found = django_filters.BooleanFilter(
        field_name="found_nothing",
        label="Found",
        exclude=True,
        widget=forms.Select(
            choices=[("", "Any"), ("true", "Something found"), ("false", "Nothing found")]
        ),
    )
    parents_told = django_filters.BooleanFilter(
        field_name="parents_told_at",
        lookup_expr="isnull",
        exclude=True,
        label="Parents told",
        widget=forms.Select(choices=[("", "Any"), ("true", "Told"), ("false", "Not yet told")]),
    )
    searched_from = django_filters.DateFilter(
        field_name="searched_at",
        lookup_expr="date__gte",
        label="Searched from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    searched_to = django_filters.DateFilter(
        field_name="searched_at",
        lookup_expr="date__lte",
        label="Searched to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Search
        fields = [
            "q",
            "reference",
            "outcome",
            "found",
            "parents_told",
            "searched_from",
            "searched_to",
        ]
