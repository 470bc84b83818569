"""The school community: people, roles, classes, visitors and the policy record.

Every model keeps its history (django-simple-history); the acting user is
recorded by the history middleware.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from compliance.guidance import GuidanceKind
from compliance.guidance import choices as guidance_choices
from compliance.roles import Role


class User(AbstractUser):
    """A login. Roles are group memberships; ask `compliance.access`, not the groups."""

    history = HistoricalRecords(m2m_fields=["groups"], excluded_fields=["last_login", "password"])

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def roles(self) -> frozenset[str]:
        """The user's role names, read once per request and kept on the instance."""
        cached = getattr(self, "_roles_cache", None)
        if cached is None:
            if not self.is_active or self.pk is None:
                cached = frozenset()
            else:
                names = self.groups.values_list("name", flat=True)
                cached = frozenset(name for name in names if name in Role.values)
            self._roles_cache = cached
        return cached

    def role_labels(self) -> list[str]:
        return [Role(name).label for name in Role.values if name in self.roles]


class PhoneApproach(models.TextChoices):
    """How the school keeps pupils' phones out of the school day: the approaches of the
    DfE's "Mobile phones in schools" guidance (February 2024, tightened January 2026)."""

    NOT_ALLOWED = "not_allowed", "Not allowed on site"
    HAND_IN_TEACHER = "hand_in_teacher", "Handed in on arrival, to the class teacher"
    HAND_IN_OFFICE = "hand_in_office", "Handed in on arrival, to the office"
    LOCKER = "locker", "Kept in a locker"
    POUCH = "pouch", "Kept in a sealed pouch"
    KEPT_UNSEEN = (
        "kept_unseen",
        "Kept by the pupil but never used, seen or heard (out of step with the January 2026 "
        "guidance)",
    )


class School(models.Model):
    """The school itself: one row. Its key contacts come from role membership."""

    singleton = models.BooleanField(default=True, editable=False, unique=True)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    local_authority = models.CharField(max_length=200, blank=True)
    lado_contact = models.TextField(
        "LADO contact",
        blank=True,
        help_text="Local Authority Designated Officer: name, phone, email.",
    )
    safeguarding_partnership_contact = models.TextField(
        "local safeguarding partnership contact", blank=True
    )
    education_safeguarding_service_contact = models.TextField(
        "Education Safeguarding Service contact", blank=True
    )
    safeguarding_lead_governor = models.ForeignKey(
        "StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"staff_type": "governor"},
    )
    phone_approach = models.CharField(
        "pupils' phones during the school day",
        max_length=20,
        choices=PhoneApproach.choices,
        default=PhoneApproach.HAND_IN_TEACHER,
        help_text="The DfE expects schools to be phone-free through the whole school day.",
    )
    # the DfE filtering and monitoring standards name a senior leader and a governor
    # responsible (the DSL leads on filtering and monitoring, KCSIE 2023)
    filtering_senior_leader = models.ForeignKey(
        "StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="senior leader responsible for filtering and monitoring",
    )
    filtering_governor = models.ForeignKey(
        "StaffMember",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"staff_type": "governor"},
        verbose_name="governor responsible for filtering and monitoring",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="school_is_singleton"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("compliance:school")

    @classmethod
    def current(cls) -> School | None:
        return cls.objects.first()


class PolicyVersion(models.Model):
    """A version of the Mobile and Smart Technology Policy (key details)."""

    number = models.CharField(max_length=20, unique=True)
    date_written = models.DateField()
    adopted = models.DateField(null=True, blank=True)
    next_review = models.DateField()
    material_change = models.BooleanField(
        "a material change",
        default=True,
        help_text=(
            "Everyone who acknowledged an earlier version is asked to acknowledge this one. "
            "Untick only for a version that corrects wording and changes no rule."
        ),
    )
    # the national guidance this version follows (compliance.guidance); blank: not said
    follows_kcsie = models.CharField(
        "follows Keeping children safe in education",
        max_length=10,
        blank=True,
        choices=guidance_choices(GuidanceKind.KCSIE),
    )
    follows_phone_guidance = models.CharField(
        "follows the DfE's Mobile phones in schools",
        max_length=10,
        blank=True,
        choices=guidance_choices(GuidanceKind.PHONES),
    )
    follows_filtering_standards = models.CharField(
        "follows the DfE's filtering and monitoring standards",
        max_length=10,
        blank=True,
        choices=guidance_choices(GuidanceKind.FILTERING),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-date_written", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review__gt=models.F("date_written")),
                name="policy_next_review_after_written",
            ),
        ]

    def __str__(self) -> str:
        return f"Version {self.number}"

    @property
    def review_overdue(self) -> bool:
        return self.next_review < timezone.localdate()


