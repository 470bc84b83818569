"""The transitions of an incident, and the records that go with it.

One function per step; each checks role and preconditions, runs in a transaction with the
incident locked, records who and when, and is the only place that sets `status`. A refused
step raises `Refused` with the reason. The guards on closing are the policy's and the
guidance's: see `close_blockers`.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.access import has_role
from compliance.models import (
    ActionPlanItem,
    Learner,
    LinkedPolicy,
    ParentCarer,
    StaffMember,
    User,
    Visitor,
)
from compliance.roles import Role
from compliance.transitions import Refused
from devices.models import Confiscation
from incidents import notifications
from incidents.models import (
    NO_FILES_CATEGORIES,
    Attachment,
    Category,
    Debrief,
    Incident,
    Involvement,
    Location,
    Note,
    ParentContact,
    Referral,
    Search,
)

LEADS = (Role.DSL, Role.DEPUTY_DSL)
SEARCH_LEADS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
REPORTERS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.OFFICE, Role.STAFF)
CHILD_PROTECTION_POLICY = "Child protection policy"
CODE_OF_CONDUCT_POLICY = "Code of conduct policy"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_ATTACHMENT_TYPES = {
    b"%PDF-": "pdf",
    b"\x89PNG": "png",
    b"\xff\xd8\xff": "jpg",
}


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(reason)


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().get(pk=incident.pk)


def involves_staff(incident: Incident) -> bool:
    """Matters involving staff go to the headteacher too (section 5; the LADO route)."""
    return (
        incident.staff_allegation
        or incident.category == Category.STAFF_PERSONAL_CONTACT
        or incident.people.filter(staff__isnull=False).exists()
    )


def involves_visitor(incident: Incident) -> bool:
    """A visitor's breach goes to the DSL or the headteacher (section 7)."""
    return (
        incident.category == Category.VISITOR_MISUSE
        or incident.people.filter(visitor__isnull=False).exists()
    )


def for_headteacher(incident: Incident) -> bool:
    """The headteacher is told of, and may handle, matters involving staff or visitors."""
    return involves_staff(incident) or involves_visitor(incident)


def may_handle(user: User, incident: Incident) -> bool:
    """The DSL and deputies handle every incident; the headteacher those involving staff or
    visitors."""
    if has_role(user, *LEADS):
        return True
    return has_role(user, Role.HEADTEACHER) and for_headteacher(incident)


def _require_handler(user: User, incident: Incident) -> None:
    _require(
        may_handle(user, incident),
        "Only the DSL or a deputy (or the headteacher, for a matter involving staff or a "
        "visitor) does this.",
    )


def _new_reference(today: datetime.date) -> str:
    return f"INC-{today.year}-{secrets.token_hex(3).upper()}"


@dataclass(frozen=True)
class Person:
    """Someone involved, as the reporter gives them."""

    part: str
    learner: Learner | None = None
    staff: StaffMember | None = None
    visitor: Visitor | None = None


# Reporting -------------------------------------------------------------------------------


def incident_report(
    *,
    occurred_at: datetime.datetime,
    location: Location,
    category: str,
    account: str,
    people: Iterable[Person],
    policies: Iterable[LinkedPolicy] = (),
    by: User,
) -> Incident:
    """Any member of staff reports a concern or breach (section 9). The DSL and deputies
    are told at once, and the headteacher for a matter involving staff."""
    _require(has_role(by, *REPORTERS), "Your role does not report incidents here: tell the DSL.")
    _require(category in Category.values, "Choose a category.")
    _require(bool(account.strip()), "Say what happened, in your own words.")
    _require(
        occurred_at <= timezone.now() + datetime.timedelta(minutes=5),
        "The incident cannot have happened in the future.",
    )
    people = list(people)
    for person in people:
        _require(
            person.part in Involvement.Part.values,
            "Say whether each person is subject, affected or witness.",
        )
        _require(
            sum(p is not None for p in (person.learner, person.staff, person.visitor)) == 1,
            "Each person involved is one learner, member of staff or visitor.",
        )
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    incident = Incident.objects.create(
                        reference=_new_reference(timezone.localdate()),
                        occurred_at=occurred_at,
                        location=location,
                        category=category,
                        account=account,
                        reported_by=by,
                    )
                break
            except IntegrityError:
                continue
        else:  # pragma: no cover - five random clashes in a row
            raise Refused("Could not give the report a reference; please try again.")
        if policies:
            incident.policies.set(policies)
        for person in people:
            Involvement.objects.create(
                incident=incident,
                part=person.part,
                learner=person.learner,
                staff=person.staff,
                visitor=person.visitor,
                added_by=by,
            )
        transaction.on_commit(lambda: notifications.new_report(incident))
    return incident


