"""Filtering and monitoring (KCSIE 2023; the DfE's filtering and monitoring standards).

The DSL leads on filtering and monitoring; the standards name a senior leader and a governor
responsible (on `School`) and ask for a review at least once a year. Here:

- the annual review (`FilteringReview`), whose actions become action-plan items (source
  "filtering", reference FMR-nnnn) through `review_services.action_create`;
- decisions to block or allow a site or a category (`FilterDecision`): never changed or
  deleted, a reversal is a new decision naming the one it reverses;
- alerts from the monitoring system (`MonitoringAlert`), reviewed by the DSL with the outcome.

Who (decided, tested in tests/test_filtering.py):
- the DSL, deputies and the headteacher see and record reviews, decisions and alerts;
- an alert is reviewed by the DSL, or a deputy DSL acting for them (KCSIE: the DSL takes lead
  responsibility for filtering and monitoring; the activity may be delegated to deputies, the
  responsibility stays with the DSL). The headteacher sees alerts but does not review them;
- the person an alert is about is shown only to those who review alerts, on the alert's own
  page (each opening logged), never in a list;
- governors (the named governor among them) see the annual review's summary only in the
  governors' report, as dates and counts; staff and the office see none of it.

One function per write, keyword-only; each raises `Refused` with the reason.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from compliance import review_services as rs
from compliance.access import has_role
from compliance.models import (
    ActionPlanItem,
    FilterDecision,
    FilteringReview,
    Learner,
    MonitoringAlert,
    StaffMember,
    User,
)
from compliance.roles import Role
from compliance.transitions import Refused

LEADS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
ALERT_REVIEWERS = (Role.DSL, Role.DEPUTY_DSL)
# an incident is raised in the incidents app; only its reference is kept here
INCIDENT_REFERENCE = re.compile(r"^INC-\d{4}-[0-9A-Z]{1,12}$")


def may_see_filtering(user) -> bool:
    """Reviews, decisions and alerts: the DSL, deputies and the headteacher."""
    return has_role(user, *LEADS)


def may_record_filtering(user) -> bool:
    return has_role(user, *LEADS)


def may_review_alert(user) -> bool:
    """The DSL, or a deputy acting for them."""
    return has_role(user, *ALERT_REVIEWERS)


def may_see_alert_person(user) -> bool:
    """Who an alert is about: only those who review alerts."""
    return may_review_alert(user)


# Selectors (the dashboard, the governors' report and the evidence pack read these)


def latest_filtering_review() -> FilteringReview | None:
    return FilteringReview.objects.order_by("-reviewed_on", "-pk").first()


def filtering_review_due(today: datetime.date | None = None) -> dict:
    """The last review's date and when the next is due; overdue when none has been held or
    the next is past. One query."""
    today = today or timezone.localdate()
    last = (
        FilteringReview.objects.order_by("-reviewed_on", "-pk")
        .values("pk", "reviewed_on", "next_review")
        .first()
    )
    if last is None:
        return {"last": None, "next_review": None, "overdue": True, "never": True}
    return {
        "last": last["reviewed_on"],
        "next_review": last["next_review"],
        "overdue": last["next_review"] < today,
        "never": False,
    }


def alerts_awaiting_review() -> QuerySet:
    return MonitoringAlert.objects.filter(status=MonitoringAlert.Status.AWAITING)


def filtering_reviews_between(start: datetime.date, end: datetime.date) -> QuerySet:
    """The annual reviews held between two dates, with who took part (for the evidence
    pack: read `participants` through `prefetch_related`, it is prefetched)."""
    return (
        FilteringReview.objects.filter(reviewed_on__gte=start, reviewed_on__lte=end)
        .prefetch_related("participants")
        .order_by("reviewed_on", "pk")
    )


def review_actions(review: FilteringReview) -> QuerySet:
    """The action-plan items that came from one review."""
    return ActionPlanItem.objects.filter(
        source=ActionPlanItem.Source.FILTERING, source_reference=review.reference
    ).select_related("owner")


def decision_in_force(decision: FilterDecision) -> bool:
    """Not reversed by a later decision. (`reversed_by` is a one-to-one: ask it once.)"""
    try:
        decision.reversed_by  # noqa: B018 - the access is the question
    except FilterDecision.reversed_by.RelatedObjectDoesNotExist:
        return True
    return False


# Writes


def _not_future(day: datetime.date, what: str) -> None:
    if day > timezone.localdate():
        raise Refused(f"Record {what} once it has happened: the date is in the future.")


@transaction.atomic
def filtering_review_record(
    *,
    by: User,
    reviewed_on: datetime.date,
    participants: Iterable[StaffMember],
    what_tested: str,
    findings: str,
    other_participants: str = "",
    next_review: datetime.date | None = None,
    actions: Iterable[dict] = (),
) -> FilteringReview:
    """Record the annual review and put its actions on the action plan.

    Each action is a dict with `description`, `owner` and `due`; each becomes an open
    action-plan item with source "filtering" and the review's reference. The next review
    defaults to a year on (the standards: at least annually) and may not be later.
    """
    if not may_record_filtering(by):
        raise Refused("Only the DSL, a deputy or the headteacher records the annual review.")
    _not_future(reviewed_on, "the review")
    participants = list(participants)
    if not participants:
        raise Refused("Say who took part in the review (the DSL leads it).")
    if not what_tested.strip() or not findings.strip():
        raise Refused("Say what was tested and what was found.")
    year_on = rs.a_year_on(reviewed_on)
    next_review = next_review or year_on
    if not reviewed_on < next_review <= year_on:
        raise Refused("The next review is within a year of this one (at least annually).")
    review = FilteringReview.objects.create(
        reviewed_on=reviewed_on,
        other_participants=other_participants.strip(),
        what_tested=what_tested.strip(),
        findings=findings.strip(),
        next_review=next_review,
        recorded_by=by,
    )
    review.participants.set(participants)
    for action in actions:
        rs.action_create(
            by=by,
            source=ActionPlanItem.Source.FILTERING,
            source_reference=review.reference,
            description=action["description"],
            owner=action["owner"],
            due=action["due"],
        )
    return review


@transaction.atomic
def filter_decision_record(
    *,
    by: User,
    action: str,
    reason: str,
    decided_by: StaffMember,
    decided_on: datetime.date,
    target: str = "",
    what: str = "",
    reverses: FilterDecision | None = None,
) -> FilterDecision:
    """Record a decision to block or allow. A reversal names the decision it reverses and
    takes its site or category; the earlier decision is kept as it was."""
    if not may_record_filtering(by):
        raise Refused("Only the DSL, a deputy or the headteacher records filtering decisions.")
    action = FilterDecision.Action(action)
    if not reason.strip():
        verb = "block" if action == FilterDecision.Action.BLOCK else "allow"
        raise Refused(f"A decision to {verb} needs the reason for it.")
    _not_future(decided_on, "the decision")
    if reverses is not None:
        reverses = FilterDecision.objects.select_for_update().get(pk=reverses.pk)
        if not decision_in_force(reverses):
            raise Refused(f"{reverses.reference} has already been reversed.")
        if reverses.action == action:
            raise Refused(f"{reverses.reference} already says {action.label.lower()}.")
        if decided_on < reverses.decided_on:
            raise Refused("A reversal cannot be dated before the decision it reverses.")
        target, what = reverses.target, reverses.what
    target = FilterDecision.Target(target)
    if not what.strip():
        raise Refused("Say which site or category the decision is about.")
    return FilterDecision.objects.create(
        target=target,
        what=what.strip(),
        action=action,
        reason=reason.strip(),
        decided_by=decided_by,
        decided_on=decided_on,
        reverses=reverses,
        recorded_by=by,
    )


@transaction.atomic
def alert_record(
    *,
    by: User,
    raised_at: datetime.datetime,
    system: str,
    kind: str,
    subject: str,
    summary: str,
    learner: Learner | None = None,
    staff: StaffMember | None = None,
    device: str = "",
) -> MonitoringAlert:
    if not may_record_filtering(by):
        raise Refused("Only the DSL, a deputy or the headteacher records monitoring alerts.")
    subject = MonitoringAlert.Subject(subject)
    if raised_at > timezone.now():
        raise Refused("An alert cannot have been raised in the future.")
    if learner is not None and subject != MonitoringAlert.Subject.LEARNER:
        raise Refused("A learner is named only for an alert about a learner.")
    if staff is not None and subject != MonitoringAlert.Subject.STAFF:
        raise Refused("A member of staff is named only for an alert about a member of staff.")
    if not summary.strip():
        raise Refused("Say what the system reported.")
    return MonitoringAlert.objects.create(
        raised_at=raised_at,
        system=system.strip(),
        kind=MonitoringAlert.Kind(kind),
        subject=subject,
        learner=learner,
        staff=staff,
        device=device.strip(),
        summary=summary.strip(),
        recorded_by=by,
    )


@transaction.atomic
def alert_review(
    *,
    alert: MonitoringAlert,
    by: User,
    outcome: str,
    note: str = "",
    incident_reference: str = "",
) -> MonitoringAlert:
    """The DSL (or a deputy acting for them) reviews an alert and records the outcome.

    An incident raised from it is recorded in the incidents app first; its reference
    (INC-yyyy-xxxxxx) is kept here, so the alert and the incident can be found from each other
    without compliance importing incidents.
    """
    if not may_review_alert(by):
        raise Refused("Only the DSL, or a deputy acting for them, reviews monitoring alerts.")
    outcome = MonitoringAlert.Outcome(outcome)
    reference = incident_reference.strip().upper()
    if outcome == MonitoringAlert.Outcome.INCIDENT:
        if not INCIDENT_REFERENCE.match(reference):
            raise Refused(
                "Give the reference of the incident raised (as INC-2026-1A2B3C): report it "
                "first, then record this review."
            )
    elif reference:
        raise Refused("An incident reference goes with the outcome 'Incident raised' only.")
    if outcome == MonitoringAlert.Outcome.SPOKE_TO and not note.strip():
        raise Refused("Say who was spoken to (their role, not their name) and what was agreed.")
    alert = MonitoringAlert.objects.select_for_update().get(pk=alert.pk)
    if alert.status != MonitoringAlert.Status.AWAITING:
        raise Refused(f"{alert.reference} has already been reviewed.")
    alert.status = MonitoringAlert.Status.REVIEWED
    alert.outcome = outcome
    alert.review_note = note.strip()
    alert.incident_reference = reference
    alert.reviewed_by = by
    alert.reviewed_at = timezone.now()
    alert.version += 1
    alert.save()
    return alert