class StaffType(models.TextChoices):
    TEACHING = "teaching", "Teaching"
    SUPPORT = "support", "Support"
    LEADERSHIP = "leadership", "Leadership"
    GOVERNOR = "governor", "Governor"
    CONTRACTOR = "contractor", "Contractor"
    VOLUNTEER = "volunteer", "Volunteer"
    OTHER = "other", "Other"


class StaffMember(models.Model):
    """Everyone the policy calls "staff": employees, governors, contractors, volunteers."""

    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff_member",
        help_text="Their login, if they have one.",
    )
    mis_id = models.CharField(
        "MIS reference", max_length=50, blank=True, help_text="The staff ID in the school's MIS."
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    staff_type = models.CharField(max_length=20, choices=StaffType.choices)
    job_title = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mis_id"], condition=~Q(mis_id=""), name="staff_mis_id_unique"
            ),
        ]
        indexes = [models.Index(Lower("last_name"), "first_name", name="staff_name_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:staff_detail", args=[self.pk])


class YearGroup(models.TextChoices):
    RECEPTION = "R", "Reception"
    Y1 = "1", "Year 1"
    Y2 = "2", "Year 2"
    Y3 = "3", "Year 3"
    Y4 = "4", "Year 4"
    Y5 = "5", "Year 5"
    Y6 = "6", "Year 6"


class FormClass(models.Model):
    name = models.CharField(max_length=50, unique=True)
    year_group = models.CharField(max_length=2, choices=YearGroup.choices)
    teachers = models.ManyToManyField(StaffMember, blank=True, related_name="form_classes")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[teachers])

    class Meta:
        ordering = ["year_group", "name"]
        verbose_name = "class"
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("compliance:class_detail", args=[self.pk])


