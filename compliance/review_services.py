"""The policy review, the action plan, training and monitoring (sections 8 and 9).

One function per write, keyword-only arguments; each refuses (`Refused`) when the policy
says no: only the DSL or the headteacher records a review, only a governor signs it off,
and only a review that has been recorded can be signed off, once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from compliance import guidance
from compliance.access import has_role
from compliance.models import (
    ActionPlanItem,
    AnnualReportSummary,
    MonitoringCheck,
    PolicyCommunication,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    TrainingSession,
    User,
)
from compliance.roles import Role
from compliance.transitions import Refused

# Who does what (section 8 and the key details).
REVIEWERS = (Role.DSL, Role.HEADTEACHER)
PLANNERS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
REPORT_READERS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER, Role.GOVERNOR)


def may_record_review(user) -> bool:
    return has_role(user, *REVIEWERS)


def may_sign_off(user) -> bool:
    return has_role(user, Role.GOVERNOR)


def may_plan(user) -> bool:
    """Action plan, training and monitoring: the DSL, deputies and the headteacher."""
    return has_role(user, *PLANNERS)


def may_read_reports(user) -> bool:
    return has_role(user, *REPORT_READERS)


def may_write_summary(user) -> bool:
    return has_role(user, Role.DSL)


def a_year_on(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def school_year_start(day: datetime.date) -> datetime.date:
    """1 September of the school year `day` falls in."""
    return datetime.date(day.year if day.month >= 9 else day.year - 1, 9, 1)


@transaction.atomic
def review_record(
    *,
    by: User,
    trigger: str,
    changes: str,
    version_number: str,
    date_written: datetime.date,
    next_review: datetime.date | None = None,
    reviewed_at: datetime.datetime | None = None,
    material_change: bool = True,
    follows_kcsie: str = "",
    follows_phone_guidance: str = "",
    follows_filtering_standards: str = "",
    communications: Iterable[dict] = (),
) -> PolicyReview:
    """Record a review and the version it produced; the version is adopted on the day.

    The next review defaults to a year after the review (the policy: at least annually).
    A version marked as a material change asks everyone to acknowledge the policy again;
    one that is not (wording only) keeps the acknowledgements already made. The version says
    which guidance editions it follows (compliance.guidance); `communications` (dicts of
    `audience`, `on`, `method`) record when it was told to staff, pupils and parents.
    """
    if not may_record_review(by):
        raise Refused("Only the DSL or the headteacher records a review of the policy.")
    trigger = PolicyReview.Trigger(trigger)
    if not changes.strip():
        raise Refused("Say what changed in the review (or that nothing needed to).")
    reviewed_at = reviewed_at or timezone.now()
    reviewed_on = timezone.localdate(reviewed_at)
    next_review = next_review or a_year_on(reviewed_on)
    if next_review <= date_written:
        raise Refused("The next review must be after the date the version was written.")
    if next_review > a_year_on(reviewed_on):
        raise Refused("The policy is reviewed at least annually: the next review is within a year.")
    if PolicyVersion.objects.filter(number=version_number).exists():
        raise Refused(f"Version {version_number} already exists; give the new version a number.")
    new_version = PolicyVersion.objects.create(
        number=version_number,
        date_written=date_written,
        adopted=reviewed_on,
        next_review=next_review,
        material_change=material_change,
        **_guidance_followed(
            follows_kcsie=follows_kcsie,
            follows_phone_guidance=follows_phone_guidance,
            follows_filtering_standards=follows_filtering_standards,
        ),
    )
    for told in communications:
        communication_record(
            by=by,
            policy_version=new_version,
            audience=told["audience"],
            communicated_on=told["on"],
            method=told["method"],
            note=told.get("note", ""),
        )
    return PolicyReview.objects.create(
        trigger=trigger,
        changes=changes.strip(),
        new_version=new_version,
        reviewed_by=by,
        reviewed_at=reviewed_at,
        next_review=next_review,
    )


def _guidance_followed(**named: str) -> dict:
    """Each edition named must be one in the reference list, of the right kind."""
    for kind, field in guidance.VERSION_FIELDS.items():
        key = named.get(field) or ""
        if key and guidance.edition(kind, key) is None:
            raise Refused(f"{key} is not an edition of {kind.label}.")
    return {field: named.get(field) or "" for field in guidance.VERSION_FIELDS.values()}


@transaction.atomic
def communication_record(
    *,
    by: User,
    policy_version: PolicyVersion,
    audience: str,
    communicated_on: datetime.date,
    method: str,
    note: str = "",
) -> PolicyCommunication:
    """Record that a version of the policy was told to staff, pupils or parents: when, how."""
    if not may_plan(by):
        raise Refused("Only the DSL, a deputy or the headteacher records who has been told.")
    if communicated_on > timezone.localdate():
        raise Refused("Record it once they have been told: the date is in the future.")
    if communicated_on < policy_version.date_written:
        raise Refused(f"{policy_version} was written after that date.")
    return PolicyCommunication.objects.create(
        policy_version=policy_version,
        audience=PolicyCommunication.Audience(audience),
        communicated_on=communicated_on,
        method=PolicyCommunication.Method(method),
        note=note.strip(),
        recorded_by=by,
    )


def communications_by_audience(version: PolicyVersion) -> dict[str, list[PolicyCommunication]]:
    """When and how one version was told to each audience (staff, pupils, parents), oldest
    first; an audience not yet told has an empty list. One query."""
    told: dict[str, list[PolicyCommunication]] = {a.value: [] for a in PolicyCommunication.Audience}
    for communication in PolicyCommunication.objects.filter(policy_version=version).order_by(
        "communicated_on", "pk"
    ):
        told[communication.audience].append(communication)
    return told


@transaction.atomic
def review_sign_off(*, review: PolicyReview, by: User) -> PolicyReview:
    """The safeguarding lead governor signs off a recorded review."""
    if not may_sign_off(by):
        raise Refused("Only a governor signs off a review of the policy.")
    if review.pk is None:
        raise Refused("A review must be recorded before a governor can sign it off.")
    review = PolicyReview.objects.select_for_update().get(pk=review.pk)
    if review.signed_off:
        raise Refused("This review has already been signed off.")
    review.governor_signed_by = by
    review.governor_signed_at = timezone.now()
    review.version += 1
    review.save()
    return review


@transaction.atomic
def action_create(
    *,
    by: User,
    source: str,
    description: str,
    owner: StaffMember,
    due: datetime.date,
    source_reference: str = "",
) -> ActionPlanItem:
    if not may_plan(by):
        raise Refused("Only the DSL, a deputy or the headteacher adds to the action plan.")
    return ActionPlanItem.objects.create(
        source=ActionPlanItem.Source(source),
        source_reference=source_reference,
        description=description,
        owner=owner,
        due=due,
        created_by=by,
    )


@transaction.atomic
def action_close(*, action: ActionPlanItem, by: User, status: str) -> ActionPlanItem:
    """Mark an open action done (or no longer needed)."""
    if not may_plan(by):
        raise Refused("Only the DSL, a deputy or the headteacher closes an action.")
    status = ActionPlanItem.Status(status)
    if status == ActionPlanItem.Status.OPEN:
        raise Refused("Choose done or no longer needed.")
    action = ActionPlanItem.objects.select_for_update().get(pk=action.pk)
    if action.status != ActionPlanItem.Status.OPEN:
        raise Refused("This action is already closed.")
    action.status = status
    action.completed_at = timezone.now()
    action.version += 1
    action.save()
    return action


@transaction.atomic
def training_record(
    *, by: User, held_on: datetime.date, topic: str, attendees: Iterable[StaffMember]
) -> TrainingSession:
    if not may_plan(by):
        raise Refused("Only the DSL, a deputy or the headteacher records training.")
    session = TrainingSession.objects.create(held_on=held_on, topic=topic, recorded_by=by)
    session.attendees.set(attendees)
    return session


@transaction.atomic
def monitoring_record(
    *,
    by: User,
    checked_on: datetime.date,
    what_checked: str,
    findings: str,
    actions: str = "",
) -> MonitoringCheck:
    if not may_plan(by):
        raise Refused("Only the DSL, a deputy or the headteacher records a monitoring check.")
    return MonitoringCheck.objects.create(
        checked_on=checked_on,
        what_checked=what_checked,
        findings=findings,
        actions=actions,
        checked_by=by,
    )


@transaction.atomic
def summary_save(*, by: User, year_start: datetime.date, text: str) -> AnnualReportSummary:
    """The DSL writes (or rewrites) the summary of lessons learnt for a school year."""
    if not may_write_summary(by):
        raise Refused("The DSL writes the summary of lessons learnt.")
    if (year_start.month, year_start.day) != (9, 1):
        raise Refused("A school year starts on 1 September.")
    summary = AnnualReportSummary.objects.select_for_update().filter(year_start=year_start).first()
    if summary is None:
        return AnnualReportSummary.objects.create(year_start=year_start, text=text, written_by=by)
    summary.text = text
    summary.written_by = by
    summary.written_at = timezone.now()
    summary.version += 1
    summary.save()
    return summary
