"""Breach incidents and concerns, the people involved, device searches, referrals,
contacts with parents, notes added after triage, and the debrief (policy sections 3, 5, 6,
7 and 9; DfE "Searching, screening and confiscation"; KCSIE; UKCIS "Sharing nudes and
semi-nudes"; the LADO procedure).

Status fields are set only by the transition functions in `incidents.services`. Once an
incident is triaged, what the reporter wrote is never edited: later facts are notes.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from compliance.models import Learner, LinkedPolicy, ParentCarer, StaffMember, User, Visitor
from devices.models import Confiscation


class Location(models.Model):
    """Where on site; the restricted areas of section 3 (classrooms, around pupils) marked."""

    name = models.CharField(max_length=100, unique=True)
    restricted = models.BooleanField(
        default=False,
        help_text="Section 3: devices are not used here (classrooms, or when around pupils).",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (restricted)" if self.restricted else self.name


class Category(models.TextChoices):
    RESTRICTED_AREA = "restricted_area", "Use in a restricted area"
    ABUSIVE_MESSAGE = "abusive_message", "Abusive or inappropriate message"
    OFFENSIVE_CONTENT = "offensive_content", "Offensive content"
    ILLEGAL_CONTENT = "illegal_content", "Suspected illegal content"
    UNAUTHORISED_RECORDING = "unauthorised_recording", "Unauthorised photo, video or recording"
    CYBERBULLYING = "cyberbullying", "Cyberbullying"
    NUDES = "nudes", "Sharing nudes or semi-nudes"
    STAFF_PERSONAL_CONTACT = (
        "staff_personal_contact",
        "Staff contact with learners or parents on a personal device",
    )
    VISITOR_MISUSE = "visitor_misuse", "Visitor misuse"
    LOSS_THEFT_DAMAGE = "loss_theft_damage", "Loss, theft or damage"
    OTHER = "other", "Other"
    # KCSIE's four areas of risk online, and newer harms (added for KCSIE 2022 onwards;
    # the values above are kept as they were so recorded incidents stay valid)
    HARMFUL_CONTENT = (
        "harmful_content",
        "Harmful content (self-harm, suicide, extremism, hate, pornography)",
    )
    MISINFORMATION = "misinformation", "Misinformation, disinformation or conspiracy theories"
    GROOMING = "grooming", "Contact from an adult or stranger (grooming, exploitation)"
    GENERATIVE_AI = "generative_ai", "Misuse of generative AI (chatbots, image or voice tools)"
    AI_IMAGE = "ai_image", "AI-generated or altered image of a pupil"
    GAMBLING = "gambling", "Gambling, loot boxes or in-app spending"
    SCAM = "scam", "Scams, phishing or fraud"


class RiskArea(models.TextChoices):
    """KCSIE's "4 Cs": the areas of risk online that each category falls in."""

    CONTENT = "content", "Content: being exposed to illegal, inappropriate or harmful content"
    CONTACT = "contact", "Contact: being subjected to harmful online interaction with others"
    CONDUCT = "conduct", "Conduct: online behaviour that increases the likelihood of harm"
    COMMERCE = "commerce", "Commerce: gambling, advertising, phishing or financial scams"
    OTHER = "other", "Other breaches of the policy"


RISK_AREA: dict[str, RiskArea] = {
    Category.OFFENSIVE_CONTENT: RiskArea.CONTENT,
    Category.ILLEGAL_CONTENT: RiskArea.CONTENT,
    Category.HARMFUL_CONTENT: RiskArea.CONTENT,
    Category.MISINFORMATION: RiskArea.CONTENT,
    Category.ABUSIVE_MESSAGE: RiskArea.CONTACT,
    Category.GROOMING: RiskArea.CONTACT,
    Category.STAFF_PERSONAL_CONTACT: RiskArea.CONTACT,
    Category.CYBERBULLYING: RiskArea.CONDUCT,
    Category.NUDES: RiskArea.CONDUCT,
    Category.AI_IMAGE: RiskArea.CONDUCT,
    Category.GENERATIVE_AI: RiskArea.CONDUCT,
    Category.UNAUTHORISED_RECORDING: RiskArea.CONDUCT,
    Category.RESTRICTED_AREA: RiskArea.CONDUCT,
    Category.GAMBLING: RiskArea.COMMERCE,
    Category.SCAM: RiskArea.COMMERCE,
    Category.VISITOR_MISUSE: RiskArea.OTHER,
    Category.LOSS_THEFT_DAMAGE: RiskArea.OTHER,
    Category.OTHER: RiskArea.OTHER,
}