class Learner(models.Model):
    mis_id = models.CharField(
        "UPN or MIS reference",
        max_length=50,
        blank=True,
        help_text="Unique pupil number or MIS ID; used to match rows on import.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    year_group = models.CharField(max_length=2, choices=YearGroup.choices)
    form_class = models.ForeignKey(
        FormClass,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="learners",
        verbose_name="class",
    )
    joined = models.DateField(default=timezone.localdate)
    left = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mis_id"], condition=~Q(mis_id=""), name="learner_mis_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(left__isnull=True) | Q(left__gte=models.F("joined")),
                name="learner_left_after_joined",
            ),
            models.CheckConstraint(
                condition=Q(joined__gt=models.F("date_of_birth")),
                name="learner_joined_after_birth",
            ),
        ]
        indexes = [models.Index(Lower("last_name"), "first_name", name="learner_name_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def on_roll(self) -> bool:
        return self.left is None or self.left >= timezone.localdate()

    def clean(self) -> None:
        errors = {}
        if self.left and self.joined and self.left < self.joined:
            errors["left"] = "A learner cannot leave before they joined."
        if self.date_of_birth and self.joined and self.joined <= self.date_of_birth:
            errors["joined"] = "The date joined must be after the date of birth."
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            errors["date_of_birth"] = "The date of birth cannot be in the future."
        if self.form_class_id and self.year_group and self.form_class.year_group != self.year_group:
            errors["form_class"] = (
                f"{self.form_class} is a {self.form_class.get_year_group_display()} class."
            )
        if errors:
            raise ValidationError(errors)

    def get_absolute_url(self) -> str:
        return reverse("compliance:learner_detail", args=[self.pk])


class Relationship(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent"
    GRANDPARENT = "grandparent", "Grandparent"
    FOSTER_CARER = "foster_carer", "Foster carer"
    CARER = "carer", "Carer"
    OTHER = "other", "Other"


class ParentCarer(models.Model):
    """A parent or carer; `learners` are those they hold parental responsibility for."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    learners = models.ManyToManyField(
        Learner,
        related_name="parents_carers",
        verbose_name="parental responsibility for",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[learners])

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        verbose_name = "parent or carer"
        verbose_name_plural = "parents and carers"
        indexes = [models.Index(Lower("last_name"), "first_name", name="parent_name_idx")]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:parent_detail", args=[self.pk])


class VisitorType(models.TextChoices):
    PARENT_CARER = "parent_carer", "Parent or carer"
    VOLUNTEER = "volunteer", "Volunteer"
    CONTRACTOR = "contractor", "Contractor"
    MULTI_AGENCY = "multi_agency", "Multi-agency professional"
    SUPPLY = "supply", "Supply staff"
    OTHER = "other", "Other"


class Visitor(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    organisation = models.CharField(max_length=200, blank=True)
    visitor_type = models.CharField(max_length=20, choices=VisitorType.choices)
    regular_or_extended = models.BooleanField(
        "on site regularly or for extended periods",
        default=False,
        help_text="Such visitors are expected to follow the acceptable use policy (section 7).",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [models.Index(Lower("last_name"), "first_name", name="visitor_name_idx")]

    def __str__(self) -> str:
        if self.organisation:
            return f"{self.full_name} ({self.organisation})"
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:visitor_detail", args=[self.pk])


class Visit(models.Model):
    visitor = models.ForeignKey(Visitor, on_delete=models.PROTECT, related_name="visits")
    arrived = models.DateTimeField(default=timezone.now)
    left = models.DateTimeField(null=True, blank=True)
    purpose = models.CharField(max_length=300)
    host = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        related_name="hosted_visits",
        verbose_name="host staff member",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-arrived", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left__isnull=True) | Q(left__gte=models.F("arrived")),
                name="visit_left_after_arrived",
            ),
        ]
        indexes = [
            models.Index(fields=["-arrived"], name="visit_arrived_idx"),
            # who is on site now: the few visits not signed out, not every visit ever made
            models.Index(
                fields=["arrived", "id"],
                condition=Q(left__isnull=True),
                name="visit_on_site_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visitor.full_name}, {timezone.localtime(self.arrived):%d/%m/%Y %H:%M}"

    @property
    def on_site(self) -> bool:
        return self.left is None

    def clean(self) -> None:
        if self.left and self.arrived and self.left < self.arrived:
            raise ValidationError({"left": "A visitor cannot leave before they arrived."})

    def get_absolute_url(self) -> str:
        return reverse("compliance:visit_detail", args=[self.pk])


class Acknowledgement(models.Model):
    """A staff member or a regular visitor acknowledged the policy or the acceptable use policy.

    The acceptable use policy tells them that activity on school devices may be monitored
    for safeguarding reasons (section 4); a school device is issued only after it.
    """

    class Kind(models.TextChoices):
        POLICY = "policy", "Mobile and Smart Technology Policy"
        AUP = "aup", "Acceptable use policy (activity on school devices may be monitored)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledgements",
    )
    visitor = models.ForeignKey(
        Visitor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="acknowledgements",
    )
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-acknowledged_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(staff__isnull=False) & Q(visitor__isnull=True))
                | (Q(staff__isnull=True) & Q(visitor__isnull=False)),
                name="acknowledgement_has_exactly_one_person",
            ),
        ]
        indexes = [models.Index(fields=["staff", "kind", "-acknowledged_at"], name="ack_staff_idx")]

    def __str__(self) -> str:
        who = self.staff or self.visitor
        return f"{who}: {self.get_kind_display()} on {self.acknowledged_at:%d/%m/%Y}"


class LinkedPolicy(models.Model):
    """A policy this one links with (section 2); incidents name those they fall under."""

    name = models.CharField(max_length=200, unique=True)
    owner = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_review = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "linked policies"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("compliance:policy_detail") + "#linked-heading"


class ActionPlanItem(models.Model):
    """An action from a review, a debrief or a monitoring check (sections 8 and 9)."""

    class Source(models.TextChoices):
        REVIEW = "review", "Policy review"
        DEBRIEF = "debrief", "Incident debrief"
        MONITORING = "monitoring", "Monitoring check"
        FILTERING = "filtering", "Filtering and monitoring review"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        DROPPED = "dropped", "No longer needed"

    source = models.CharField(max_length=12, choices=Source.choices)
    # a reference to where it came from (e.g. "INC-2026-0012"), never a name
    source_reference = models.CharField(max_length=50, blank=True)
    description = models.TextField()
    owner = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="actions")
    due = models.DateField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, editable=False
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | Q(completed_at__isnull=False),
                name="action_closed_has_when",
            ),
        ]
        indexes = [models.Index(fields=["status", "due"], name="action_status_due_idx")]

    def __str__(self) -> str:
        return self.description[:60]

    def get_absolute_url(self) -> str:
        return reverse("compliance:actions_list")

    @property
    def overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due < timezone.localdate()


class RecordAccess(models.Model):
    """One read of a confidential record: who opened what, and when (append-only)."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        EXPORT = "export", "Exported"
        DOWNLOAD = "download", "Downloaded"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.VIEW)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    record = GenericForeignKey("content_type", "object_id")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="access_record_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.content_type.model} #{self.object_id}"


class LegalHold(models.Model):
    """A record that must not be disposed of (litigation, an inquiry, a police request)."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    record = GenericForeignKey("content_type", "object_id")
    reason = models.TextField()
    placed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-placed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lifted_at__isnull=True) & Q(lifted_by__isnull=True))
                | (Q(lifted_at__isnull=False) & Q(lifted_by__isnull=False) & ~Q(lift_reason="")),
                name="legal_hold_lift_is_complete",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(lifted_at__isnull=True),
                name="one_open_legal_hold_per_record",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold on {self.content_type.model} #{self.object_id}"


class DisposalRecord(models.Model):
    """What is left when a record is disposed of at the end of its retention period.

    It says that the item existed, under which rule it went, and who approved it;
    it holds no name and no account.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting the DSL's approval"
        REFUSED = "refused", "Refused"
        DISPOSED = "disposed", "Disposed of"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    reference = models.CharField(
        max_length=200, help_text="A description that names no one, e.g. 'Visit #123, 2017'."
    )
    rule = models.CharField(max_length=200)
    due = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="requested")
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="disposal_decision_has_who_and_when",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=~Q(status="refused"),
                name="one_live_disposal_per_record",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class PolicyReview(models.Model):
    """A review of the policy (section 8): why, what changed, the new version, the governor's
    sign-off. Recorded by the DSL or the headteacher; signed off by a governor."""

    class Trigger(models.TextChoices):
        ANNUAL = "annual", "Annual review"
        GUIDANCE = "guidance", "National or local guidance update"
        CONCERN = "concern", "A concern"
        INFRASTRUCTURE = "infrastructure", "Change to the technical infrastructure"
        DEBRIEF = "debrief", "Incident debrief"

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    changes = models.TextField("what changed")
    new_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="reviews")
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(default=timezone.now)
    next_review = models.DateField()
    governor_signed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    governor_signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-reviewed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(governor_signed_by__isnull=True) & Q(governor_signed_at__isnull=True))
                | (Q(governor_signed_by__isnull=False) & Q(governor_signed_at__isnull=False)),
                name="review_sign_off_is_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"Review of {timezone.localtime(self.reviewed_at):%d/%m/%Y} ({self.new_version})"

    def get_absolute_url(self) -> str:
        return reverse("compliance:review_detail", args=[self.pk])

    @property
    def signed_off(self) -> bool:
        return self.governor_signed_at is not None


