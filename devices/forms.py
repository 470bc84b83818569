"""Forms for exemptions, agreements and signatures.

The forms check what a person can get wrong by typing (a missing reason, an end before the
start, a file that is not a PDF) and say so next to the field. The rules of the policy are
checked again, and finally, by the transition functions in `devices.services`.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from compliance.forms import DateInput
from compliance.models import Learner, ParentCarer, StaffMember, Visitor
from devices.models import DeviceCategory, Exemption, HandInException, Signature
from devices.services import MAX_SCAN_BYTES

Kind = Exemption.Kind

# Who an exemption is for, and the kinds of exemption for each (the request form's first step).
SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    "learner": (Kind.LEARNER_EXCEPTIONAL,),
    "staff": (Kind.STAFF_TEACHING_TIME, Kind.STAFF_REMOTE_LEARNING),
    "visitor": (Kind.VISITOR_WITH_LEARNERS,),
}
SUBJECT_LABELS = {"learner": "A learner", "staff": "A member of staff", "visitor": "A visitor"}
REASON_HELP = {
    "learner": "The medical need or other exceptional circumstances, and who advised it.",
    "staff": "What the device is needed for, and why a school device will not do.",
    "visitor": "The multi-agency work with learners, and why the device is needed for it.",
}
SHORT_KIND = {
    Kind.LEARNER_EXCEPTIONAL: "Learner: exceptional circumstances",
    Kind.STAFF_TEACHING_TIME: "Staff: device in teaching time",
    Kind.STAFF_REMOTE_LEARNING: "Staff: remote learning on a personal device",
    Kind.VISITOR_WITH_LEARNERS: "Visitor: device use with learners",
}


class _GroupedLearnerChoiceField(forms.ModelChoiceField):
    """Learners grouped by class in the select, so 400 names stay findable."""

    def _get_choices(self):
        groups: dict[str, list[tuple[int, str]]] = {}
        for learner in self.queryset:
            label = str(learner.form_class) if learner.form_class_id else "No class"
            groups.setdefault(label, []).append((learner.pk, self.label_from_instance(learner)))
        return [("", self.empty_label), *sorted(groups.items())]

    choices = property(_get_choices, forms.ModelChoiceField.choices.fset)

    def label_from_instance(self, obj: Learner) -> str:
        return f"{obj.last_name}, {obj.first_name}"


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        label = f"{obj.last_name}, {obj.first_name}"
        extra = getattr(obj, "organisation", "") or getattr(obj, "job_title", "")
        return f"{label} ({extra})" if extra else label


class ExemptionRequestForm(forms.Form):
    """Step two of asking for an exemption: who (of the kind chosen in step one), what, why,
    when. `subject_for` is "learner", "staff" or "visitor"; `subjects` the people the user
    may ask for; `own_staff` set when a member of staff may ask only for themselves."""

    kind = forms.ChoiceField(label="What is asked for", widget=forms.RadioSelect)
    learner = _GroupedLearnerChoiceField(queryset=Learner.objects.none(), label="Learner")
    staff = _PersonChoiceField(queryset=StaffMember.objects.none(), label="Member of staff")
    visitor = _PersonChoiceField(queryset=Visitor.objects.none(), label="Visitor")
    category = forms.ModelChoiceField(
        queryset=DeviceCategory.objects.all(),
        label="Device",
        empty_label="Choose the kind of device",
    )
    reason_kind = forms.ChoiceField(
        label="The reason, as the DfE guidance names them",
        choices=Exemption.ReasonKind.choices,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why the exception is needed",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    starts = forms.DateField(label="From", widget=DateInput())
    ends = forms.DateField(label="Until", widget=DateInput(), help_text="At most a year.")
    review_on = forms.DateField(
        label="Review by",
        widget=DateInput(),
        help_text="When the arrangement is next reviewed with the family: a day within the "
        "exemption, or its last day.",
    )

    def __init__(
        self,
        *args,
        subject_for: str,
        subjects: QuerySet,
        own_staff: StaffMember | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.subject_for = subject_for
        kinds = SUBJECT_KINDS[subject_for]
        self.fields["kind"].choices = [(kind, Kind(kind).label) for kind in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
            self.fields["kind"].widget = forms.HiddenInput()
        for name in SUBJECT_KINDS:
            if name != subject_for:
                del self.fields[name]
        self.fields["reason"].help_text = REASON_HELP[subject_for]
        if subject_for != "learner":
            # the guidance's reasons are for learners; staff and visitors are reviewed at
            # the end unless a date is given
            del self.fields["reason_kind"]
            self.fields["review_on"].required = False
            self.fields[
                "review_on"
            ].help_text = "Optional: a day within the exemption. Left blank, its last day."
        field = self.fields[subject_for]
        if subject_for == "learner":
            subjects = subjects.select_related("form_class").order_by(
                "form_class__name", "last_name", "first_name", "pk"
            )
        field.queryset = subjects
        field.empty_label = f"Choose the {field.label.lower()}"
        if own_staff is not None:
            # a member of staff asks for themselves: the choice is made for them
            field.initial = own_staff.pk
            field.disabled = True
            field.help_text = "Members of staff ask for permission for themselves."

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends < starts:
            self.add_error("ends", "The end date is before the start date.")
        review_on = cleaned.get("review_on")
        if review_on and starts and ends and starts <= ends and not starts <= review_on <= ends:
            self.add_error(
                "review_on",
                "The review date must fall within the exemption, or be its last day.",
            )
        return cleaned

    @property
    def subject(self):
        return self.cleaned_data[self.subject_for]


class DecideForm(forms.Form):
    """The headteacher's decision: two buttons, one reasons box."""

    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("refuse", "Refuse")])
    reasons = forms.CharField(
        label="Reasons for the decision",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with the decision. A refusal always gives its reasons.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "refuse" and not cleaned.get("reasons", "").strip():
            self.add_error("reasons", "Give the reasons for refusing.")
        return cleaned


class RiskAssessmentForm(forms.Form):
    hazards = forms.CharField(
        label="Risks identified",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    controls = forms.CharField(
        label="How each risk is controlled",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class AgreementForm(forms.Form):
    """The written terms: what is permitted, where, when, expectations, sanctions."""

    permitted_use = forms.CharField(
        label="What is permitted",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The use, and only that use: e.g. “reading her blood glucose app and "
        "receiving its alerts”.",
    )
    where = forms.CharField(label="Where", max_length=300)
    when = forms.CharField(label="When", max_length=300)
    expectations = forms.CharField(
        label="Expectations", max_length=8000, widget=forms.Textarea(attrs={"rows": 5})
    )
    sanctions = forms.CharField(
        label="Sanctions for misuse", max_length=8000, widget=forms.Textarea(attrs={"rows": 3})
    )


# What a first agreement suggests, taken from the policy; the headteacher edits it.
SUGGESTED_TERMS: dict[str, dict[str, str]] = {
    "learner": {
        "where": "On the school site, kept with the learner",
        "when": "Throughout the school day, only for the purpose above",
        "expectations": (
            "The device is on silent and is used only for the purpose above. It is not used to "
            "take photos, videos or recordings, to send messages or to go online for anything "
            "else. Nobody else uses it. If the learner needs to contact their parents or "
            "carers, a member of staff phones home for them."
        ),
        "sanctions": (
            "Misuse is dealt with under the Behaviour for Learning and Conduct Policy: the "
            "device is handed to the class teacher for the rest of the day, parents or carers "
            "are told, and the headteacher may revoke this exemption."
        ),
    },
    "staff": {
        "where": "Away from learners, unless the use itself needs them",
        "when": "During teaching periods, only for the purpose above",
        "expectations": (
            "The device is used only for the purpose above. It is not used to contact learners "
            "or parents and carers, or to take photos or videos of learners. Bluetooth and "
            "AirDrop stay hidden or switched off in lesson time."
        ),
        "sanctions": (
            "A breach is dealt with under the staff code of conduct, and this permission may be "
            "withdrawn by the headteacher at any time."
        ),
    },
    "visitor": {
        "where": "Only in the rooms agreed for the work with learners",
        "when": "During the agreed visits, only for the purpose above",
        "expectations": (
            "The device is used only for the purpose above, in line with the school's "
            "acceptable use policy and child protection policy. No photos, videos or "
            "recordings of learners are taken."
        ),
        "sanctions": (
            "Staff will challenge misuse and tell the DSL or the headteacher; the headteacher "
            "may withdraw this permission at once."
        ),
    },
}


class SignatureForm(forms.Form):
    """One signature captured in person: who, in what capacity, and the evidence.

    `capacities` are the capacities still unsigned that this user may record; `parents` the
    parents and carers with parental responsibility for the learner (when one signs)."""

    capacity = forms.ChoiceField(label="Signing as", widget=forms.RadioSelect)
    signer_name = forms.CharField(label="Name of the person signing", max_length=200)
    parent = forms.ModelChoiceField(
        queryset=ParentCarer.objects.none(),
        label="Which parent or carer",
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
    )
    method = forms.ChoiceField(
        label="How it is signed",
        choices=Signature.Method.choices,
        initial=Signature.Method.DRAWN,
        widget=forms.RadioSelect,
    )
    drawn_png = forms.CharField(required=False, widget=forms.HiddenInput, max_length=600_000)
    paper_scan = forms.FileField(
        label="Scan of the signed paper agreement (PDF, at most 5 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
    )

    def __init__(self, *args, capacities: list[tuple[str, str]], parents: QuerySet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capacity"].choices = capacities
        self.fields["parent"].queryset = parents
        self.fields["parent"].label_from_instance = lambda parent: (
            f"{parent.full_name} ({parent.get_relationship_display().lower()})"
        )
        if not any(value == Signature.Capacity.PARENT_CARER for value, _ in capacities):
            del self.fields["parent"]

    def clean_paper_scan(self):
        scan = self.cleaned_data.get("paper_scan")
        if not scan:
            return scan
        if scan.size > MAX_SCAN_BYTES:
            raise forms.ValidationError("The scan is larger than 5 MB: scan it again smaller.")
        head = scan.read(5)
        scan.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError("The scan must be a PDF file.")
        return scan

    def clean(self):
        cleaned = super().clean()
        method = cleaned.get("method")
        if method == Signature.Method.DRAWN and not cleaned.get("drawn_png"):
            self.add_error(
                None,
                "The signature box is empty: sign in the box, or choose “Signed on paper”.",
            )
        if (
            method == Signature.Method.PAPER
            and not cleaned.get("paper_scan")
            and "paper_scan" not in self.errors
        ):
            self.add_error("paper_scan", "Upload the scan of the signed paper agreement.")
        parent_needed = cleaned.get("capacity") == Signature.Capacity.PARENT_CARER
        if parent_needed and "parent" in self.fields and not cleaned.get("parent"):
            self.add_error("parent", "Choose the parent or carer who is signing.")
        return cleaned


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Reason for revoking",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Use stops at once; the reason is kept with the exemption.",
    )


class VerifyForm(forms.Form):
    fingerprint = forms.CharField(
        label="Fingerprint",
        max_length=200,
        help_text="The 64 letters and digits printed under “Fingerprint” on the agreement. "
        "Spaces do not matter.",
    )

    def clean_fingerprint(self) -> str:
        value = "".join(self.cleaned_data["fingerprint"].split()).lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise forms.ValidationError(
                "A fingerprint is 64 characters long, made of the digits 0-9 and the letters "
                "a-f. Check what was typed against the printed agreement."
            )
        return value


# The approvals queue's filters.


def _subject_search(queryset: QuerySet, name: str, value: str) -> QuerySet:
    query = Q()
    for word in value[:200].split()[:5]:
        word_q = Q()
        for person in ("learner", "staff", "visitor"):
            word_q |= Q(**{f"{person}__first_name__icontains": word})
            word_q |= Q(**{f"{person}__last_name__icontains": word})
        query &= word_q
    return queryset.filter(query)


class ExemptionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method=_subject_search, label="Name")
    # the view applies the status itself, after counting every status
    status = django_filters.ChoiceFilter(
        choices=Exemption.Status.choices, empty_label="Any status", method="filter_nothing"
    )
    kind = django_filters.ChoiceFilter(choices=list(SHORT_KIND.items()), empty_label="Any kind")
    reason_kind = django_filters.ChoiceFilter(
        choices=Exemption.ReasonKind.choices, empty_label="Any reason", label="Reason"
    )

    class Meta:
        model = Exemption
        fields = ["q", "status", "kind", "reason_kind"]

    def filter_nothing(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset


# The daily register's exceptions (section 6, and the school's approach to phones).


class HandInExceptionForm(forms.Form):
    """One exception on the register: what happened (the kinds of the school's approach)
    and, optionally, a few words. `kinds` are `HandInException.Kind` values."""

    kind = forms.ChoiceField(label="What happened", widget=forms.RadioSelect)
    details = forms.CharField(
        label="Details (optional)",
        max_length=300,
        required=False,
        help_text="When and where, and where the phone is now. Name no other child.",
    )

    def __init__(self, *args, kinds: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(kind, HandInException.Kind(kind).label) for kind in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