@transaction.atomic
def incident_amend_account(*, incident: Incident, account: str, by: User) -> Incident:
    """The reporter may correct their own words only until the DSL has triaged them."""
    incident = _lock(incident)
    _require(incident.reported_by_id == by.pk, "Only the person who reported it may correct it.")
    _require(
        incident.status == Incident.Status.REPORTED,
        "The report has been triaged: what you wrote is not edited now. Add a note instead.",
    )
    _require(bool(account.strip()), "Say what happened, in your own words.")
    incident.account = account
    incident.version += 1
    incident.save()
    return incident


@transaction.atomic
def person_add(*, incident: Incident, person: Person, by: User) -> Involvement:
    incident = _lock(incident)
    _require(
        may_handle(by, incident)
        or (incident.reported_by_id == by.pk and incident.status == Incident.Status.REPORTED),
        "Only the DSL team adds people once the report has been triaged.",
    )
    _require(incident.status != Incident.Status.CLOSED, "The incident is closed.")
    _require(person.part in Involvement.Part.values, "Choose the person's part.")
    return Involvement.objects.create(
        incident=incident,
        part=person.part,
        learner=person.learner,
        staff=person.staff,
        visitor=person.visitor,
        added_by=by,
    )


@transaction.atomic
def note_add(*, incident: Incident, text: str, by: User) -> Note:
    """A dated addendum: corrections and later facts never overwrite the account."""
    incident = _lock(incident)
    _require(
        may_handle(by, incident) or incident.reported_by_id == by.pk,
        "Only the reporter or the DSL team adds notes to this incident.",
    )
    _require(bool(text.strip()), "Write the note.")
    return Note.objects.create(incident=incident, text=text, written_by=by)


# The workflow ------------------------------------------------------------------------------


@transaction.atomic
def incident_triage(
    *,
    incident: Incident,
    by: User,
    category: str | None = None,
    child_at_risk: bool = False,
    suspected_illegal: bool = False,
    staff_allegation: bool = False,
    assignee: User | None = None,
    policies: Iterable[LinkedPolicy] | None = None,
) -> Incident:
    """The DSL (or a deputy; the headteacher for staff matters) triages a new report.

    A child at risk of harm escalates to the child protection policy and alerts the DSL;
    suspected illegal material and an allegation against staff add their guards on closing.
    """
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status == Incident.Status.REPORTED,
        f"{incident.reference} is {incident.get_status_display().lower()}: it was already triaged.",
    )
    if category is not None and category != incident.category:
        _require(category in Category.values, "Choose a category.")
        if category in NO_FILES_CATEGORIES:
            _require(
                not incident.attachments.filter(removed_at__isnull=True).exists(),
                "This incident has files attached; the DSL must remove them before it is "
                f'recorded as "{Category(category).label}" (the image is never kept).',
            )
        incident.category = category
    if assignee is not None:
        _require(
            has_role(assignee, *LEADS, Role.HEADTEACHER),
            "Assign the incident to the DSL, a deputy or the headteacher.",
        )
    incident.child_at_risk = child_at_risk
    incident.suspected_illegal = suspected_illegal or incident.category == Category.ILLEGAL_CONTENT
    staff_subject = incident.people.filter(
        staff__isnull=False, part=Involvement.Part.SUBJECT
    ).exists()
    # section 5: illegal content on a staff member's device goes to the police and the LADO
    incident.staff_allegation = staff_allegation or (incident.suspected_illegal and staff_subject)
    incident.assignee = assignee or by
    incident.triaged_by = by
    incident.triaged_at = timezone.now()
    incident.status = Incident.Status.TRIAGED
    incident.version += 1
    incident.save()
    wanted = set(policies) if policies is not None else set(incident.policies.all())
    if child_at_risk:
        wanted |= set(LinkedPolicy.objects.filter(name=CHILD_PROTECTION_POLICY))
        transaction.on_commit(lambda: notifications.child_at_risk(incident))
    if staff_subject:
        wanted |= set(LinkedPolicy.objects.filter(name=CODE_OF_CONDUCT_POLICY))
    incident.policies.set(wanted)
    if incident.staff_allegation:
        transaction.on_commit(lambda: notifications.staff_matter(incident))
    return incident