class TrainingSession(models.Model):
    """Staff training that makes people aware of the policy (section 8)."""

    held_on = models.DateField()
    topic = models.CharField(max_length=200)
    attendees = models.ManyToManyField(StaffMember, blank=True, related_name="training_sessions")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[attendees])

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.topic} ({self.held_on:%d/%m/%Y})"

    def get_absolute_url(self) -> str:
        return reverse("compliance:training_list")


class MonitoringCheck(models.Model):
    """A check of internet use on school devices and systems (section 8)."""

    checked_on = models.DateField()
    what_checked = models.TextField("what was checked")
    findings = models.TextField()
    actions = models.TextField("actions taken or planned", blank=True)
    checked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-checked_on", "-pk"]

    def __str__(self) -> str:
        return f"Monitoring check of {self.checked_on:%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:monitoring_list")


class AnnualReportSummary(models.Model):
    """The DSL's summary of lessons learnt for one school year (1 September to 31 August)."""

    year_start = models.DateField(unique=True, help_text="1 September of the school year.")
    text = models.TextField("summary of lessons learnt")
    written_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    written_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year_start__month=9) & Q(year_start__day=1),
                name="summary_year_starts_1_september",
            ),
        ]

    def __str__(self) -> str:
        return f"Summary of lessons learnt, {self.year_start.year}-{self.year_start.year + 1}"


