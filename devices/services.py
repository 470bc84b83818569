"""The transitions of devices, registers, confiscations, exemptions and agreements.

One function per step. Each checks the role and the preconditions the policy sets,
runs in a transaction with the row locked, records who and when, and is the only place
that sets a `status`. A refused step raises `Refused` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from compliance.access import has_role
from compliance.models import (
    Acknowledgement,
    FormClass,
    Learner,
    ParentCarer,
    PhoneApproach,
    School,
    StaffMember,
    User,
    Visitor,
)
from compliance.roles import Role
from compliance.transitions import Refused
from devices.models import (
    EXCEPTION_KINDS,
    HAND_IN_APPROACHES,
    Agreement,
    Confiscation,
    CustodyEvent,
    DeviceCategory,
    DeviceLoan,
    Exemption,
    HandIn,
    HandInException,
    RiskAssessment,
    SchoolDevice,
    Signature,
    VisitorDeviceAgreement,
)

SENIOR = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
MAX_SIGNATURE_PNG_BYTES = 300_000
MAX_SCAN_BYTES = 5 * 1024 * 1024


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(reason)


def _lock(instance):
    return type(instance).objects.select_for_update().get(pk=instance.pk)


# School devices (section 4) ----------------------------------------------------------


def has_acknowledged_aup(staff: StaffMember) -> bool:
    return Acknowledgement.objects.filter(staff=staff, kind=Acknowledgement.Kind.AUP).exists()


@transaction.atomic
def device_issue(*, device: SchoolDevice, staff: StaffMember, by: User) -> DeviceLoan:
    """Issue a school device to a staff member.

    Section 4: the device is protected by a passcode, and the holder has been told through
    the acceptable use policy that activity may be monitored (an acknowledgement on record).
    """
    _require(
        has_role(by, Role.OFFICE, Role.DSL, Role.HEADTEACHER),
        "Only the office, the DSL or the headteacher issues school devices.",
    )
    device = _lock(device)
    _require(
        device.status == SchoolDevice.Status.IN_STORE,
        f"{device.asset_tag} is {device.get_status_display().lower()}, not in store.",
    )
    _require(
        device.passcode_set,
        f"{device.asset_tag} has no passcode, password or PIN set: set one before issuing it "
        "(policy section 4).",
    )
    _require(staff.active, f"{staff} is not an active member of staff.")
    _require(
        has_acknowledged_aup(staff),
        f"{staff} has not acknowledged the acceptable use policy, which tells them that "
        "activity on school devices may be monitored (policy section 4).",
    )
    device.status = SchoolDevice.Status.ISSUED
    device.holder = staff
    device.version += 1
    device.save()
    return DeviceLoan.objects.create(device=device, staff=staff, issued_by=by)


def _end_open_loan(device: SchoolDevice, by: User) -> DeviceLoan | None:
    """The device's open loan (at most one: a constraint) ends now, taken back by `by`."""
    loan = (
        DeviceLoan.objects.select_for_update()
        .filter(device=device, returned_at__isnull=True)
        .first()
    )
    if loan is not None:
        loan.returned_at = timezone.now()
        loan.returned_to = by
        loan.save()
    return loan


def _add_note(device: SchoolDevice, text: str) -> None:
    """A dated line in the device's notes: what happened to it, in order."""
    stamp = timezone.localtime().strftime("%d/%m/%Y %H:%M")
    device.notes = f"{device.notes}\n[{stamp}] {text.strip()}".strip()


@transaction.atomic
def device_return(*, device: SchoolDevice, by: User) -> DeviceLoan:
    _require(
        has_role(by, Role.OFFICE, Role.DSL, Role.HEADTEACHER),
        "Only the office, the DSL or the headteacher takes school devices back.",
    )
    device = _lock(device)
    _require(device.status == SchoolDevice.Status.ISSUED, f"{device.asset_tag} is not issued.")
    loan = _end_open_loan(device, by)
    device.status = SchoolDevice.Status.IN_STORE
    device.holder = None
    device.version += 1
    device.save()
    return loan


@transaction.atomic
def device_report_lost(*, device: SchoolDevice, details: str, by: User) -> SchoolDevice:
    """Lost or stolen: any open loan ends; the report is kept in the device's notes."""
    _require(
        has_role(by, Role.OFFICE, Role.DSL, Role.HEADTEACHER),
        "Only the office, the DSL or the headteacher reports a school device lost.",
    )
    _require(bool(details.strip()), "Say what happened: when and where it was last seen.")
    device = _lock(device)
    _require(
        device.status in (SchoolDevice.Status.IN_STORE, SchoolDevice.Status.ISSUED),
        f"{device.asset_tag} is already {device.get_status_display().lower()}.",
    )
    _end_open_loan(device, by)
    _add_note(device, f"Reported lost or stolen: {details}")
    device.status = SchoolDevice.Status.LOST_OR_STOLEN
    device.holder = None
    device.version += 1
    device.save()
    return device


