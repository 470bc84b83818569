"""Forms for reporting a concern or breach (policy sections 3, 5, 6, 7 and 9), and for what
the reporter adds afterwards: a correction before triage, a note, a person, a file.

No form here sets a status or writes a record: the transition functions in
`incidents.services` do, and refuse with a reason. A form only collects what a transition
needs, in as few taps as a phone allows, and re-checks what would otherwise only be refused
after the whole page was typed (a time in the future, a person without a part).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django import forms
from django.utils import timezone

from compliance import access as community_access
from compliance.forms import DateTimeInput
from compliance.models import Learner, LinkedPolicy, StaffMember, User, Visitor
from incidents.models import (
    NO_FILES_CATEGORIES,
    Category,
    Involvement,
    Location,
    categories_by_risk_area,
)
from incidents.services import MAX_ATTACHMENT_BYTES, Person

# What staff do when a child has shared a nude or semi-nude image (UKCIS, "Sharing nudes
# and semi-nudes: advice for education settings"). Shown next to the category, on the
# confirmation page and where a file would otherwise be offered.
NUDES_INSTRUCTION: tuple[str, ...] = (
    "Do not view, copy, print, share, store or ask for the image.",
    "Do not delete it or ask the child to delete it.",
    "Confiscate the device: switch it off and keep it secure.",
    "Tell the DSL now, in person if you can.",
    "Attach nothing: this report accepts no file of any kind.",
)

# The same guard for an image of a pupil made or altered with AI (a "deepfake", a "nudify"
# app): UKCIS's advice covers such images as it does photographs, and a sexual image of a
# child is illegal however it was made.
AI_IMAGE_INSTRUCTION: tuple[str, ...] = (
    "Do not view, copy, print, share, store or ask for the image, even if it looks fake: "
    "a sexual image of a child made with AI is still illegal.",
    "Do not try to check whether it is real, and do not run it through any tool or app.",
    "Do not delete it or ask anyone to delete it.",
    "Confiscate the device it is on: switch it off and keep it secure.",
    "Tell the DSL now, in person if you can. Write down where it was shared and the app "
    "or site named, not what it shows.",
    "Attach nothing: this report accepts no file of any kind.",
)


@dataclass(frozen=True)
class NoFilesGuidance:
    """What everyone does for a category whose image is never viewed, copied or kept."""

    category: str
    heading: str
    lines: tuple[str, ...]
    source: str


NO_FILES_GUIDANCE: dict[str, NoFilesGuidance] = {
    Category.NUDES: NoFilesGuidance(
        Category.NUDES,
        "If a child has shared a nude or semi-nude image (UKCIS guidance):",
        NUDES_INSTRUCTION,
        'UKCIS, "Sharing nudes and semi-nudes: advice for education settings".',
    ),
    Category.AI_IMAGE: NoFilesGuidance(
        Category.AI_IMAGE,
        "If an image of a pupil has been made or altered with AI (a deepfake):",
        AI_IMAGE_INSTRUCTION,
        'UKCIS, "Sharing nudes and semi-nudes: advice for education settings" (which covers '
        "images made or altered with AI); KCSIE.",
    ),
}
assert set(NO_FILES_GUIDANCE) == NO_FILES_CATEGORIES


def no_files_guidance(category: str) -> NoFilesGuidance | None:
    return NO_FILES_GUIDANCE.get(category)


def grouped_category_choices() -> list:
    """The categories under KCSIE's 4 Cs (content, contact, conduct, commerce), for a select."""
    return [
        (area.label, [(c.value, c.label) for c in categories])
        for area, categories in categories_by_risk_area()
    ]


# How far back a report may go: older dates are almost always a mistyped year.
EARLIEST_YEAR = 2000
# Visitors offered in the people list: those on site recently (section 7).
RECENT_VISITS = datetime.timedelta(days=30)
MAX_PEOPLE = 5