class RelationshipDeclaration(models.Model):
    """A staff member's pre-existing relationship with a learner or a family (section 5).

    Staff never contact learners or parents from a personal device; a relationship that could
    make that hard (they are a parent of a learner, a relative or friend of a family) is
    declared by the staff member, for themselves, and discussed with the DSL and the
    headteacher, who record the outcome and any agreed arrangement. Declarations are
    re-confirmed after each review of the policy. Never deleted: one that no longer applies
    is ended, with why.
    """

    class With(models.TextChoices):
        LEARNER = "learner", "A learner"
        PARENT = "parent", "A parent or carer"
        FAMILY = "family", "A family (learner and parents or carers)"

    class Kind(models.TextChoices):
        PARENT_OF = "parent_of", "I am their parent or carer"
        RELATIVE = "relative", "A relative"
        FRIEND = "friend", "A friend of the family"
        NEIGHBOUR = "neighbour", "A neighbour"
        OUTSIDE = "outside", "We meet outside school (club, childcare, faith group, ...)"
        OTHER = "other", "Another circumstance"

    class Status(models.TextChoices):
        DECLARED = "declared", "Awaiting discussion"
        DISCUSSED = "discussed", "Discussed, outcome recorded"
        ENDED = "ended", "No longer applies"

    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="relationship_declarations"
    )
    relationship_with = models.CharField("the relationship is with", max_length=10, choices=With)
    kind = models.CharField("the relationship", max_length=12, choices=Kind)
    who = models.CharField(
        "who",
        max_length=200,
        help_text="Their names and, for a learner, their class, so the DSL can identify them.",
    )
    nature = models.TextField(
        "the circumstances",
        help_text="How you are in touch outside school and what could make the rule hard to keep.",
    )
    declared_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(
        max_length=10, choices=Status, default=Status.DECLARED, editable=False
    )
    # linked by the DSL or headteacher at the discussion (staff do not browse the school's
    # learners to declare)
    learners = models.ManyToManyField(Learner, blank=True, related_name="+")
    parents = models.ManyToManyField(ParentCarer, blank=True, related_name="+")
    discussed_on = models.DateField(null=True, blank=True, editable=False)
    discussed_with_dsl = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="discussed with (DSL or deputy)",
    )
    discussed_with_head = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name="discussed with (headteacher)",
    )
    outcome = models.TextField(blank=True, editable=False)
    arrangements = models.TextField(
        "agreed arrangements and boundaries", blank=True, editable=False
    )
    discussion_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    confirmed_at = models.DateTimeField(
        "last confirmed by the staff member", default=timezone.now, editable=False
    )
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    end_reason = models.TextField(blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[learners, parents])

    class Meta:
        ordering = ["-declared_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="declared")
                | (
                    Q(discussed_on__isnull=False)
                    & Q(discussed_with_dsl__isnull=False)
                    & Q(discussed_with_head__isnull=False)
                    & ~Q(outcome="")
                )
                | Q(status="ended"),
                name="declaration_discussed_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended")
                | (Q(ended_at__isnull=False) & Q(ended_by__isnull=False) & ~Q(end_reason="")),
                name="declaration_ended_has_who_when_why",
            ),
        ]
        indexes = [models.Index(fields=["status", "declared_at"], name="declaration_status_idx")]

    def __str__(self) -> str:
        return f"Declaration {self.reference}"

    @property
    def reference(self) -> str:
        return f"REL-{self.pk:04d}" if self.pk else "REL-new"

    def get_absolute_url(self) -> str:
        return reverse("compliance:relationship_detail", args=[self.pk])