@transaction.atomic
def device_found(*, device: SchoolDevice, details: str, by: User) -> SchoolDevice:
    """A device reported lost or stolen is back: it returns to the store."""
    _require(
        has_role(by, Role.OFFICE, Role.DSL, Role.HEADTEACHER),
        "Only the office, the DSL or the headteacher records a device found.",
    )
    _require(bool(details.strip()), "Say where it was found.")
    device = _lock(device)
    _require(
        device.status == SchoolDevice.Status.LOST_OR_STOLEN,
        f"{device.asset_tag} is not lost or stolen.",
    )
    _add_note(device, f"Found: {details}")
    device.status = SchoolDevice.Status.IN_STORE
    device.version += 1
    device.save()
    return device


@transaction.atomic
def device_retire(*, device: SchoolDevice, reason: str, by: User) -> SchoolDevice:
    """A device leaves service (broken, replaced, never found). It stays on the register."""
    _require(
        has_role(by, Role.OFFICE, Role.DSL, Role.HEADTEACHER),
        "Only the office, the DSL or the headteacher retires a school device.",
    )
    _require(bool(reason.strip()), "Say why the device is retired.")
    device = _lock(device)
    _require(
        device.status in (SchoolDevice.Status.IN_STORE, SchoolDevice.Status.LOST_OR_STOLEN),
        "Take the device back before retiring it."
        if device.status == SchoolDevice.Status.ISSUED
        else f"{device.asset_tag} is already retired.",
    )
    _add_note(device, f"Retired: {reason}")
    device.status = SchoolDevice.Status.RETIRED
    device.version += 1
    device.save()
    return device


# The daily hand-in register (section 6) ---------------------------------------------


def _may_keep_register(by: User, form_class: FormClass) -> bool:
    if has_role(by, *SENIOR, Role.OFFICE):
        return True
    return has_role(by, Role.STAFF) and form_class.teachers.filter(user=by, active=True).exists()


def phone_approach() -> str:
    """The school's approach to pupils' phones (the school's details); the policy's own,
    hand-in to the class teacher, until the school's details are entered."""
    chosen = School.objects.order_by("pk").values_list("phone_approach", flat=True).first()
    return chosen or PhoneApproach.HAND_IN_TEACHER


def may_record_hand_ins(by: User, approach: str) -> bool:
    """Whether this approach has hand-ins at all, and whether this user takes them in: the
    class teacher (or anyone keeping the register) when phones go to the teacher; only the
    office, the DSL team and the headteacher when they go to the office."""
    if approach == PhoneApproach.HAND_IN_OFFICE:
        return has_role(by, *SENIOR, Role.OFFICE)
    return approach == PhoneApproach.HAND_IN_TEACHER


def may_collect_hand_ins(by: User, approach: str) -> bool:
    """A device already handed in always goes back at home time, whatever the approach
    now; where the office keeps phones, the office (or the DSL team, the headteacher)
    releases them."""
    if approach == PhoneApproach.HAND_IN_OFFICE:
        return has_role(by, *SENIOR, Role.OFFICE)
    return True


def _require_hand_ins(by: User, approach: str) -> None:
    label = PhoneApproach(approach).label
    _require(
        approach in HAND_IN_APPROACHES,
        f"The school's approach is “{label}”: phones are not handed in, so the register "
        "records only the day's exceptions. Record an exception instead.",
    )
    _require(
        may_record_hand_ins(by, approach),
        "Phones are handed in to the office: the office records hand-ins. Record an "
        "exception for a learner who kept a phone back or was seen using one.",
    )


def exemption_in_force(learner: Learner, day: datetime.date) -> Exemption | None:
    """The learner's active exemption covering `day`, if any: they are exempt, not missing."""
    return (
        Exemption.objects.filter(
            learner=learner, status=Exemption.Status.ACTIVE, starts__lte=day, ends__gte=day
        )
        .select_related("category")
        .order_by("ends", "pk")
        .first()
    )


def _require_register_entry(learner: Learner, day: datetime.date, by: User, future: str) -> None:
    _require(learner.form_class is not None, f"{learner} is not in a class.")
    _require(
        _may_keep_register(by, learner.form_class),
        "Only the class's teachers, the office, the DSL team or the headteacher keep this "
        "register.",
    )
    _require(day <= timezone.localdate(), future)
    _require(
        learner.joined <= day and (learner.left is None or learner.left >= day),
        f"{learner} was not on roll on {day:%d/%m/%Y}.",
    )


