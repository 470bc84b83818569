"""Devices: categories, school devices and loans, the daily hand-in register,
confiscations and custody, and exemptions with their agreements and signatures.

Reception (section 7): the visitor device agreement made at sign-in, and (section 6) the
calls staff make home for a learner, who does not use their own phone on site.

Policy sections 1, 4, 5, 6 and 7. Every model keeps its history. Status fields are
set only by the transition functions in `devices.services`.
"""

from __future__ import annotations

import datetime
import json

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from compliance.models import (
    Learner,
    ParentCarer,
    PhoneApproach,
    StaffMember,
    User,
    Visit,
    Visitor,
)
from compliance.transitions import Refused


class DeviceCategory(models.Model):
    """A kind of device the policy covers (section 1), with what it can do."""

    name = models.CharField(max_length=100, unique=True)
    can_communicate = models.BooleanField(default=False)
    can_record_images = models.BooleanField(default=False)
    can_record_sound = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "device categories"

    def __str__(self) -> str:
        return self.name

    @property
    def capabilities(self) -> list[str]:
        found = []
        if self.can_communicate:
            found.append("communicate")
        if self.can_record_images:
            found.append("record images")
        if self.can_record_sound:
            found.append("record sound")
        return found


class SchoolDevice(models.Model):
    """A school-owned phone or device (section 4)."""

    class Status(models.TextChoices):
        IN_STORE = "in_store", "In store"
        ISSUED = "issued", "Issued"
        LOST_OR_STOLEN = "lost", "Lost or stolen"
        RETIRED = "retired", "Retired"

    asset_tag = models.CharField(max_length=50, unique=True)
    category = models.ForeignKey(DeviceCategory, on_delete=models.PROTECT, related_name="+")
    make_model = models.CharField("make and model", max_length=200)
    serial_number = models.CharField(max_length=100, blank=True)
    work_phone_number = models.CharField(max_length=40, blank=True)
    passcode_set = models.BooleanField(
        "passcode, password or PIN set",
        default=False,
        help_text="Section 4: school devices are protected by a passcode, password or PIN.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.IN_STORE, editable=False
    )
    holder = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="school_devices",
    )
    notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["asset_tag"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="issued") & Q(holder__isnull=False))
                | (~Q(status="issued") & Q(holder__isnull=True)),
                name="device_issued_iff_holder",
            ),
            models.CheckConstraint(
                condition=~Q(status="issued") | Q(passcode_set=True),
                name="device_issued_only_with_passcode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_tag} ({self.make_model})"

    def get_absolute_url(self) -> str:
        return reverse("devices:device_detail", args=[self.pk])


class DeviceLoan(models.Model):
    """One issue of a school device to a staff member, and its return."""

    device = models.ForeignKey(SchoolDevice, on_delete=models.PROTECT, related_name="loans")
    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="device_loans")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_to = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(returned_at__isnull=True),
                name="one_open_loan_per_device",
            ),
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(returned_at__gte=models.F("issued_at")),
                name="loan_returned_after_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device.asset_tag} to {self.staff}"


