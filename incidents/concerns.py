"""Low-level concerns about staff (KCSIE 2022 onwards): raise, respond, decide, escalate.

A low-level concern is behaviour by a member of staff that does not meet the harm
threshold for an allegation but is not consistent with the staff code of conduct (KCSIE's
own example: photographs of children taken on a personal phone contrary to policy). Any
member of staff raises one; the DSL or the headteacher records the staff member's response
and then the outcome, and watches for a pattern; one that meets the harm threshold is
escalated in one step to an allegation on the LADO route (an incident, triaged as an
allegation against staff, with the staff member as its subject). An escalated concern is
read-only. Each step refuses (`Refused`) with the reason; a save based on a stale copy
raises `StaleEdit`.

Concerns about the headteacher are not raised here: KCSIE sends them to the chair of
governors, who has no access to this log.
"""

from __future__ import annotations

import datetime
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from compliance.access import has_role
from compliance.concurrency import StaleEdit
from compliance.models import StaffMember, User
from compliance.roles import Role
from compliance.transitions import Refused
from incidents import notifications, services
from incidents.access import CONCERN_READERS, concerns_for, may_raise_concern
from incidents.models import Category, Incident, Involvement, Location, LowLevelConcern, Note

Status = LowLevelConcern.Status

# A pattern: this many concerns about one member of staff within the window below is
# shown as repeated, for the DSL and headteacher to consider together (KCSIE: a pattern of
# low-level concerns may meet the harm threshold).
REPEATED_COUNT = 2
REPEATED_WINDOW = datetime.timedelta(days=365)


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(reason)