@transaction.atomic
def hand_in_mark(
    *, learner: Learner, day: datetime.date, by: User, switched_off: bool = True
) -> HandIn:
    """A learner hands their device in (to the teacher, or at the office) and switches it
    off. Refused when the school's approach has no hand-in (lockers, pouches, not allowed,
    kept unseen): the register records exceptions then."""
    _require_register_entry(learner, day, by, "A device cannot be handed in on a future day.")
    _require_hand_ins(by, phone_approach())
    _require(
        not HandInException.objects.filter(
            learner=learner, day=day, kind=HandInException.Kind.NOT_HANDED_IN
        ).exists(),
        f"{learner} is recorded as not handing a phone in that day: withdraw that exception first.",
    )
    existing = HandIn.objects.select_for_update().filter(learner=learner, day=day).first()
    if existing is not None:
        _require(not existing.collected, f"{learner}'s device was already collected that day.")
        if existing.switched_off != switched_off:
            existing.switched_off = switched_off
            existing.save()
        return existing
    return HandIn.objects.create(
        learner=learner, day=day, switched_off=switched_off, received_by=by
    )


@transaction.atomic
def hand_in_unmark(*, hand_in: HandIn, by: User) -> None:
    """Undo a tap made in error, before collection. The history keeps that it happened."""
    hand_in = (
        HandIn.objects.select_for_update(of=("self",))
        .select_related("learner__form_class")
        .get(pk=hand_in.pk)
    )
    _require(
        _may_keep_register(by, hand_in.learner.form_class),
        "Only the class's teachers, the office, the DSL team or the headteacher keep this "
        "register.",
    )
    _require(not hand_in.collected, "The device has been collected: that cannot be undone.")
    _require(
        may_collect_hand_ins(by, phone_approach()),
        "Phones are kept at the office: the office corrects its own register.",
    )
    hand_in.delete()


@transaction.atomic
def hand_in_mark_class(
    *, form_class: FormClass, day: datetime.date, by: User, learners: Iterable[Learner]
) -> list[HandIn]:
    """Mark the devices of these learners of one class handed in and switched off.

    A constant number of queries however large the class: one read of the day's rows, one
    insert of the new rows and one of their history.
    """
    _require(
        _may_keep_register(by, form_class),
        "Only the class's teachers, the office, the DSL team or the headteacher keep this "
        "register.",
    )
    _require(day <= timezone.localdate(), "A device cannot be handed in on a future day.")
    _require_hand_ins(by, phone_approach())
    learners = list(learners)
    _require(
        all(learner.form_class_id == form_class.pk for learner in learners),
        "Every learner marked must be in this class.",
    )
    _require(
        all(lr.joined <= day and (lr.left is None or lr.left >= day) for lr in learners),
        "Every learner marked must be on roll that day.",
    )
    already = set(
        HandIn.objects.filter(day=day, learner__in=learners)
        .order_by()
        .values_list("learner_id", flat=True)
    )
    now = timezone.now()
    new = [
        HandIn(learner=learner, day=day, handed_in_at=now, switched_off=True, received_by=by)
        for learner in learners
        if learner.pk not in already
    ]
    if new:
        bulk_create_with_history(new, HandIn, default_user=by, default_date=now)
    return new


@transaction.atomic
def hand_in_collect(
    *,
    hand_in: HandIn,
    collected_by: str,
    by: User,
    parent: ParentCarer | None = None,
) -> HandIn:
    """At home time the device goes back: to the learner, or to a named parent or carer."""
    hand_in = (
        HandIn.objects.select_for_update(of=("self",))
        .select_related("learner__form_class")
        .get(pk=hand_in.pk)
    )
    _require(
        _may_keep_register(by, hand_in.learner.form_class),
        "Only the class's teachers, the office, the DSL team or the headteacher keep this "
        "register.",
    )
    _require(not hand_in.collected, "That device has already been collected.")
    _require(
        may_collect_hand_ins(by, phone_approach()),
        "Phones are kept at the office: the office releases them at home time.",
    )
    if collected_by == HandIn.CollectedBy.PARENT_CARER:
        _require(parent is not None, "Say which parent or carer collected the device.")
        _require(
            parent.learners.filter(pk=hand_in.learner_id).exists(),
            f"{parent} does not hold parental responsibility for this learner.",
        )
    else:
        _require(collected_by == HandIn.CollectedBy.LEARNER, "Say who collected the device.")
        parent = None
    hand_in.collected_at = timezone.now()
    hand_in.collected_by = collected_by
    hand_in.collected_by_parent = parent
    hand_in.released_by = by
    hand_in.save()
    return hand_in


# Exceptions: what the register records when phones are not handed in, and beside hand-ins