class HandIn(models.Model):
    """One learner's personal device on one school day (section 6).

    A row exists only for a learner whose device was handed in; learners with no device
    that day have no row. Collection at home time completes it.
    """

    class CollectedBy(models.TextChoices):
        LEARNER = "learner", "The learner"
        PARENT_CARER = "parent_carer", "A parent or carer"

    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="hand_ins")
    day = models.DateField(default=timezone.localdate)
    handed_in_at = models.DateTimeField(default=timezone.now)
    switched_off = models.BooleanField(default=True)
    received_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    collected_at = models.DateTimeField(null=True, blank=True)
    collected_by = models.CharField(
        max_length=20, choices=CollectedBy.choices, blank=True, default=""
    )
    collected_by_parent = models.ForeignKey(
        ParentCarer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["day", "learner__last_name", "learner__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "day"], name="one_hand_in_per_learner_day"),
            models.CheckConstraint(
                condition=(
                    Q(collected_at__isnull=True)
                    & Q(collected_by="")
                    & Q(collected_by_parent__isnull=True)
                    & Q(released_by__isnull=True)
                )
                | (
                    Q(collected_at__isnull=False)
                    & Q(released_by__isnull=False)
                    & (
                        (Q(collected_by="learner") & Q(collected_by_parent__isnull=True))
                        | (Q(collected_by="parent_carer") & Q(collected_by_parent__isnull=False))
                    )
                ),
                name="hand_in_collection_is_complete",
            ),
        ]
        indexes = [models.Index(fields=["day", "collected_at"], name="hand_in_day_idx")]

    def __str__(self) -> str:
        return f"{self.learner} on {self.day:%d/%m/%Y}"

    @property
    def collected(self) -> bool:
        return self.collected_at is not None


class HandInException(models.Model):
    """A learner's phone out of step with the school's approach on one day (section 6, and
    the DfE's "Mobile phones in schools" guidance, January 2026).

    The register's second kind of entry, beside `HandIn`. Where phones are handed in (to the
    class teacher or the office), the register lists each device handed in and, here, a
    learner who kept a phone back or was seen using one. Where phones are kept in lockers or
    sealed pouches, not allowed on site, or kept unseen, nothing is handed in: the register
    records only these exceptions, and every other learner is taken to have followed the
    approach.

    Its own small table rather than a state on `HandIn`: an exception is not a device in
    the school's keeping. It has no receipt and no collection, and every reading of
    `HandIn` (devices uncollected, the reminders, a learner's chronology, the governors'
    report) counts devices held, which an exception must never inflate.

    `approach` keeps the school's approach on the day, so changing the setting later does
    not change what an old exception meant; the database refuses a kind of exception that
    does not belong to that approach. Created and withdrawn only by
    `devices.services.hand_in_exception_record` / `hand_in_exception_withdraw`.
    """

    class Kind(models.TextChoices):
        NOT_HANDED_IN = "not_handed_in", "Kept a phone instead of handing it in"
        NOT_LOCKED_AWAY = "not_locked_away", "Did not lock the phone away"
        POUCH_NOT_SEALED = "pouch_not_sealed", "Phone not in a sealed pouch"
        BROUGHT_IN = "brought_in", "A phone brought in (found or handed over)"
        SEEN_OR_USED = "seen_or_used", "Phone seen, heard or used in the school day"

    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, related_name="register_exceptions"
    )
    day = models.DateField(default=timezone.localdate)
    kind = models.CharField("what happened", max_length=20, choices=Kind.choices)
    approach = models.CharField(
        "the school's approach that day", max_length=20, choices=PhoneApproach.choices
    )
    details = models.CharField(
        max_length=300,
        blank=True,
        help_text="Optional: when and where, and where the phone is now. Name no other child.",
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["day", "learner__last_name", "learner__first_name", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "day", "kind"], name="one_exception_of_a_kind_per_day"
            ),
            models.CheckConstraint(
                condition=Q(
                    approach__in=[PhoneApproach.HAND_IN_TEACHER, PhoneApproach.HAND_IN_OFFICE],
                    kind__in=["not_handed_in", "seen_or_used"],
                )
                | Q(approach=PhoneApproach.LOCKER, kind__in=["not_locked_away", "seen_or_used"])
                | Q(approach=PhoneApproach.POUCH, kind__in=["pouch_not_sealed", "seen_or_used"])
                | Q(approach=PhoneApproach.NOT_ALLOWED, kind="brought_in")
                | Q(approach=PhoneApproach.KEPT_UNSEEN, kind="seen_or_used"),
                name="exception_fits_the_approach",
            ),
        ]
        indexes = [models.Index(fields=["day", "learner"], name="hand_in_exception_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.learner} on {self.day:%d/%m/%Y}"


# The exceptions the register records under each approach, in the order it offers them
# (the database's `exception_fits_the_approach` says the same).
EXCEPTION_KINDS: dict[str, tuple[str, ...]] = {
    PhoneApproach.HAND_IN_TEACHER: (
        HandInException.Kind.NOT_HANDED_IN,
        HandInException.Kind.SEEN_OR_USED,
    ),
    PhoneApproach.HAND_IN_OFFICE: (
        HandInException.Kind.NOT_HANDED_IN,
        HandInException.Kind.SEEN_OR_USED,
    ),
    PhoneApproach.LOCKER: (
        HandInException.Kind.NOT_LOCKED_AWAY,
        HandInException.Kind.SEEN_OR_USED,
    ),
    PhoneApproach.POUCH: (
        HandInException.Kind.POUCH_NOT_SEALED,
        HandInException.Kind.SEEN_OR_USED,
    ),
    PhoneApproach.NOT_ALLOWED: (HandInException.Kind.BROUGHT_IN,),
    PhoneApproach.KEPT_UNSEEN: (HandInException.Kind.SEEN_OR_USED,),
}
# Approaches under which devices are handed in and collected (HandIn rows).
HAND_IN_APPROACHES = (PhoneApproach.HAND_IN_TEACHER, PhoneApproach.HAND_IN_OFFICE)


class Confiscation(models.Model):
    """A device taken from a learner, and where it has been since (section 6)."""

    class Status(models.TextChoices):
        HELD = "held", "Held by the school"
        RETURNED = "returned", "Returned"
        WITH_POLICE = "police", "Handed to the police"

    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="confiscations")
    category = models.ForeignKey(DeviceCategory, on_delete=models.PROTECT, related_name="+")
    description = models.CharField(
        max_length=200, help_text="Make, colour, case: enough to recognise it."
    )
    taken_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="confiscations_taken"
    )
    reason = models.TextField()
    stored_where = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.HELD, editable=False
    )
    returned_at = models.DateTimeField(null=True, blank=True, editable=False)
    returned_to = models.CharField(max_length=200, blank=True, editable=False)
    police_officer = models.CharField(max_length=200, blank=True, editable=False)
    police_reference = models.CharField(max_length=100, blank=True, editable=False)
    handed_to_police_at = models.DateTimeField(null=True, blank=True, editable=False)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-taken_at", "-pk"]
        constraints = [
            # a device is never both returned and with the police
            models.CheckConstraint(
                condition=(
                    Q(status="held")
                    & Q(returned_at__isnull=True)
                    & Q(handed_to_police_at__isnull=True)
                )
                | (
                    Q(status="returned")
                    & Q(returned_at__isnull=False)
                    & ~Q(returned_to="")
                    & Q(handed_to_police_at__isnull=True)
                )
                | (
                    Q(status="police")
                    & Q(handed_to_police_at__isnull=False)
                    & ~Q(police_officer="")
                    & ~Q(police_reference="")
                    & Q(returned_at__isnull=True)
                ),
                name="confiscation_custody_is_consistent",
            ),
        ]
        indexes = [models.Index(fields=["learner", "-taken_at"], name="confiscation_learner_idx")]

    def __str__(self) -> str:
        return f"{self.category} taken {timezone.localtime(self.taken_at):%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return reverse("devices:confiscation_detail", args=[self.pk])