def _now_local_minute() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def clean_occurred_at(value: datetime.datetime) -> datetime.datetime:
    """The checks `incident_report` makes, here so the reason shows next to the field."""
    if value > timezone.now() + datetime.timedelta(minutes=5):
        raise forms.ValidationError("The incident cannot have happened in the future.")
    if value.year < EARLIEST_YEAR:
        raise forms.ValidationError("Check the year: that is too long ago.")
    return value


# The people who may be named ---------------------------------------------------------------


@dataclass
class PeoplePicker:
    """Everyone this reporter may name, read once per page and shared by every person row.

    A value is "<kind>-<pk>": one list of people, grouped by kind, is quicker on a phone
    than a kind, then a list for that kind.
    """

    learners: dict[int, Learner] = field(default_factory=dict)
    staff: dict[int, StaffMember] = field(default_factory=dict)
    visitors: dict[int, Visitor] = field(default_factory=dict)

    @classmethod
    def for_user(cls, user: User) -> PeoplePicker:
        # staff name the learners they teach (compliance.access); the office and the
        # DSL team, every learner on roll
        learners = (
            community_access.visible(user, Learner)
            .filter(left__isnull=True)
            .select_related("form_class")
            .order_by("form_class__name", "last_name", "first_name", "pk")
        )
        staff = StaffMember.objects.filter(active=True).order_by("last_name", "first_name", "pk")
        since = timezone.now() - RECENT_VISITS
        visitors = (
            Visitor.objects.filter(visits__arrived__gte=since)
            .distinct()
            .order_by("last_name", "first_name", "pk")
        )
        return cls(
            learners={p.pk: p for p in learners},
            staff={p.pk: p for p in staff},
            visitors={p.pk: p for p in visitors},
        )

    def choices(self) -> list:
        groups: dict[str, list[tuple[str, str]]] = {}
        for learner in self.learners.values():
            form_class = learner.form_class.name if learner.form_class else "no class"
            groups.setdefault(f"Learners: {form_class}", []).append(
                (f"learner-{learner.pk}", f"{learner.full_name} ({form_class})")
            )
        choices: list = [("", "Choose a person")]
        choices += list(groups.items())
        if self.staff:
            choices.append(
                (
                    "Staff",
                    [(f"staff-{s.pk}", f"{s.full_name} (staff)") for s in self.staff.values()],
                )
            )
        if self.visitors:
            choices.append(
                (
                    "Visitors this month",
                    [(f"visitor-{v.pk}", f"{v} (visitor)") for v in self.visitors.values()],
                )
            )
        return choices

    def resolve(self, value: str) -> Learner | StaffMember | Visitor | None:
        kind, _, pk = value.partition("-")
        table = {"learner": self.learners, "staff": self.staff, "visitor": self.visitors}
        try:
            return table[kind][int(pk)]
        except (KeyError, ValueError):
            return None

    def person(self, value: str, part: str) -> Person:
        found = self.resolve(value)
        kind = value.partition("-")[0]
        return Person(part=part, **{kind: found})


class PersonForm(forms.Form):
    """One person involved and their part. A row left empty is skipped."""

    person = forms.ChoiceField(label="Who", required=False)
    part = forms.ChoiceField(
        label="Their part",
        choices=Involvement.Part.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,
    )

    def __init__(self, *args, picker: PeoplePicker, **kwargs):
        super().__init__(*args, **kwargs)
        self.picker = picker
        self.fields["person"].choices = picker.choices()
        self.fields["person"].widget.attrs["data-person-select"] = ""

    def clean(self):
        data = super().clean()
        value, part = data.get("person"), data.get("part")
        if value and not part:
            self.add_error("part", "Say whether they are the subject, affected or a witness.")
        if part and not value and "person" not in self.errors:
            self.add_error("person", "Choose who, or clear their part.")
        return data

    @property
    def is_filled(self) -> bool:
        return bool(self.cleaned_data.get("person"))

    def to_person(self) -> Person:
        return self.picker.person(self.cleaned_data["person"], self.cleaned_data["part"])


class BasePeopleFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen = set()
        for form in self.forms:
            value = form.cleaned_data.get("person")
            if not value:
                continue
            if value in seen:
                raise forms.ValidationError("Name each person once, with their main part.")
            seen.add(value)

    def people(self) -> list[Person]:
        return [form.to_person() for form in self.forms if form.is_filled]


PeopleFormSet = forms.formset_factory(
    PersonForm,
    formset=BasePeopleFormSet,
    extra=MAX_PEOPLE,
    max_num=MAX_PEOPLE,
    absolute_max=MAX_PEOPLE,
    validate_max=True,
)


def people_formset(data, picker: PeoplePicker, initial=None) -> BasePeopleFormSet:
    return PeopleFormSet(data, prefix="people", initial=initial, form_kwargs={"picker": picker})


# The report --------------------------------------------------------------------------------


def location_choices(locations: Iterable[Location]) -> list:
    """Restricted areas first and marked as such (section 3), then everywhere else."""
    restricted = [(str(loc.pk), loc.name) for loc in locations if loc.restricted]
    other = [(str(loc.pk), loc.name) for loc in locations if not loc.restricted]
    choices: list = [("", "Choose where")]
    if restricted:
        choices.append(("Restricted areas: no phones or personal devices (section 3)", restricted))
    if other:
        choices.append(("Elsewhere", other))
    return choices


class ReportForm(forms.Form):
    occurred_at = forms.DateTimeField(
        label="When",
        widget=DateTimeInput(),
        help_text="Now, unless it happened earlier.",
    )
    location = forms.ChoiceField(label="Where")
    category = forms.ChoiceField(
        label="What kind of concern",
        choices=grouped_category_choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    account = forms.CharField(
        label="What happened, in your own words",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Facts only: what you saw and heard, who was there, what was said. Once the "
        "DSL has triaged it this is never edited; later facts are added as notes.",
    )
    policies = forms.ModelMultipleChoiceField(
        label="Policies it falls under (if you know)",
        queryset=LinkedPolicy.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locations = {loc.pk: loc for loc in Location.objects.order_by("name")}
        self.fields["location"].choices = location_choices(self.locations.values())
        self.fields["occurred_at"].initial = _now_local_minute
        self.fields["policies"].queryset = LinkedPolicy.objects.order_by("name")

    def clean_occurred_at(self) -> datetime.datetime:
        return clean_occurred_at(self.cleaned_data["occurred_at"])

    def clean_location(self) -> Location:
        try:
            return self.locations[int(self.cleaned_data["location"])]
        except (KeyError, ValueError):
            raise forms.ValidationError("Choose where it happened.") from None

    def category_groups(self) -> list[dict]:
        """The category radios under the 4 Cs, each with the guidance to show beside it."""
        radios = {radio.data["value"]: radio for radio in self["category"]}
        return [
            {
                "label": area.label,
                "key": area.value,
                "radios": [
                    {"radio": radios[c.value], "guidance": no_files_guidance(c.value)}
                    for c in categories
                ],
            }
            for area, categories in categories_by_risk_area()
        ]


# What the reporter adds afterwards ---------------------------------------------------------


class AmendForm(forms.Form):
    """A correction of the reporter's own words, before the DSL has triaged them."""

    account = forms.CharField(
        label="Your account",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class NoteForm(forms.Form):
    """A dated addendum: a correction or a later fact. It is never edited afterwards."""

    text = forms.CharField(
        label="Add a note",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Dated and kept as written; your account is not changed.",
    )


class AttachmentForm(forms.Form):
    upload = forms.FileField(
        label="File",
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        help_text="A PDF, PNG or JPEG, under 10 MB: a screenshot of a message, a letter. "
        "It is stored under a new name; yours is not kept.",
    )
    description = forms.CharField(label="What it is", max_length=200)

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise forms.ValidationError("The file is larger than 10 MB.")
        return upload