@transaction.atomic
def hand_in_exception_record(
    *, learner: Learner, day: datetime.date, kind: str, by: User, details: str = ""
) -> HandInException:
    """A learner's phone out of step with the school's approach that day.

    The kinds are those of the school's approach (`EXCEPTION_KINDS`). A learner with an
    exemption in force keeps their device by agreement: that is not an exception (misuse
    beyond the agreement is a concern to report). The same exception twice on one day is
    one record."""
    _require_register_entry(learner, day, by, "An exception cannot be recorded for a future day.")
    approach = phone_approach()
    allowed = EXCEPTION_KINDS[approach]
    _require(
        kind in allowed,
        f"The school's approach is “{PhoneApproach(approach).label}”: an exception is "
        + " or ".join(f"“{HandInException.Kind(k).label.lower()}”" for k in allowed)
        + ".",
    )
    exemption = exemption_in_force(learner, day)
    if exemption is not None:
        raise Refused(
            f"{learner} is exempt that day (exemption #{exemption.pk}, "
            f"{exemption.category.name.lower()}): keeping the device as agreed is not an "
            "exception. Report a concern if it was misused."
        )
    if kind == HandInException.Kind.NOT_HANDED_IN:
        _require(
            not HandIn.objects.filter(learner=learner, day=day).exists(),
            f"{learner}'s device is recorded as handed in that day: undo that first.",
        )
    existing = (
        HandInException.objects.select_for_update()
        .filter(learner=learner, day=day, kind=kind)
        .first()
    )
    if existing is not None:
        return existing
    return HandInException.objects.create(
        learner=learner,
        day=day,
        kind=kind,
        approach=approach,
        details=details.strip()[:300],
        recorded_by=by,
    )


@transaction.atomic
def hand_in_exception_withdraw(*, exception: HandInException, by: User) -> None:
    """An exception recorded in error. The history keeps that it was recorded."""
    exception = (
        HandInException.objects.select_for_update(of=("self",))
        .select_related("learner__form_class")
        .get(pk=exception.pk)
    )
    _require(
        exception.learner.form_class is not None
        and _may_keep_register(by, exception.learner.form_class),
        "Only the class's teachers, the office, the DSL team or the headteacher keep this "
        "register.",
    )
    exception.delete()


# Confiscation and custody (section 6) -------------------------------------------------


@transaction.atomic
def confiscation_record(
    *,
    learner: Learner,
    category: DeviceCategory,
    description: str,
    reason: str,
    stored_where: str,
    taken_by: StaffMember,
    by: User,
    taken_at: datetime.datetime | None = None,
) -> Confiscation:
    _require(
        has_role(by, *SENIOR, Role.OFFICE, Role.STAFF),
        "Your role does not record confiscations.",
    )
    if not has_role(by, *SENIOR, Role.OFFICE):
        _require(
            learner.form_class is not None
            and learner.form_class.teachers.filter(user=by, active=True).exists(),
            "Staff record confiscations for learners in their own classes.",
        )
    _require(taken_by.active, f"{taken_by} is not an active member of staff.")
    _require(bool(reason.strip()), "Say why the device was taken.")
    _require(bool(stored_where.strip()), "Say where the device is kept.")
    taken_at = taken_at or timezone.now()
    _require(taken_at <= timezone.now(), "A device cannot be taken in the future.")
    confiscation = Confiscation.objects.create(
        learner=learner,
        category=category,
        description=description,
        reason=reason,
        stored_where=stored_where,
        taken_by=taken_by,
        taken_at=taken_at,
        recorded_by=by,
    )
    CustodyEvent.objects.create(
        confiscation=confiscation,
        kind=CustodyEvent.Kind.TAKEN,
        at=taken_at,
        by=by,
        details=f"Taken by {taken_by}; kept in {stored_where}",
    )
    return confiscation


def _require_custodian(by: User) -> None:
    _require(
        has_role(by, *SENIOR, Role.OFFICE),
        "Custody is recorded by the office, the DSL team or the headteacher.",
    )


@transaction.atomic
def confiscation_move(*, confiscation: Confiscation, stored_where: str, by: User) -> Confiscation:
    _require_custodian(by)
    _require(bool(stored_where.strip()), "Say where the device is kept now.")
    confiscation = _lock(confiscation)
    _require(
        confiscation.status == Confiscation.Status.HELD,
        f"The device is {confiscation.get_status_display().lower()}: it cannot be moved.",
    )
    confiscation.stored_where = stored_where
    confiscation.version += 1
    confiscation.save()
    CustodyEvent.objects.create(
        confiscation=confiscation,
        kind=CustodyEvent.Kind.MOVED,
        by=by,
        details=f"Now kept in {stored_where}",
    )
    return confiscation


@transaction.atomic
def confiscation_return(*, confiscation: Confiscation, returned_to: str, by: User) -> Confiscation:
    _require_custodian(by)
    _require(bool(returned_to.strip()), "Say to whom the device was returned.")
    confiscation = _lock(confiscation)
    _require(
        confiscation.status == Confiscation.Status.HELD,
        "The device is with the police: it cannot be returned by the school."
        if confiscation.status == Confiscation.Status.WITH_POLICE
        else "The device has already been returned.",
    )
    confiscation.status = Confiscation.Status.RETURNED
    confiscation.returned_at = timezone.now()
    confiscation.returned_to = returned_to
    confiscation.version += 1
    confiscation.save()
    CustodyEvent.objects.create(
        confiscation=confiscation,
        kind=CustodyEvent.Kind.RETURNED,
        by=by,
        details=f"Returned to {returned_to}",
    )
    return confiscation