def categories_by_risk_area() -> list[tuple[RiskArea, list[Category]]]:
    """The categories grouped by the 4 Cs, in the order of `RiskArea` then `Category`."""
    return [(area, [c for c in Category if RISK_AREA[c] == area]) for area in RiskArea]


# Categories where the image itself must never be viewed, copied or stored: the app
# accepts no file of any kind on such an incident (UKCIS guidance, which covers images
# made or altered with AI as it does photographs).
NO_FILES_CATEGORIES = frozenset({Category.NUDES, Category.AI_IMAGE})


class Incident(models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", "Reported"
        TRIAGED = "triaged", "Triaged"
        INVESTIGATING = "investigating", "Investigating"
        AWAITING_DEBRIEF = "debrief", "Awaiting debrief"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    occurred_at = models.DateTimeField("when it happened", default=timezone.now)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="incidents")
    category = models.CharField(max_length=30, choices=Category.choices)
    account = models.TextField(
        "what happened, in your own words",
        help_text="Facts only: what you saw and heard, who was there. Once the DSL has "
        "triaged it, this is never edited; later facts are added as notes.",
    )
    policies = models.ManyToManyField(
        LinkedPolicy,
        blank=True,
        related_name="incidents",
        verbose_name="policies it falls under",
    )
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(
        max_length=15, choices=Status.choices, default=Status.REPORTED, editable=False
    )
    assignee = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    # set at triage (and may be raised later): each one adds a guard on closing
    child_at_risk = models.BooleanField(default=False, editable=False)
    suspected_illegal = models.BooleanField(default=False, editable=False)
    staff_allegation = models.BooleanField(
        "a staff member may have harmed a child, committed an offence or shown unsuitability",
        default=False,
        editable=False,
    )
    triaged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    triaged_at = models.DateTimeField(null=True, blank=True, editable=False)
    conduct_outcome = models.TextField("code of conduct outcome", blank=True, editable=False)
    parents_not_told_reason = models.TextField(blank=True, editable=False)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[policies])

    class Meta:
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="reported")
                | (Q(triaged_by__isnull=False) & Q(triaged_at__isnull=False)),
                name="incident_triage_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (Q(closed_by__isnull=False) & Q(closed_at__isnull=False)),
                name="incident_close_has_who_and_when",
            ),
        ]
        indexes = [
            # the triage queue's order: its first page read without sorting every incident
            models.Index(fields=["-reported_at", "-id"], name="incident_reported_idx"),
            models.Index(fields=["status", "-reported_at"], name="incident_status_idx"),
            models.Index(fields=["reported_by", "-reported_at"], name="incident_reporter_idx"),
            models.Index(fields=["category", "-occurred_at"], name="incident_category_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("incidents:incident_detail", args=[self.pk])

    @property
    def accepts_files(self) -> bool:
        return self.category not in NO_FILES_CATEGORIES


class Involvement(models.Model):
    """A person involved in an incident, and their part in it."""

    class Part(models.TextChoices):
        SUBJECT = "subject", "Subject (did it, or is alleged to have)"
        AFFECTED = "affected", "Affected"
        WITNESS = "witness", "Witness"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="people")
    part = models.CharField(max_length=10, choices=Part.choices)
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, null=True, blank=True, related_name="involvements"
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="involvements"
    )
    visitor = models.ForeignKey(
        Visitor, on_delete=models.PROTECT, null=True, blank=True, related_name="involvements"
    )
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # when they were added (the timeline shows it). Rows from before this field took the date
    # of their first history row; their history rows, which are never changed, say nothing.
    added_at = models.DateTimeField(default=timezone.now, null=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["part", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(learner__isnull=False) & Q(staff__isnull=True) & Q(visitor__isnull=True)
                )
                | (Q(learner__isnull=True) & Q(staff__isnull=False) & Q(visitor__isnull=True))
                | (Q(learner__isnull=True) & Q(staff__isnull=True) & Q(visitor__isnull=False)),
                name="involvement_has_exactly_one_person",
            ),
        ]
        indexes = [models.Index(fields=["learner", "incident"], name="involvement_learner_idx")]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_part_display()})"

    @property
    def person(self):
        return self.learner or self.staff or self.visitor