@transaction.atomic
def incident_escalate(
    *,
    incident: Incident,
    by: User,
    child_at_risk: bool | None = None,
    suspected_illegal: bool | None = None,
    staff_allegation: bool | None = None,
) -> Incident:
    """Raise a flag found later in the investigation. Flags are never lowered."""
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status not in (Incident.Status.REPORTED, Incident.Status.CLOSED),
        "Triage the report first."
        if incident.status == Incident.Status.REPORTED
        else "The incident is closed.",
    )
    if child_at_risk and not incident.child_at_risk:
        incident.child_at_risk = True
        incident.policies.add(*LinkedPolicy.objects.filter(name=CHILD_PROTECTION_POLICY))
        transaction.on_commit(lambda: notifications.child_at_risk(incident))
    if suspected_illegal:
        incident.suspected_illegal = True
    if staff_allegation and not incident.staff_allegation:
        incident.staff_allegation = True
        transaction.on_commit(lambda: notifications.staff_matter(incident))
    incident.version += 1
    incident.save()
    return incident


@transaction.atomic
def incident_start_investigation(*, incident: Incident, by: User) -> Incident:
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status == Incident.Status.TRIAGED,
        "Only a triaged incident moves to investigation.",
    )
    incident.status = Incident.Status.INVESTIGATING
    incident.version += 1
    incident.save()
    return incident


@transaction.atomic
def incident_ready_for_debrief(*, incident: Incident, by: User) -> Incident:
    """The investigation is complete; leadership will debrief (section 9)."""
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status == Incident.Status.INVESTIGATING,
        "Only an incident under investigation moves to debrief.",
    )
    incident.status = Incident.Status.AWAITING_DEBRIEF
    incident.version += 1
    incident.save()
    return incident


@dataclass(frozen=True)
class Action:
    description: str
    owner: StaffMember
    due: datetime.date


@transaction.atomic
def debrief_record(
    *,
    incident: Incident,
    held_on: datetime.date,
    attendees: Iterable[StaffMember],
    lessons: str,
    policy_changes: str = "",
    curriculum_changes: str = "",
    actions: Iterable[Action] = (),
    by: User,
) -> Debrief:
    """Leadership's debrief: lessons learnt, and each change an action-plan item."""
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status == Incident.Status.AWAITING_DEBRIEF,
        "The debrief comes after the investigation is complete.",
    )
    _require(not Debrief.objects.filter(incident=incident).exists(), "The debrief is recorded.")
    _require(held_on <= timezone.localdate(), "The debrief cannot be in the future.")
    attendees = list(attendees)
    _require(bool(attendees), "Say who attended the debrief.")
    _require(bool(lessons.strip()), "Record the lessons learnt (or that there were none).")
    actions = list(actions)
    _require(
        not (policy_changes.strip() or curriculum_changes.strip()) or actions,
        "Each policy or curriculum change becomes an action with an owner and a due date.",
    )
    for action in actions:
        _require(bool(action.description.strip()), "Describe each action.")
        _require(action.due >= held_on, "An action cannot be due before the debrief.")
    debrief = Debrief.objects.create(
        incident=incident,
        held_on=held_on,
        lessons=lessons,
        policy_changes=policy_changes,
        curriculum_changes=curriculum_changes,
        recorded_by=by,
    )
    debrief.attendees.set(attendees)
    for action in actions:
        ActionPlanItem.objects.create(
            source=ActionPlanItem.Source.DEBRIEF,
            source_reference=incident.reference,
            description=action.description,
            owner=action.owner,
            due=action.due,
            created_by=by,
        )
    return debrief


def working_days_after(start: datetime.datetime, days: int) -> datetime.datetime:
    """`start` moved on by whole working days (Monday to Friday)."""
    moment = start
    while days:
        moment += datetime.timedelta(days=1)
        if timezone.localtime(moment).weekday() < 5:
            days -= 1
    return moment


def lado_referral_due(incident: Incident) -> datetime.datetime | None:
    """An allegation against staff is referred to the LADO within one working day."""
    if not incident.staff_allegation:
        return None
    start = incident.triaged_at or incident.reported_at
    return working_days_after(start, 1)