@transaction.atomic
def confiscation_hand_to_police(
    *,
    confiscation: Confiscation,
    officer: str,
    reference: str,
    by: User,
    at: datetime.datetime | None = None,
) -> Confiscation:
    """Suspected illegal material: the device goes to the police (section 6), with a receipt."""
    _require(
        has_role(by, *SENIOR),
        "Handing a device to the police is done by the DSL team or the headteacher.",
    )
    _require(bool(officer.strip()), "Name the police officer who took the device.")
    _require(bool(reference.strip()), "Give the police reference number.")
    confiscation = _lock(confiscation)
    _require(
        confiscation.status == Confiscation.Status.HELD,
        "The device has been returned: it is no longer the school's to hand over."
        if confiscation.status == Confiscation.Status.RETURNED
        else "The device is already with the police.",
    )
    at = at or timezone.now()
    _require(at <= timezone.now(), "The hand-over cannot be in the future.")
    confiscation.status = Confiscation.Status.WITH_POLICE
    confiscation.police_officer = officer
    confiscation.police_reference = reference
    confiscation.handed_to_police_at = at
    confiscation.version += 1
    confiscation.save()
    CustodyEvent.objects.create(
        confiscation=confiscation,
        kind=CustodyEvent.Kind.POLICE,
        at=at,
        by=by,
        details=f"Handed to {officer}, reference {reference}",
    )
    return confiscation


# Exemptions (sections 5, 6, 7) ------------------------------------------------------

_SUBJECT_FIELD = {
    Exemption.Kind.LEARNER_EXCEPTIONAL: ("learner", Learner),
    Exemption.Kind.STAFF_TEACHING_TIME: ("staff", StaffMember),
    Exemption.Kind.STAFF_REMOTE_LEARNING: ("staff", StaffMember),
    Exemption.Kind.VISITOR_WITH_LEARNERS: ("visitor", Visitor),
}


@transaction.atomic
def exemption_request(
    *,
    kind: str,
    subject: Learner | StaffMember | Visitor,
    category: DeviceCategory,
    reason: str,
    starts: datetime.date,
    ends: datetime.date,
    by: User,
    reason_kind: str = "",
    review_on: datetime.date | None = None,
) -> Exemption:
    """Ask the headteacher for an exemption.

    A learner's names the kind of reason the DfE guidance gives (a reasonable adjustment
    for a disability, a medical condition plan, a young carer, other) and when it is next
    reviewed. Staff and visitors' exemptions have no reason kind; their review, when not
    given, is their last day."""
    from devices.access import learners_for_requests, may_request_exemption, staff_member_of

    _require(kind in _SUBJECT_FIELD, "Choose the kind of exemption.")
    field, model = _SUBJECT_FIELD[kind]
    _require(
        isinstance(subject, model),
        f"This kind of exemption is for a {model._meta.verbose_name}.",
    )
    _require(may_request_exemption(by, kind), "Your role may not ask for this kind of exemption.")
    if field == "learner":
        _require(
            learners_for_requests(by).filter(pk=subject.pk).exists(),
            "You may ask only for learners on the roll of the classes you teach.",
        )
    if field == "staff":
        _require(subject.active, f"{subject} is not an active member of staff.")
        if not has_role(by, *SENIOR, Role.OFFICE):
            _require(
                staff_member_of(by) == subject,
                "Members of staff ask for permission for themselves.",
            )
    _require(bool(reason.strip()), "Say why the exception is needed.")
    _require(ends >= starts, "The exemption must end on or after the day it starts.")
    _require(ends >= timezone.localdate(), "The exemption would already have ended.")
    _require(
        (ends - starts).days <= 366,
        "An exemption lasts at most a year; ask again at its review.",
    )
    if field == "learner":
        _require(
            reason_kind in Exemption.ReasonKind.values,
            "Choose the reason: a reasonable adjustment for a disability, a medical condition "
            "plan, a young carer, or other.",
        )
        _require(review_on is not None, "Give the date the arrangement will be reviewed.")
    else:
        _require(not reason_kind, "Reason kinds are for learners' exemptions only.")
        review_on = review_on or ends
    _require(
        starts <= review_on <= ends,
        "The review date must fall within the exemption, or be its last day.",
    )
    return Exemption.objects.create(
        kind=kind,
        category=category,
        reason_kind=reason_kind,
        reason=reason,
        starts=starts,
        ends=ends,
        review_on=review_on,
        requested_by=by,
        **{field: subject},
    )


def _require_headteacher(by: User, what: str) -> None:
    _require(has_role(by, Role.HEADTEACHER), f"Only the headteacher {what} (policy sections 5-7).")


@transaction.atomic
def exemption_ask_for_risk_assessment(*, exemption: Exemption, by: User) -> Exemption:
    """The headteacher asks for a risk assessment before deciding (visitors, section 7)."""
    _require_headteacher(by, "asks for a risk assessment")
    exemption = _lock(exemption)
    _require(
        exemption.status == Exemption.Status.REQUESTED,
        "A risk assessment can be asked for only before the decision.",
    )
    exemption.risk_assessment_required = True
    exemption.version += 1
    exemption.save()
    return exemption