class Note(models.Model):
    """A dated addendum: a correction or a later fact. Notes are never edited."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField()
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["written_at", "pk"]

    def __str__(self) -> str:
        return f"Note on {self.incident} at {timezone.localtime(self.written_at):%d/%m/%Y %H:%M}"


class Search(models.Model):
    """A search of a learner's device (DfE "Searching, screening and confiscation", 2022)."""

    class ConsentBy(models.TextChoices):
        LEARNER = "learner", "The learner"
        PARENT_CARER = "parent_carer", "A parent or carer"

    class Deletion(models.TextChoices):
        NONE = "none", "Nothing deleted"
        DELETED = "deleted", "Content deleted"
        ASKED = "asked", "The learner was asked to delete content"

    class Outcome(models.TextChoices):
        RETURNED = "returned", "Device returned"
        RETAINED = "retained", "Device retained by the school"
        POLICE = "police", "Device handed to the police"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="searches")
    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="searches")
    device = models.CharField(max_length=200, help_text="Which device: make, colour, case.")
    searched_at = models.DateTimeField()
    place = models.CharField("where the search took place", max_length=200)
    led_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The DSL, a deputy or the headteacher.",
    )
    second_staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="second member of staff present",
    )
    no_second_reason = models.TextField("why no second member of staff was present", blank=True)
    grounds = models.TextField("grounds for the search")
    sought = models.TextField("what was being looked for")
    consent_by = models.CharField(max_length=15, choices=ConsentBy.choices)
    consent_parent = models.ForeignKey(
        ParentCarer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_how = models.CharField("how consent was given", max_length=200)
    found_nothing = models.BooleanField(default=False)
    found = models.TextField("what was found", blank=True)
    deletion = models.CharField(max_length=10, choices=Deletion.choices, default=Deletion.NONE)
    deleted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    deletion_reason = models.TextField(blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    confiscation = models.ForeignKey(
        Confiscation, on_delete=models.PROTECT, null=True, blank=True, related_name="searches"
    )
    parents_told_at = models.DateTimeField(null=True, blank=True)
    parents_told_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-searched_at", "-pk"]
        verbose_name_plural = "searches"
        constraints = [
            models.CheckConstraint(
                condition=Q(second_staff__isnull=False) | ~Q(no_second_reason=""),
                name="search_has_witness_or_reason",
            ),
            models.CheckConstraint(
                condition=(Q(consent_by="learner") & Q(consent_parent__isnull=True))
                | (Q(consent_by="parent_carer") & Q(consent_parent__isnull=False)),
                name="search_consent_names_who",
            ),
            models.CheckConstraint(
                condition=(Q(found_nothing=True) & Q(found=""))
                | (Q(found_nothing=False) & ~Q(found="")),
                name="search_found_or_nothing",
            ),
            models.CheckConstraint(
                condition=Q(deletion="none")
                | (Q(deleted_by__isnull=False) & ~Q(deletion_reason="")),
                name="search_deletion_has_who_and_why",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="police") | Q(confiscation__isnull=False),
                name="search_police_outcome_has_custody",
            ),
        ]

    def __str__(self) -> str:
        return f"Search for {self.incident} on {timezone.localtime(self.searched_at):%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return reverse("incidents:search_detail", args=[self.pk])


class Referral(models.Model):
    """A referral to an agency, or advice sought from one (section 9)."""

    class Agency(models.TextChoices):
        POLICE = "police", "Police"
        LADO = "lado", "LADO (Local Authority Designated Officer)"
        SOCIAL_CARE = "social_care", "Children's social care"
        ESS = "ess", "Education Safeguarding Service (advice)"
        OTHER = "other", "Other agency"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="referrals")
    agency = models.CharField(max_length=15, choices=Agency.choices)
    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    contact = models.CharField("who was spoken to", max_length=200)
    reference = models.CharField("their reference number", max_length=100, blank=True)
    advice = models.TextField("advice given", blank=True)
    outcome = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["made_at", "pk"]
        indexes = [models.Index(fields=["agency", "made_at"], name="referral_agency_idx")]

    def __str__(self) -> str:
        return f"{self.get_agency_display()} for {self.incident}"