class ReminderSent(models.Model):
    """A daily reminder emailed to one login: sent at most once a day (send_reminders)."""

    day = models.DateField()
    recipient = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=50)
    sent_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-day", "recipient", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "recipient", "key"], name="one_reminder_a_day_per_recipient"
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.key} on {self.day:%d/%m/%Y}"


class PolicyCommunication(models.Model):
    """A version of the policy told to one audience: when and how (Ofsted asks, from April
    2026, how the phone policy is communicated). Several per audience are usual (a staff
    meeting and an email); never deleted."""

    class Audience(models.TextChoices):
        STAFF = "staff", "Staff"
        PUPILS = "pupils", "Pupils"
        PARENTS = "parents", "Parents and carers"

    class Method(models.TextChoices):
        MEETING = "meeting", "Staff meeting or training"
        EMAIL = "email", "Email"
        ASSEMBLY = "assembly", "Assembly"
        LESSON = "lesson", "Class lesson or circle time"
        NEWSLETTER = "newsletter", "Newsletter"
        LETTER = "letter", "Letter home"
        WEBSITE = "website", "School website"
        OTHER = "other", "Other"

    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, related_name="communications"
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    communicated_on = models.DateField("date told")
    method = models.CharField("how", max_length=12, choices=Method.choices)
    note = models.CharField(max_length=300, blank=True, help_text="Name no one.")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["policy_version", "audience", "communicated_on", "pk"]
        indexes = [
            models.Index(fields=["audience", "communicated_on"], name="communication_audience_idx")
        ]

    def __str__(self) -> str:
        return (
            f"{self.policy_version} told to {self.get_audience_display().lower()} "
            f"on {self.communicated_on:%d/%m/%Y}"
        )


class FilteringReview(models.Model):
    """The annual review of filtering and monitoring (DfE standards, KCSIE 2023): when, who
    took part, what was tested, what was found. Its actions are action-plan items (source
    "filtering", reference FMR-nnnn). Led by the DSL; never deleted."""

    reviewed_on = models.DateField("date of the review")
    participants = models.ManyToManyField(
        StaffMember, related_name="filtering_reviews", verbose_name="who took part"
    )
    other_participants = models.CharField(
        "others who took part",
        max_length=300,
        blank=True,
        help_text="For example the IT provider or the filtering supplier (organisations, "
        "not names).",
    )
    what_tested = models.TextField("what was tested")
    findings = models.TextField()
    next_review = models.DateField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords(m2m_fields=[participants])

    class Meta:
        ordering = ["-reviewed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_review__gt=models.F("reviewed_on")),
                name="filtering_review_next_after",
            ),
        ]

    def __str__(self) -> str:
        return f"Filtering and monitoring review {self.reference}"

    @property
    def reference(self) -> str:
        return f"FMR-{self.pk:04d}" if self.pk else "FMR-new"

    def get_absolute_url(self) -> str:
        return reverse("compliance:filtering_review_detail", args=[self.pk])