def risk_assessment_needed(exemption: Exemption) -> bool:
    """Remote learning on a personal device always needs one (section 5); others when asked."""
    return (
        exemption.kind == Exemption.Kind.STAFF_REMOTE_LEARNING or exemption.risk_assessment_required
    )


@transaction.atomic
def risk_assessment_record(
    *, exemption: Exemption, hazards: str, controls: str, by: User
) -> RiskAssessment:
    _require(
        has_role(by, *SENIOR), "Risk assessments are recorded by the DSL team or the headteacher."
    )
    _require(bool(hazards.strip()), "List the risks identified.")
    _require(bool(controls.strip()), "Say how each risk is controlled.")
    exemption = _lock(exemption)
    _require(
        exemption.status == Exemption.Status.REQUESTED,
        "The risk assessment comes before the headteacher's decision.",
    )
    _require(
        not RiskAssessment.objects.filter(exemption=exemption).exists(),
        "A risk assessment is already recorded for this exemption.",
    )
    return RiskAssessment.objects.create(
        exemption=exemption, hazards=hazards, controls=controls, assessed_by=by
    )


@transaction.atomic
def exemption_decide(*, exemption: Exemption, approve: bool, reasons: str, by: User) -> Exemption:
    """The headteacher approves or refuses, with reasons (a refusal always has them)."""
    _require_headteacher(by, "approves or refuses exemptions")
    exemption = _lock(exemption)
    _require(
        not (exemption.staff_id and exemption.staff.user_id == by.pk),
        "An exemption for yourself is decided by another headteacher, never by you.",
    )
    _require(
        exemption.status == Exemption.Status.REQUESTED,
        f"This exemption is {exemption.get_status_display().lower()}: it was already decided.",
    )
    if approve:
        _require(
            not risk_assessment_needed(exemption)
            or RiskAssessment.objects.filter(exemption=exemption).exists(),
            "A risk assessment must be recorded before this exemption can be approved "
            "(policy section 5: remote learning on a personal device; or the headteacher "
            "asked for one).",
        )
    else:
        _require(bool(reasons.strip()), "Give the reasons for refusing.")
    exemption.status = Exemption.Status.APPROVED if approve else Exemption.Status.REFUSED
    exemption.decided_by = by
    exemption.decided_at = timezone.now()
    exemption.decision_reasons = reasons
    exemption.version += 1
    exemption.save()
    return exemption


@transaction.atomic
def exemption_revoke(*, exemption: Exemption, reason: str, by: User) -> Exemption:
    _require_headteacher(by, "revokes exemptions")
    _require(bool(reason.strip()), "Give the reason for revoking.")
    exemption = _lock(exemption)
    _require(
        exemption.status
        in (Exemption.Status.APPROVED, Exemption.Status.AGREEMENT_ISSUED, Exemption.Status.ACTIVE),
        f"This exemption is {exemption.get_status_display().lower()}: there is nothing to revoke.",
    )
    exemption.status = Exemption.Status.REVOKED
    exemption.closed_by = by
    exemption.closed_at = timezone.now()
    exemption.close_reason = reason
    exemption.version += 1
    exemption.save()
    return exemption


def exemptions_expire(*, today: datetime.date) -> int:
    """Active exemptions past their end date become expired (run daily)."""
    count = 0
    for exemption in Exemption.objects.filter(status=Exemption.Status.ACTIVE, ends__lt=today):
        with transaction.atomic():
            locked = _lock(exemption)
            if locked.status != Exemption.Status.ACTIVE or locked.ends >= today:
                continue
            locked.status = Exemption.Status.EXPIRED
            locked.closed_at = timezone.now()
            locked.close_reason = f"Ended on {locked.ends:%d/%m/%Y}."
            locked.version += 1
            locked.save()
            count += 1
    return count


# Agreements and signatures ------------------------------------------------------------

TERMS_FIELDS = ("permitted_use", "where", "when", "expectations", "sanctions")


def visitor_record_of(agreement: Agreement) -> VisitorDeviceAgreement | None:
    """The reception record an agreement belongs to, if it is a visitor's at sign-in."""
    if agreement.exemption_id is not None or agreement.pk is None:
        return None
    cached = getattr(agreement, "_visitor_record", False)
    if cached is False:
        cached = (
            VisitorDeviceAgreement.objects.select_related(
                "visit", "visit__visitor", "visit__host", "briefed_by", "agreed_by", "exemption"
            )
            .filter(agreement=agreement)
            .first()
        )
        agreement._visitor_record = cached
    return cached