def lado_overdue(
    incident: Incident,
    *,
    now: datetime.datetime | None = None,
    referrals: list[Referral] | None = None,
) -> bool:
    """Whether the LADO referral is late (made late, or not made and due); the incident
    page passes the referrals it has already read."""
    due = lado_referral_due(incident)
    if due is None:
        return False
    if referrals is None:
        referrals = list(incident.referrals.all())
    made = [r for r in referrals if r.agency == Referral.Agency.LADO]
    if made:
        return min(r.made_at for r in made) > due
    return (now or timezone.now()) > due


def close_blockers(
    incident: Incident,
    *,
    people: list[Involvement] | None = None,
    referrals: list[Referral] | None = None,
    searches: list[Search] | None = None,
    told: bool | None = None,
    has_debrief: bool | None = None,
) -> list[str]:
    """What stops this incident from closing, in words; empty when it may close.

    The incident page passes what it has already read (the people, the referrals, the
    searches with their confiscations, whether parents were told, whether there is a
    debrief); anything not passed is read here."""
    blockers = []
    if people is None:
        people = list(incident.people.all())
    if referrals is None:
        referrals = list(incident.referrals.all())
    agencies = {r.agency for r in referrals}
    learners = [p for p in people if p.learner_id]
    staff_subjects = [p for p in people if p.staff_id and p.part == Involvement.Part.SUBJECT]
    if searches is None:
        searches = list(incident.searches.select_related("confiscation"))
    if told is None:
        told = incident.parent_contacts.exists()
    if has_debrief is None:
        has_debrief = Debrief.objects.filter(incident=incident).exists()
    if not has_debrief:
        blockers.append("The debrief has not been recorded (section 9).")
    if incident.suspected_illegal:
        if Referral.Agency.POLICE not in agencies:
            blockers.append("Suspected illegal material: record the referral to the police.")
        # the device may go to the police at the search or later, from its confiscation
        if learners and not any(
            search.confiscation_id and search.confiscation.status == Confiscation.Status.WITH_POLICE
            for search in searches
        ):
            blockers.append(
                "Suspected illegal material on a learner's device: record its hand-over to "
                "the police (a search with the device handed to the police)."
            )
    if incident.staff_allegation and Referral.Agency.LADO not in agencies:
        blockers.append("An allegation against a member of staff: record the referral to the LADO.")
    if staff_subjects and not incident.conduct_outcome.strip():
        blockers.append("A staff breach: record the outcome under the code of conduct.")
    if learners and not told and not incident.parents_not_told_reason.strip():
        blockers.append(
            "Record that parents or carers were told (who, when, how), or why they were not."
        )
    if any(search.parents_told_at is None for search in searches):
        blockers.append("Parents have not been told of a search and its outcome.")
    return blockers


@transaction.atomic
def incident_close(*, incident: Incident, by: User) -> Incident:
    incident = _lock(incident)
    _require_handler(by, incident)
    _require(
        incident.status == Incident.Status.AWAITING_DEBRIEF,
        "An incident closes after its debrief.",
    )
    blockers = close_blockers(incident)
    _require(not blockers, "It cannot close yet: " + " ".join(blockers))
    incident.status = Incident.Status.CLOSED
    incident.closed_by = by
    incident.closed_at = timezone.now()
    incident.version += 1
    incident.save()
    return incident


# What is recorded during the investigation ------------------------------------------------


def _require_open(incident: Incident) -> None:
    _require(
        incident.status
        in (
            Incident.Status.TRIAGED,
            Incident.Status.INVESTIGATING,
            Incident.Status.AWAITING_DEBRIEF,
        ),
        "Triage the report first."
        if incident.status == Incident.Status.REPORTED
        else "The incident is closed: add a note instead.",
    )


@transaction.atomic
def referral_record(
    *,
    incident: Incident,
    agency: str,
    contact: str,
    by: User,
    made_at: datetime.datetime | None = None,
    reference: str = "",
    advice: str = "",
    outcome: str = "",
) -> Referral:
    """A referral to the police, the LADO or children's social care, or advice sought from
    the Education Safeguarding Service (section 9)."""
    incident = _lock(incident)
    _require_handler(by, incident)
    _require_open(incident)
    _require(agency in Referral.Agency.values, "Choose the agency.")
    _require(bool(contact.strip()), "Say who was spoken to.")
    made_at = made_at or timezone.now()
    _require(made_at <= timezone.now(), "A referral cannot be made in the future.")
    _require(
        made_at >= incident.reported_at - datetime.timedelta(days=1),
        "The referral cannot come before the report.",
    )
    return Referral.objects.create(
        incident=incident,
        agency=agency,
        made_at=made_at,
        made_by=by,
        contact=contact,
        reference=reference,
        advice=advice,
        outcome=outcome,
    )