class CustodyEvent(models.Model):
    """One move of a confiscated device: the chain of custody."""

    class Kind(models.TextChoices):
        TAKEN = "taken", "Taken from the learner"
        MOVED = "moved", "Moved"
        RETURNED = "returned", "Returned"
        POLICE = "police", "Handed to the police"

    confiscation = models.ForeignKey(
        Confiscation, on_delete=models.PROTECT, related_name="custody_events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    details = models.CharField(max_length=300)
    history = HistoricalRecords()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {timezone.localtime(self.at):%d/%m/%Y %H:%M}"


class Exemption(models.Model):
    """An exception to the policy for one person (sections 5, 6, 7), decided by the headteacher."""

    class Kind(models.TextChoices):
        LEARNER_EXCEPTIONAL = (
            "learner_exceptional",
            "Learner: exceptional circumstances (e.g. medical monitoring)",
        )
        STAFF_TEACHING_TIME = (
            "staff_teaching_time",
            "Staff: personal device in teaching time (e.g. an emergency)",
        )
        STAFF_REMOTE_LEARNING = (
            "staff_remote_learning",
            "Staff: remote learning on a personal device",
        )
        VISITOR_WITH_LEARNERS = (
            "visitor_with_learners",
            "Visitor: device use with learners in multi-agency work",
        )

    class ReasonKind(models.TextChoices):
        """The reasons for a learner's exemption the DfE guidance names."""

        DISABILITY_ADJUSTMENT = "disability", "A reasonable adjustment for a disability"
        MEDICAL_PLAN = "medical", "A medical condition plan"
        YOUNG_CARER = "young_carer", "A young carer"
        OTHER = "other", "Other exceptional circumstances"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Awaiting the headteacher's decision"
        APPROVED = "approved", "Approved: agreement to be issued"
        REFUSED = "refused", "Refused"
        AGREEMENT_ISSUED = "issued", "Agreement issued: awaiting signatures"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    learner = models.ForeignKey(
        Learner, on_delete=models.PROTECT, null=True, blank=True, related_name="exemptions"
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, null=True, blank=True, related_name="exemptions"
    )
    visitor = models.ForeignKey(
        Visitor, on_delete=models.PROTECT, null=True, blank=True, related_name="exemptions"
    )
    category = models.ForeignKey(
        DeviceCategory,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="device",
    )
    reason_kind = models.CharField(
        "reason (DfE guidance)",
        max_length=20,
        choices=ReasonKind.choices,
        blank=True,
        default="",
        help_text="A learner's exemption only: the kind of reason the guidance names.",
    )
    reason = models.TextField(help_text="Why the exception is needed.")
    starts = models.DateField(default=timezone.localdate)
    ends = models.DateField()
    # Asked for at request time by the service and the form. Null only on rows made in bulk
    # (incidents.scale_data) and before the field existed (the migration set those to `ends`).
    review_on = models.DateField(
        "review by",
        null=True,
        blank=True,
        help_text="When the arrangement is next reviewed: within the exemption, or its last day.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED, editable=False
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_reasons = models.TextField(blank=True, editable=False)
    risk_assessment_required = models.BooleanField(default=False, editable=False)
    closed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    close_reason = models.TextField(blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(learner__isnull=False) & Q(staff__isnull=True) & Q(visitor__isnull=True)
                )
                | (Q(learner__isnull=True) & Q(staff__isnull=False) & Q(visitor__isnull=True))
                | (Q(learner__isnull=True) & Q(staff__isnull=True) & Q(visitor__isnull=False)),
                name="exemption_has_exactly_one_subject",
            ),
            models.CheckConstraint(
                condition=(Q(kind="learner_exceptional") & Q(learner__isnull=False))
                | (
                    Q(kind__in=["staff_teaching_time", "staff_remote_learning"])
                    & Q(staff__isnull=False)
                )
                | (Q(kind="visitor_with_learners") & Q(visitor__isnull=False)),
                name="exemption_kind_fits_subject",
            ),
            models.CheckConstraint(
                condition=Q(ends__gte=models.F("starts")), name="exemption_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(review_on__isnull=True)
                | (Q(review_on__gte=models.F("starts")) & Q(review_on__lte=models.F("ends"))),
                name="exemption_review_within_it",
            ),
            models.CheckConstraint(
                condition=Q(reason_kind="") | Q(kind="learner_exceptional"),
                name="exemption_reason_kind_for_learners",
            ),
            models.CheckConstraint(
                condition=Q(status="requested")
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
                name="exemption_decision_has_who_and_when",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(decision_reasons=""),
                name="exemption_refusal_has_reasons",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked") | ~Q(close_reason=""),
                name="exemption_revocation_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "ends"], name="exemption_status_idx"),
            models.Index(fields=["learner", "status"], name="exemption_learner_idx"),
            # the approvals queue's default order
            models.Index(fields=["-requested_at", "-id"], name="exemption_requested_idx"),
        ]

    def __str__(self) -> str:
        return f"Exemption #{self.pk}: {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("devices:exemption_detail", args=[self.pk])

    @property
    def subject(self):
        return self.learner or self.staff or self.visitor

    @property
    def subject_kind(self) -> str:
        if self.learner_id:
            return "learner"
        if self.staff_id:
            return "staff"
        return "visitor"

    def in_force_on(self, day: datetime.date) -> bool:
        """Use is permitted only while active and within its dates."""
        return self.status == self.Status.ACTIVE and self.starts <= day <= self.ends


class RiskAssessment(models.Model):
    """A recorded risk assessment for an exemption (remote learning; visitors when asked)."""

    exemption = models.OneToOneField(
        Exemption, on_delete=models.PROTECT, related_name="risk_assessment"
    )
    hazards = models.TextField("risks identified")
    controls = models.TextField("how each risk is controlled")
    assessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Risk assessment for exemption #{self.exemption_id}"


class Agreement(models.Model):
    """The written terms of a permitted use, and their signatures.

    One mechanism for every agreement: an exemption's, and a visitor's device agreement at
    reception. When the last required signature lands, the terms are frozen with a SHA-256
    fingerprint of their canonical content; a signed agreement's terms never change (a new
    version is issued instead).
    """

    class Status(models.TextChoices):
        AWAITING_SIGNATURES = "awaiting", "Awaiting signatures"
        SIGNED = "signed", "Signed"
        SUPERSEDED = "superseded", "Superseded by a new version"

    exemption = models.ForeignKey(
        Exemption, on_delete=models.PROTECT, null=True, blank=True, related_name="agreements"
    )
    number = models.PositiveIntegerField("version", default=1)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    permitted_use = models.TextField("what is permitted")
    where = models.CharField("where", max_length=300)
    when = models.CharField("when", max_length=300)
    expectations = models.TextField()
    sanctions = models.TextField("sanctions for misuse")
    issued_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.AWAITING_SIGNATURES,
        editable=False,
    )
    canonical_terms = models.TextField(blank=True, editable=False)
    fingerprint = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    frozen_at = models.DateTimeField(null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="awaiting") | (~Q(fingerprint="") & Q(frozen_at__isnull=False)),
                name="signed_agreement_is_frozen",
            ),
            models.UniqueConstraint(
                fields=["exemption", "number"],
                condition=Q(exemption__isnull=False),
                name="agreement_version_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement #{self.pk} (version {self.number})"

    def save(self, *args, **kwargs):
        # the terms of a frozen (signed or superseded) agreement never change: issue a new
        # version instead (devices.services.agreement_issue)
        if self.canonical_terms:
            frozen = json.loads(self.canonical_terms)["terms"]
            changed = [name for name in frozen if getattr(self, name) != frozen[name]]
            if changed:
                raise Refused(
                    "The terms of a signed agreement cannot be changed; issue a new version."
                )
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("devices:agreement_detail", args=[self.pk])


class Signature(models.Model):
    """One signature on an agreement, captured in person."""

    class Capacity(models.TextChoices):
        LEARNER = "learner", "Learner"
        PARENT_CARER = "parent_carer", "Parent or carer with parental responsibility"
        STAFF_MEMBER = "staff", "Staff member"
        VISITOR = "visitor", "Visitor"
        HEADTEACHER = "headteacher", "Headteacher"

    class Method(models.TextChoices):
        DRAWN = "drawn", "Drawn on screen"
        PAPER = "paper", "Signed on paper (scan uploaded)"

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="signatures")
    capacity = models.CharField(max_length=20, choices=Capacity.choices)
    signer_name = models.CharField(max_length=200)
    parent_carer = models.ForeignKey(
        ParentCarer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10, choices=Method.choices)
    drawn_png = models.TextField(
        blank=True, help_text="The drawn signature as base64 PNG (no data: prefix)."
    )
    paper_scan = models.FileField(upload_to="signatures/%Y/", blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "capacity"], name="one_signature_per_capacity"
            ),
            models.CheckConstraint(
                condition=(Q(method="drawn") & ~Q(drawn_png="") & Q(paper_scan=""))
                | (Q(method="paper") & Q(drawn_png="") & ~Q(paper_scan="")),
                name="signature_has_its_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(capacity="parent_carer") | Q(parent_carer__isnull=False),
                name="parent_signature_names_the_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_capacity_display()}: {self.signer_name}"


class VisitorDeviceAgreement(models.Model):
    """Section 7 at reception: the verbal briefing, and the device use agreed for one visit.

    Recorded with the sign-in. Its written terms and the visitor's signature are an
    `Agreement` like every other (one mechanism, one PDF, one fingerprint). Use that
    involves working with learners rests on a headteacher-approved visitor exemption.
    """

    class Use(models.TextChoices):
        NONE = "none", "None: the device stays away while on site"
        AGREED = "agreed", "A specific purpose agreed by a member of staff"

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="device_agreement")
    briefing_given = models.BooleanField("verbal briefing on the policy given")
    briefed_by = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="briefing given by",
    )
    use = models.CharField("device use permitted", max_length=10, choices=Use.choices)
    purpose = models.CharField("purpose agreed", max_length=300, blank=True)
    where = models.CharField(max_length=200, blank=True)
    when = models.CharField(max_length=200, blank=True)
    agreed_by = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="agreed by",
    )
    with_learners = models.BooleanField("the use involves working with learners", default=False)
    exemption = models.ForeignKey(
        Exemption,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visit_agreements",
        help_text="The headteacher's decision on the visitor's use of a device with learners.",
    )
    agreement = models.OneToOneField(
        Agreement, on_delete=models.PROTECT, related_name="visitor_record"
    )
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(briefing_given=True), name="visitor_briefing_given"),
            models.CheckConstraint(
                condition=(
                    Q(use="none")
                    & Q(purpose="")
                    & Q(agreed_by__isnull=True)
                    & Q(with_learners=False)
                )
                | (
                    Q(use="agreed")
                    & ~Q(purpose="")
                    & ~Q(where="")
                    & ~Q(when="")
                    & Q(agreed_by__isnull=False)
                ),
                name="visitor_device_use_agreed_by_staff",
            ),
            models.CheckConstraint(
                condition=Q(with_learners=False) | Q(exemption__isnull=False),
                name="visitor_use_with_learners_needs_exemption",
            ),
        ]

    def __str__(self) -> str:
        return f"Device agreement for {self.visit}"

    def get_absolute_url(self) -> str:
        return reverse("devices:reception_visit", args=[self.visit_id])