class FilterDecision(models.Model):
    """A decision to block or allow a site or a category of sites, with the reason and who
    decided. Never changed or deleted: reversing it is a new decision that says which one it
    reverses."""

    class Target(models.TextChoices):
        SITE = "site", "A site (web address)"
        CATEGORY = "category", "A category of sites"

    class Action(models.TextChoices):
        BLOCK = "block", "Block"
        ALLOW = "allow", "Allow"

    target = models.CharField("a site or a category", max_length=10, choices=Target.choices)
    what = models.CharField(
        max_length=300, help_text="The web address, or the filter's category name."
    )
    action = models.CharField("decision", max_length=5, choices=Action.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="+", verbose_name="who decided"
    )
    decided_on = models.DateField("date decided")
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        help_text="The earlier decision this one reverses.",
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="filter_decision_has_reason"),
            models.CheckConstraint(condition=~Q(what=""), name="filter_decision_says_what"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.what[:60]}"

    @property
    def reference(self) -> str:
        return f"FD-{self.pk:04d}" if self.pk else "FD-new"

    def get_absolute_url(self) -> str:
        return reverse("compliance:filter_decision_detail", args=[self.pk])


class MonitoringAlert(models.Model):
    """An alert from the monitoring system, recorded and reviewed by the DSL (or a deputy
    acting for them) with the outcome. Lists never name the person: the learner or member
    of staff is on the alert's own page, for those who review alerts, and each opening is
    logged. An incident raised from it is in the incidents app; compliance keeps only its
    reference (compliance imports nothing above it)."""

    class Kind(models.TextChoices):
        SELF_HARM = "self_harm", "Self-harm or suicide"
        VIOLENCE = "violence", "Violence or weapons"
        BULLYING = "bullying", "Bullying or abusive language"
        SEXUAL = "sexual", "Sexual or pornographic content"
        EXTREMISM = "extremism", "Extremism or radicalisation"
        GROOMING = "grooming", "Contact: grooming or exploitation"
        ILLEGAL = "illegal", "Illegal content"
        DRUGS = "drugs", "Drugs, alcohol or gambling"
        BYPASS = "bypass", "Trying to get round the filter (VPN, proxy)"
        OTHER = "other", "Other"

    class Subject(models.TextChoices):
        LEARNER = "learner", "A learner"
        STAFF = "staff", "A member of staff"
        GUEST = "guest", "A visitor or guest account"
        UNKNOWN = "unknown", "Not known (a device or shared account)"

    class Status(models.TextChoices):
        AWAITING = "awaiting", "Awaiting the DSL's review"
        REVIEWED = "reviewed", "Reviewed"

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", "No further action"
        SPOKE_TO = "spoke_to", "Spoke to the person"
        INCIDENT = "incident", "Incident raised"

    raised_at = models.DateTimeField("when the alert was raised")
    system = models.CharField(
        "system that raised it", max_length=100, help_text="The monitoring product or service."
    )
    kind = models.CharField("what kind", max_length=12, choices=Kind.choices)
    subject = models.CharField("whose activity", max_length=10, choices=Subject.choices)
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="member of staff",
    )
    device = models.CharField(
        "device or account",
        max_length=100,
        blank=True,
        help_text="The asset tag, device name or account the system reported. Never a name.",
    )
    summary = models.TextField(
        "what the system reported",
        help_text="The alert as the system gave it (search terms, site). Never a name.",
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.AWAITING, editable=False
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True, editable=False)
    review_note = models.TextField("what was done", blank=True, editable=False)
    incident_reference = models.CharField(max_length=30, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="awaiting", outcome="", reviewed_by__isnull=True)
                | (
                    Q(status="reviewed", reviewed_by__isnull=False, reviewed_at__isnull=False)
                    & ~Q(outcome="")
                ),
                name="alert_review_is_complete",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="incident") | ~Q(incident_reference=""),
                name="alert_incident_has_reference",
            ),
            models.CheckConstraint(
                condition=(Q(learner__isnull=True) | Q(subject="learner"))
                & (Q(staff__isnull=True) | Q(subject="staff")),
                name="alert_person_matches_subject",
            ),
        ]
        indexes = [models.Index(fields=["status", "-raised_at"], name="alert_status_idx")]

    def __str__(self) -> str:
        return f"Monitoring alert {self.reference}"

    @property
    def reference(self) -> str:
        return f"MA-{self.pk:04d}" if self.pk else "MA-new"

    def get_absolute_url(self) -> str:
        return reverse("compliance:alert_detail", args=[self.pk])