def _learners_of(incident: Incident) -> set[int]:
    return set(incident.people.filter(learner__isnull=False).values_list("learner_id", flat=True))


@transaction.atomic
def parent_contact_record(
    *,
    incident: Incident,
    parent: ParentCarer,
    how: str,
    summary: str,
    by: User,
    told_at: datetime.datetime | None = None,
) -> ParentContact:
    incident = _lock(incident)
    _require_handler(by, incident)
    _require_open(incident)
    _require(how in ParentContact.How.values, "Say how they were told.")
    _require(bool(summary.strip()), "Say what they were told.")
    _require(
        parent.learners.filter(pk__in=_learners_of(incident)).exists(),
        f"{parent} has no parental responsibility for a learner involved in this incident.",
    )
    told_at = told_at or timezone.now()
    _require(told_at <= timezone.now(), "That time is in the future.")
    return ParentContact.objects.create(
        incident=incident, parent=parent, how=how, summary=summary, told_at=told_at, told_by=by
    )


@transaction.atomic
def parents_not_told(*, incident: Incident, reason: str, by: User) -> Incident:
    """Parents are told "as appropriate" (section 6); when not, the reason is recorded
    (e.g. telling them would put the child at risk)."""
    incident = _lock(incident)
    _require_handler(by, incident)
    _require_open(incident)
    _require(bool(reason.strip()), "Give the reason parents or carers were not told.")
    incident.parents_not_told_reason = reason
    incident.version += 1
    incident.save()
    return incident


@transaction.atomic
def conduct_outcome_record(*, incident: Incident, outcome: str, by: User) -> Incident:
    """A staff breach is dealt with under the code of conduct (section 5): the headteacher
    records the outcome."""
    incident = _lock(incident)
    _require(has_role(by, Role.HEADTEACHER), "The headteacher records the code of conduct outcome.")
    _require_open(incident)
    _require(
        incident.people.filter(staff__isnull=False).exists(),
        "No member of staff is involved in this incident.",
    )
    _require(bool(outcome.strip()), "Record the outcome.")
    incident.conduct_outcome = outcome
    incident.version += 1
    incident.save()
    return incident


@transaction.atomic
def search_record(
    *,
    incident: Incident,
    learner: Learner,
    device: str,
    searched_at: datetime.datetime,
    place: str,
    led_by: User,
    grounds: str,
    sought: str,
    consent_by: str,
    consent_how: str,
    outcome: str,
    by: User,
    second_staff: StaffMember | None = None,
    no_second_reason: str = "",
    consent_parent: ParentCarer | None = None,
    found: str = "",
    deletion: str = Search.Deletion.NONE,
    deletion_reason: str = "",
    confiscation: Confiscation | None = None,
    parents_told_at: datetime.datetime | None = None,
) -> Search:
    """A search of a learner's device, as the DfE guidance and section 6 require: led by
    the DSL, a deputy or the headteacher; a second member of staff where possible (else
    why not); with the consent of the learner or a parent or carer; grounds and what was
    sought; what was found, or nothing; content deleted or asked to be deleted, by whom and
    why; the device returned, retained or handed to the police."""
    incident = _lock(incident)
    _require(has_role(by, *SEARCH_LEADS), "Searches are recorded by the DSL team or the head.")
    _require_open(incident)
    _require(
        has_role(led_by, *SEARCH_LEADS),
        "A search is led by the DSL, a deputy DSL or the headteacher (section 6).",
    )
    _require(learner.pk in _learners_of(incident), "Add the learner to the incident first.")
    _require(searched_at <= timezone.now(), "The search cannot be in the future.")
    for label, value in (
        ("the device", device),
        ("where it took place", place),
        ("the grounds for the search", grounds),
        ("what was being looked for", sought),
        ("how consent was given", consent_how),
    ):
        _require(bool(value.strip()), f"Record {label}.")
    if second_staff is None:
        _require(
            bool(no_second_reason.strip()),
            "Name the second member of staff present, or say why there was none.",
        )
    else:
        _require(second_staff.user_id != led_by.pk, "The second member of staff is not the lead.")
        no_second_reason = ""
    if consent_by == Search.ConsentBy.PARENT_CARER:
        _require(consent_parent is not None, "Say which parent or carer consented.")
        _require(
            consent_parent.learners.filter(pk=learner.pk).exists(),
            f"{consent_parent} has no parental responsibility for this learner.",
        )
    else:
        _require(
            consent_by == Search.ConsentBy.LEARNER,
            "A search needs the consent of the learner or a parent or carer.",
        )
        consent_parent = None
    found_nothing = not found.strip()
    _require(deletion in Search.Deletion.values, "Say whether content was deleted.")
    deleted_by = None
    if deletion != Search.Deletion.NONE:
        _require(not found_nothing, "Nothing was found, so nothing was deleted.")
        _require(bool(deletion_reason.strip()), "Say why content was deleted.")
        deleted_by = by
    _require(outcome in Search.Outcome.values, "Say what happened to the device.")
    if outcome == Search.Outcome.POLICE:
        _require(
            confiscation is not None and confiscation.status == Confiscation.Status.WITH_POLICE,
            "Record the device's hand-over to the police (officer and reference) first, "
            "then link it here.",
        )
    if confiscation is not None:
        _require(
            confiscation.learner_id == learner.pk, "That device was taken from another learner."
        )
    return Search.objects.create(
        incident=incident,
        learner=learner,
        device=device,
        searched_at=searched_at,
        place=place,
        led_by=led_by,
        second_staff=second_staff,
        no_second_reason=no_second_reason,
        grounds=grounds,
        sought=sought,
        consent_by=consent_by,
        consent_parent=consent_parent,
        consent_how=consent_how,
        found_nothing=found_nothing,
        found=found.strip(),
        deletion=deletion,
        deleted_by=deleted_by,
        deletion_reason=deletion_reason,
        outcome=outcome,
        confiscation=confiscation,
        parents_told_at=parents_told_at,
        parents_told_by=by if parents_told_at else None,
        recorded_by=by,
    )