class CallHome(models.Model):
    """A call between the school and a learner's home, made for the learner (section 6).

    Learners do not use their own phones on site: staff phone home for them, and parents
    reach their child through the office.
    """

    class Direction(models.TextChoices):
        TO_HOME = "to_home", "We phoned home for the learner"
        FROM_HOME = "from_home", "Home phoned to reach the learner"

    class Outcome(models.TextChoices):
        SPOKE = "spoke", "Spoke to them"
        MESSAGE_LEFT = "message_left", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        PASSED_ON = "passed_on", "Message passed to the learner"

    learner = models.ForeignKey(Learner, on_delete=models.PROTECT, related_name="calls_home")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    called_at = models.DateTimeField("when", default=timezone.now)
    caller = models.ForeignKey(
        StaffMember,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="member of staff on the call",
    )
    contact = models.ForeignKey(
        ParentCarer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name="parent or carer",
    )
    contact_name = models.CharField(
        "someone else (name and relationship)",
        max_length=200,
        blank=True,
        help_text="Only when the person on the call is not a parent or carer on record.",
    )
    reason = models.CharField(max_length=300)
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-called_at", "-pk"]
        verbose_name = "call home"
        verbose_name_plural = "calls home"
        constraints = [
            models.CheckConstraint(
                condition=(Q(contact__isnull=False) & Q(contact_name=""))
                | (Q(contact__isnull=True) & ~Q(contact_name="")),
                name="call_home_names_whom",
            ),
        ]
        indexes = [
            models.Index(fields=["learner", "-called_at"], name="call_home_learner_idx"),
            models.Index(fields=["-called_at"], name="call_home_when_idx"),
        ]

    def __str__(self) -> str:
        return f"Call #{self.pk}, {timezone.localtime(self.called_at):%d/%m/%Y %H:%M}"

    @property
    def whom(self) -> str:
        return self.contact.full_name if self.contact_id else self.contact_name