def required_capacities(agreement: Agreement) -> list[str]:
    """Who must sign: for a learner, the learner and a parent or carer with parental
    responsibility; for staff or a visitor, themselves; the headteacher signs every
    exemption's agreement. A visitor's device agreement at reception (no exemption) is
    signed by the visitor, and by the member of staff who agreed the use when one is
    permitted."""
    cap = Signature.Capacity
    exemption = agreement.exemption
    if exemption is None:
        record = visitor_record_of(agreement)
        if record is not None and record.use == VisitorDeviceAgreement.Use.NONE:
            return [cap.VISITOR]
        return [cap.VISITOR, cap.STAFF_MEMBER]
    if exemption.learner_id:
        return [cap.LEARNER, cap.PARENT_CARER, cap.HEADTEACHER]
    if exemption.staff_id:
        return [cap.STAFF_MEMBER, cap.HEADTEACHER]
    return [cap.VISITOR, cap.HEADTEACHER]


@transaction.atomic
def agreement_issue(
    *,
    exemption: Exemption,
    permitted_use: str,
    where: str,
    when: str,
    expectations: str,
    sanctions: str,
    by: User,
) -> Agreement:
    """The headteacher puts the terms in writing (what, where, when, expectations, sanctions).

    A first agreement follows approval. A later one is a new version that supersedes the
    last: the terms of a signed agreement are never edited, and use stops until the new
    version is signed.
    """
    _require_headteacher(by, "issues agreements")
    terms = {
        "permitted_use": permitted_use,
        "where": where,
        "when": when,
        "expectations": expectations,
        "sanctions": sanctions,
    }
    missing = [name.replace("_", " ") for name, value in terms.items() if not value.strip()]
    _require(not missing, f"The agreement must say: {', '.join(missing)}.")
    exemption = _lock(exemption)
    _require(
        exemption.status
        in (Exemption.Status.APPROVED, Exemption.Status.AGREEMENT_ISSUED, Exemption.Status.ACTIVE),
        "An agreement is issued only for an approved exemption "
        f"(this one is {exemption.get_status_display().lower()}).",
    )
    previous = (
        Agreement.objects.select_for_update()
        .filter(exemption=exemption)
        .exclude(status=Agreement.Status.SUPERSEDED)
        .first()
    )
    if previous is not None:
        previous.status = Agreement.Status.SUPERSEDED
        if not previous.fingerprint:
            # never signed: freeze what it said, so the record of it stays checkable
            _freeze(previous)
        previous.save()
    agreement = Agreement.objects.create(
        exemption=exemption,
        number=(previous.number + 1) if previous else 1,
        supersedes=previous,
        issued_by=by,
        **terms,
    )
    exemption.status = Exemption.Status.AGREEMENT_ISSUED
    exemption.version += 1
    exemption.save()
    return agreement


def _signature_evidence_digest(signature: Signature) -> str:
    if signature.method == Signature.Method.DRAWN:
        return hashlib.sha256(signature.drawn_png.encode()).hexdigest()
    signature.paper_scan.open("rb")
    try:
        return hashlib.sha256(signature.paper_scan.read()).hexdigest()
    finally:
        signature.paper_scan.close()