def _locked(concern: LowLevelConcern, expected_version: int | None) -> LowLevelConcern:
    current = (
        LowLevelConcern.objects.select_for_update(of=("self",))
        .select_related("staff")
        .get(pk=concern.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(current)
    return current


def _require_reader(by: User, concern: LowLevelConcern) -> None:
    _require(
        has_role(by, *CONCERN_READERS),
        "Only the DSL or the headteacher deals with low-level concerns.",
    )
    _require(
        concern.staff.user_id != by.pk,
        "A concern about you is dealt with by someone else.",
    )


def _require_open(concern: LowLevelConcern) -> None:
    _require(
        concern.status == Status.OPEN,
        f"{concern.reference} is escalated to an allegation: it is read-only now."
        if concern.status == Status.ESCALATED
        else f"{concern.reference} has its outcome recorded.",
    )


def is_headteacher(staff: StaffMember) -> bool:
    return staff.user is not None and has_role(staff.user, Role.HEADTEACHER)


def _new_reference(today: datetime.date) -> str:
    return f"LLC-{today.year}-{secrets.token_hex(3).upper()}"


@transaction.atomic
def concern_raise(
    *,
    staff: StaffMember,
    occurred_at: datetime.datetime,
    location: Location,
    account: str,
    by: User,
) -> LowLevelConcern:
    """Any member of staff raises a concern about a colleague. The DSL and the headteacher
    are emailed a reference and a link (the one it is about is not)."""
    _require(may_raise_concern(by), "Your role does not raise concerns here: tell the DSL.")
    _require(staff.active, "Choose a current member of staff.")
    _require(
        staff.user_id != by.pk,
        "A concern is about someone else: you cannot raise one about yourself.",
    )
    _require(
        not is_headteacher(staff),
        "A concern about the headteacher goes to the chair of governors, not to this log "
        "(KCSIE): tell them directly.",
    )
    _require(bool(account.strip()), "Say what you saw or heard.")
    _require(
        occurred_at <= timezone.now() + datetime.timedelta(minutes=5),
        "It cannot have happened in the future.",
    )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                concern = LowLevelConcern.objects.create(
                    reference=_new_reference(timezone.localdate()),
                    staff=staff,
                    occurred_at=occurred_at,
                    location=location,
                    account=account,
                    raised_by=by,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five random clashes in a row
        raise Refused("Could not give the concern a reference; please try again.")
    transaction.on_commit(lambda: notifications.new_low_level_concern(concern))
    return concern


@transaction.atomic
def concern_record_response(
    *,
    concern: LowLevelConcern,
    response: str,
    by: User,
    expected_version: int | None = None,
) -> LowLevelConcern:
    """What the member of staff said when the concern was discussed with them. Recorded
    again, it replaces the earlier words (the history keeps them)."""
    concern = _locked(concern, expected_version)
    _require_reader(by, concern)
    _require_open(concern)
    _require(bool(response.strip()), "Record what the member of staff said.")
    concern.staff_response = response.strip()
    concern.response_recorded_by = by
    concern.response_recorded_at = timezone.now()
    concern.version += 1
    concern.save()
    return concern


@transaction.atomic
def concern_record_outcome(
    *,
    concern: LowLevelConcern,
    outcome: str,
    detail: str,
    by: User,
    expected_version: int | None = None,
) -> LowLevelConcern:
    """The outcome, after the staff member's response: the concern is then closed (it stays
    in the log and in the pattern, and may still be escalated if a pattern emerges)."""
    concern = _locked(concern, expected_version)
    _require_reader(by, concern)
    _require_open(concern)
    _require(
        bool(concern.staff_response.strip()),
        "Record the staff member's response (what they said when it was discussed with "
        "them) before the outcome.",
    )
    _require(outcome in LowLevelConcern.Outcome.values, "Choose the outcome.")
    _require(bool(detail.strip()), "Say what was decided, and why.")
    concern.outcome = outcome
    concern.outcome_detail = detail.strip()
    concern.outcome_recorded_by = by
    concern.outcome_recorded_at = timezone.now()
    concern.status = Status.CLOSED
    concern.version += 1
    concern.save()
    return concern


@transaction.atomic
def concern_escalate(
    *,
    concern: LowLevelConcern,
    category: str,
    reason: str,
    by: User,
    expected_version: int | None = None,
) -> Incident:
    """It meets the harm threshold after all: in one step, an allegation against the member
    of staff (an incident triaged as such, the staff member its subject, with a note saying
    where it came from), so the LADO clock starts (one working day); the concern is linked
    to it and becomes read-only. An open or closed concern may be escalated (a later
    pattern can change the view of an earlier one); an escalated one never again."""
    concern = _locked(concern, expected_version)
    _require_reader(by, concern)
    _require(
        concern.status != Status.ESCALATED,
        f"{concern.reference} is already escalated"
        + (f" to {concern.incident.reference}." if concern.incident_id else "."),
    )
    _require(category in Category.values, "Choose the incident's category.")
    _require(bool(reason.strip()), "Say why it now meets the harm threshold.")
    incident = services.incident_report(
        occurred_at=concern.occurred_at,
        location=concern.location,
        category=category,
        account=concern.account,
        people=[services.Person(part=Involvement.Part.SUBJECT, staff=concern.staff)],
        by=by,
    )
    incident = services.incident_triage(incident=incident, by=by, staff_allegation=True)
    Note.objects.create(
        incident=incident,
        text=f"Escalated from low-level concern {concern.reference} "
        f"(raised {timezone.localtime(concern.raised_at):%d/%m/%Y}): {reason.strip()}",
        written_by=by,
    )
    concern.status = Status.ESCALATED
    concern.incident = incident
    concern.escalated_by = by
    concern.escalated_at = timezone.now()
    concern.version += 1
    concern.save()
    return incident


# Selectors -----------------------------------------------------------------------------


def pattern(user) -> list[dict]:
    """Per member of staff with a concern this user may read: how many, how many open,
    escalated and recent, the first and last dates, and each concern's date and reference.
    Two queries, however many staff and concerns; most concerns in the last year first."""
    concerns = concerns_for(user)
    since = timezone.now() - REPEATED_WINDOW
    rows = list(
        concerns.values("staff_id", "staff__first_name", "staff__last_name", "staff__active")
        .annotate(
            total=Count("pk"),
            open=Count("pk", filter=Q(status=Status.OPEN)),
            escalated=Count("pk", filter=Q(status=Status.ESCALATED)),
            recent=Count("pk", filter=Q(occurred_at__gte=since)),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .order_by("-recent", "-total", "staff__last_name", "staff__first_name", "staff_id")
    )
    dated: dict[int, list[dict]] = {}
    for item in concerns.order_by("occurred_at", "pk").values(
        "pk", "staff_id", "reference", "occurred_at", "status"
    ):
        dated.setdefault(item["staff_id"], []).append(item)
    for row in rows:
        row["name"] = f"{row['staff__first_name']} {row['staff__last_name']}"
        row["repeated"] = row["recent"] >= REPEATED_COUNT
        row["concerns"] = dated.get(row["staff_id"], [])
    return rows


def others_about(concern: LowLevelConcern, user) -> QuerySet:
    """The other concerns about the same member of staff this user may read."""
    return (
        concerns_for(user)
        .filter(staff_id=concern.staff_id)
        .exclude(pk=concern.pk)
        .order_by("-occurred_at", "-pk")
    )