class ParentContact(models.Model):
    """Parents or carers told of a concern (section 6: shared with parents as appropriate)."""

    class How(models.TextChoices):
        PHONE = "phone", "Phone call"
        IN_PERSON = "in_person", "In person"
        LETTER = "letter", "Letter"
        EMAIL = "email", "Email"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="parent_contacts")
    parent = models.ForeignKey(ParentCarer, on_delete=models.PROTECT, related_name="+")
    told_at = models.DateTimeField(default=timezone.now)
    told_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    how = models.CharField(max_length=10, choices=How.choices)
    summary = models.TextField("what they were told")
    history = HistoricalRecords()

    class Meta:
        ordering = ["told_at", "pk"]

    def __str__(self) -> str:
        return f"{self.parent} told of {self.incident}"


class Debrief(models.Model):
    """Leadership's debrief after the investigation (section 9): lessons and changes."""

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="debrief")
    held_on = models.DateField()
    attendees = models.ManyToManyField(StaffMember, related_name="+")
    lessons = models.TextField("lessons learnt")
    policy_changes = models.TextField("policy changes", blank=True)
    curriculum_changes = models.TextField("curriculum changes", blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(m2m_fields=[attendees])

    def __str__(self) -> str:
        return f"Debrief of {self.incident}"


class Attachment(models.Model):
    """A file of evidence (a screenshot of a message, a letter). Never on an incident whose
    category forbids files (sharing nudes or semi-nudes, an AI-generated image of a pupil):
    see NO_FILES_CATEGORIES."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to="incidents/%Y/")
    description = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    # a file that must not be kept (e.g. it turned out to be an image of a child) is removed
    # by the DSL; this record of it stays
    removed_at = models.DateTimeField(null=True, blank=True, editable=False)
    removed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    removal_reason = models.TextField(blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(removed_at__isnull=True) & ~Q(file=""))
                | (
                    Q(removed_at__isnull=False)
                    & Q(removed_by__isnull=False)
                    & ~Q(removal_reason="")
                    & Q(file="")
                ),
                name="attachment_removal_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class LowLevelConcern(models.Model):
    """A low-level concern about a member of staff (KCSIE 2022 onwards): behaviour that does
    not meet the harm threshold for an allegation but is not consistent with the staff code
    of conduct, KCSIE's own example being photographs of children taken on a personal phone
    contrary to policy.

    Any member of staff raises one; only the DSL and the headteacher read the log (see
    `incidents.access.concerns_for`). They record the staff member's response and the
    outcome, and watch for patterns by staff member. One that turns out to meet the harm
    threshold is escalated, in one step, to an allegation: an incident on the LADO route,
    linked here; the concern is then read-only. Never deleted. Status is set only by the
    functions in `incidents.concerns`.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Outcome recorded"
        ESCALATED = "escalated", "Escalated to an allegation"

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", "No further action"
        SPOKEN_TO = "spoken_to", "Spoken to; the code of conduct and policy restated"
        SUPPORT = "support", "Training or support arranged"
        PROCEDURE = "procedure", "Dealt with under the disciplinary or capability procedure"

    reference = models.CharField(max_length=20, unique=True, editable=False)
    staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        related_name="low_level_concerns",
        verbose_name="the member of staff it is about",
    )
    occurred_at = models.DateTimeField("when it happened", default=timezone.now)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="low_level_concerns"
    )
    account = models.TextField(
        "what you saw or heard",
        help_text="Facts only: what happened, when, who was there. Not your opinion of them.",
    )
    raised_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", editable=False)
    raised_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, editable=False
    )
    staff_response = models.TextField("the staff member's response", blank=True, editable=False)
    response_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    response_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, editable=False)
    outcome_detail = models.TextField("what was decided, and why", blank=True, editable=False)
    outcome_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    outcome_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    incident = models.OneToOneField(
        Incident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="low_level_concern",
        editable=False,
        verbose_name="the allegation it was escalated to",
    )
    escalated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="escalated")
                | (
                    Q(incident__isnull=True)
                    & Q(escalated_by__isnull=True)
                    & Q(escalated_at__isnull=True)
                ),
                name="llc_linked_only_when_escalated",
            ),
            models.CheckConstraint(
                condition=~Q(status="escalated")
                | (
                    Q(incident__isnull=False)
                    & Q(escalated_by__isnull=False)
                    & Q(escalated_at__isnull=False)
                ),
                name="llc_escalation_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed")
                | (
                    ~Q(outcome="")
                    & Q(outcome_recorded_by__isnull=False)
                    & Q(outcome_recorded_at__isnull=False)
                ),
                name="llc_closed_has_outcome",
            ),
        ]
        indexes = [models.Index(fields=["staff", "-raised_at"], name="llc_staff_idx")]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("incidents:concern_detail", args=[self.pk])