def canonical_content(agreement: Agreement) -> str:
    """The agreement as canonical JSON: sorted keys, no spaces, UTF-8, times in UTC."""
    exemption = agreement.exemption
    subject = None
    if exemption is not None:
        person = exemption.subject
        subject = {
            "kind": exemption.subject_kind,
            "id": person.pk,
            "name": person.full_name,
            "exemption": exemption.pk,
            "exemption_kind": exemption.kind,
            "device": exemption.category.name,
            "starts": exemption.starts.isoformat(),
            "ends": exemption.ends.isoformat(),
        }
    record = visitor_record_of(agreement)
    if record is not None:
        visitor = record.visit.visitor
        subject = {
            "kind": "visitor",
            "id": visitor.pk,
            "name": visitor.full_name,
            "organisation": visitor.organisation,
            "visit": record.visit_id,
            "arrived": record.visit.arrived.astimezone(datetime.UTC).isoformat(),
            "briefed_by": record.briefed_by.full_name,
            "use": record.use,
            "agreed_by": record.agreed_by.full_name if record.agreed_by_id else None,
            "with_learners": record.with_learners,
            "exemption": record.exemption_id,
        }
    content = {
        "agreement": agreement.pk,
        "version": agreement.number,
        "issued_at": agreement.issued_at.astimezone(datetime.UTC).isoformat(),
        "subject": subject,
        "terms": {name: getattr(agreement, name) for name in TERMS_FIELDS},
        "signatures": [
            {
                "capacity": signature.capacity,
                "name": signature.signer_name,
                "signed_at": signature.signed_at.astimezone(datetime.UTC).isoformat(),
                "method": signature.method,
                "evidence_sha256": _signature_evidence_digest(signature),
            }
            for signature in agreement.signatures.order_by("capacity")
        ],
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def fingerprint_of(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _freeze(agreement: Agreement) -> None:
    agreement.canonical_terms = canonical_content(agreement)
    agreement.fingerprint = fingerprint_of(agreement.canonical_terms)
    agreement.frozen_at = timezone.now()


def _clean_png(drawn_png: str) -> str:
    data = drawn_png.strip()
    if data.startswith("data:"):
        _require(data.startswith("data:image/png;base64,"), "The drawn signature is not a PNG.")
        data = data.split(",", 1)[1]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("The drawn signature could not be read: draw it again.") from None
    _require(raw.startswith(b"\x89PNG\r\n\x1a\n"), "The drawn signature is not a PNG image.")
    _require(len(raw) <= MAX_SIGNATURE_PNG_BYTES, "The drawn signature is too large.")
    _require(len(raw) > 100, "The signature box is empty: sign in the box.")
    return base64.b64encode(raw).decode()


def _check_scan(scan: UploadedFile) -> None:
    _require(scan.size <= MAX_SCAN_BYTES, "The scan is larger than 5 MB.")
    head = scan.read(5)
    scan.seek(0)
    _require(head == b"%PDF-", "The scan must be a PDF file.")


@transaction.atomic
def signature_record(
    *,
    agreement: Agreement,
    capacity: str,
    signer_name: str,
    method: str,
    by: User,
    drawn_png: str = "",
    paper_scan: UploadedFile | None = None,
    parent: ParentCarer | None = None,
    signed_at: datetime.datetime | None = None,
) -> Signature:
    """Record one signature captured in person. The last one freezes the agreement.

    `signed_at` is when a paper copy was signed, if it is recorded later; by default, now.
    """
    from devices.access import may_record_signatures

    _require(may_record_signatures(by), "Your role does not record signatures.")
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("exemption")
        .get(pk=agreement.pk)
    )
    _require(
        agreement.status == Agreement.Status.AWAITING_SIGNATURES,
        f"This agreement is {agreement.get_status_display().lower()}: it takes no more signatures.",
    )
    required = required_capacities(agreement)
    _require(capacity in required, "This agreement does not need a signature in that capacity.")
    record = visitor_record_of(agreement)
    if record is not None:
        from devices.reception import signing_blocker

        blocker = signing_blocker(record)
        _require(not blocker, blocker)
    _require(
        not agreement.signatures.filter(capacity=capacity).exists(),
        "That signature has already been recorded.",
    )
    _require(bool(signer_name.strip()), "Give the signer's name.")
    signed_at = signed_at or timezone.now()
    _require(
        signed_at <= timezone.now() + datetime.timedelta(minutes=5),
        "A signature cannot be dated in the future.",
    )
    _require(signed_at >= agreement.issued_at, "A signature cannot come before the agreement.")
    exemption = agreement.exemption
    if capacity == Signature.Capacity.HEADTEACHER:
        _require(
            has_role(by, Role.HEADTEACHER),
            "The headteacher signs for the school: log in as the headteacher to sign.",
        )
    if capacity == Signature.Capacity.PARENT_CARER:
        _require(parent is not None, "Choose the parent or carer who is signing.")
        _require(
            exemption is not None
            and exemption.learner_id is not None
            and parent.learners.filter(pk=exemption.learner_id).exists(),
            f"{parent} does not hold parental responsibility for this learner.",
        )
    else:
        parent = None
    if method == Signature.Method.DRAWN:
        drawn_png = _clean_png(drawn_png)
        paper_scan = None
    else:
        _require(method == Signature.Method.PAPER, "Choose how the agreement was signed.")
        _require(paper_scan is not None, "Upload the scan of the signed paper agreement (PDF).")
        _check_scan(paper_scan)
        drawn_png = ""
    signature = Signature(
        agreement=agreement,
        capacity=capacity,
        signer_name=signer_name.strip(),
        parent_carer=parent,
        method=method,
        drawn_png=drawn_png,
        recorded_by=by,
        signed_at=signed_at,
    )
    if paper_scan is not None:
        # the stored name is the server's, never the uploaded file's
        stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
        signature.paper_scan.save(f"agreement-{agreement.pk}-{stamp}.pdf", paper_scan, save=False)
    signature.save()

    signed = set(agreement.signatures.values_list("capacity", flat=True))
    if signed >= set(required):
        _freeze(agreement)
        agreement.status = Agreement.Status.SIGNED
        agreement.save()
        if exemption is not None:
            exemption = _lock(exemption)
            if exemption.status == Exemption.Status.AGREEMENT_ISSUED:
                exemption.status = Exemption.Status.ACTIVE
                exemption.version += 1
                exemption.save()
    return signature


def agreement_verify(fingerprint: str) -> tuple[Agreement | None, bool]:
    """Find the agreement with this fingerprint and check that nothing has changed since.

    Returns the agreement (or None) and whether its stored content and its records still
    give this fingerprint.
    """
    value = (fingerprint or "").strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        return None, False
    agreement = Agreement.objects.filter(fingerprint=value).first()
    if agreement is None:
        return None, False
    try:
        current = canonical_content(agreement)
    except OSError:  # a paper scan has gone from storage: the record is not intact
        return agreement, False
    intact = (
        fingerprint_of(agreement.canonical_terms) == value and current == agreement.canonical_terms
    )
    return agreement, intact