@transaction.atomic
def search_parents_told(
    *, search: Search, by: User, told_at: datetime.datetime | None = None
) -> Search:
    search = (
        Search.objects.select_for_update(of=("self",)).select_related("incident").get(pk=search.pk)
    )
    _require_handler(by, search.incident)
    _require(search.parents_told_at is None, "Parents have already been recorded as told.")
    told_at = told_at or timezone.now()
    _require(told_at <= timezone.now(), "That time is in the future.")
    _require(told_at >= search.searched_at, "Parents are told after the search.")
    search.parents_told_at = told_at
    search.parents_told_by = by
    search.save()
    return search


def _sniff(upload: UploadedFile) -> str | None:
    head = upload.read(8)
    upload.seek(0)
    for magic, kind in ALLOWED_ATTACHMENT_TYPES.items():
        if head.startswith(magic):
            return kind
    return None


@transaction.atomic
def attachment_add(
    *, incident: Incident, upload: UploadedFile, description: str, by: User
) -> Attachment:
    incident = _lock(incident)
    _require(
        incident.accepts_files,
        "No file of any kind is accepted on this incident: do not view, copy, print, share, "
        "store or ask for the image (UKCIS guidance). Tell the DSL.",
    )
    _require(
        may_handle(by, incident) or incident.reported_by_id == by.pk,
        "Only the reporter or the DSL team adds files to this incident.",
    )
    _require(incident.status != Incident.Status.CLOSED, "The incident is closed.")
    _require(bool(description.strip()), "Describe the file.")
    _require(upload.size <= MAX_ATTACHMENT_BYTES, "The file is larger than 10 MB.")
    kind = _sniff(upload)
    _require(kind is not None, "Attach a PDF, PNG or JPEG file.")
    attachment = Attachment(incident=incident, description=description, uploaded_by=by)
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    attachment.file.save(f"{incident.reference}-{stamp}.{kind}", upload, save=False)
    attachment.save()
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: Attachment, reason: str, by: User) -> Attachment:
    """The DSL removes a file that must not be kept; the record that it existed stays."""
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    _require(has_role(by, Role.DSL), "Only the DSL removes a file from an incident.")
    _require(attachment.removed_at is None, "The file has already been removed.")
    _require(bool(reason.strip()), "Say why the file is removed.")
    attachment.file.delete(save=False)
    attachment.file = ""
    attachment.removed_at = timezone.now()
    attachment.removed_by = by
    attachment.removal_reason = reason
    attachment.save()
    return attachment
