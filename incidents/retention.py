"""How long incident records are kept: registered with `compliance.retention` by
`register()` (from IncidentsConfig.ready).

Each incident falls under exactly one rule, so it is listed once and one rule decides its
date:

- an allegation against a member of staff (`staff_allegation`): 10 years from the
  allegation, as a floor. The other limb of the rule, the member's normal pension age, is
  not recorded anywhere in the system, so it cannot be applied: whoever asks for a disposal
  checks it first. If a learner is involved too, it is also kept until the youngest
  learner involved is 25, the child-protection period, whichever is later.
- any other incident with a learner involved is a child-protection record: kept until the
  youngest learner involved is 25 (date of birth plus 25 years).

Incidents with no learner involved and no allegation against staff (a visitor's misuse,
say) fall under neither rule and are never listed as due.

Low-level concerns about staff: KCSIE says they are kept at least until the individual
leaves the school's employment. Here none is due while the member of staff is active; once
they are not, their concerns are due together six years after the latest concern about
them was raised (six years is the limitation period for most civil claims, the usual
period for a leaver's personnel records; all of one person's concerns go together, so a
pattern is never kept in part). No leaving date is recorded, so the latest concern's date
stands in for it: the DSL checks that the person has left before asking for a disposal.
An escalated concern is part of the allegation it became and goes with that incident,
under the allegation rule.

The allegation is dated by the report (`reported_at`): the incident records when the
allegation flag was raised only in its history.
"""

from __future__ import annotations

import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from compliance.models import Learner, StaffMember
from compliance.retention import (
    RetentionRule,
    add_years,
    allegation_due,
    allegation_latest_date,
    child_protection_due,
    child_protection_latest_birth,
    register_parts,
    register_rule,
    years_before,
)
from incidents.models import Incident, Involvement, LowLevelConcern


def _learners_of() -> QuerySet:
    return Involvement.objects.filter(incident=OuterRef("pk"), learner__isnull=False)


def _with_latest_birth(incidents: QuerySet) -> QuerySet:
    """Annotate the date of birth of the youngest learner involved (None if none is)."""
    youngest = (
        _learners_of().order_by("-learner__date_of_birth").values("learner__date_of_birth")[:1]
    )
    return incidents.annotate(latest_learner_birth=Subquery(youngest))


def _latest_birth(incident: Incident) -> datetime.date | None:
    if hasattr(incident, "latest_learner_birth"):
        return incident.latest_learner_birth
    # a record fetched without the annotation (a disposal locks the plain row)
    return (
        Involvement.objects.filter(incident=incident, learner__isnull=False)
        .order_by("-learner__date_of_birth")
        .values_list("learner__date_of_birth", flat=True)
        .first()
    )


def describe_incident(incident: Incident) -> str:
    """A reference that names nobody: "Incident INC-2026-ABC123 (cyberbullying), 03/02/2017"."""
    category = incident.get_category_display()
    category = category[:1].lower() + category[1:]
    when = timezone.localtime(incident.occurred_at)
    return f"Incident {incident.reference} ({category}), {when:%d/%m/%Y}"


# Child protection --------------------------------------------------------------------------


def child_protection_record_due(incident: Incident) -> datetime.date:
    born = _latest_birth(incident)
    if born is None:  # the learners were removed from it since: keep it as reported
        return child_protection_due(timezone.localdate(incident.reported_at))
    return child_protection_due(born)


def child_protection_due_on(today: datetime.date) -> QuerySet:
    # "the youngest learner involved was born on or before the cutoff" is "a learner
    # born by then is involved, and no learner born after it": two id lists the database
    # reads once, rather than the youngest learner looked up for every incident ever
    # recorded (the dashboard counts these on every load)
    cutoff = child_protection_latest_birth(today)
    born_by = Involvement.objects.filter(learner__date_of_birth__lte=cutoff)
    born_after = Involvement.objects.filter(learner__date_of_birth__gt=cutoff)
    return (
        _with_latest_birth(
            Incident.objects.filter(
                staff_allegation=False, pk__in=born_by.values("incident_id")
            ).exclude(pk__in=born_after.values("incident_id"))
        )
        .filter(latest_learner_birth__lte=cutoff)
        .order_by("latest_learner_birth", "reported_at", "pk")
    )


CHILD_PROTECTION = RetentionRule(
    key="incident_child_protection",
    label="Child-protection records (incidents with a learner involved)",
    model=Incident,
    due_on=child_protection_due_on,
    due_date=child_protection_record_due,
    describe=describe_incident,
    period="Until the youngest learner involved is 25 (date of birth plus 25 years).",
    reads=(Involvement, Learner),
)


# Allegations against staff ------------------------------------------------------------------


def _allegation_date(incident: Incident) -> datetime.date:
    return timezone.localdate(incident.reported_at)


def allegation_record_due(incident: Incident) -> datetime.date:
    made = _allegation_date(incident)
    # normal pension age is not recorded: the 10-year floor stands in for it
    due = allegation_due(normal_pension_age_date=made, allegation_date=made)
    born = _latest_birth(incident)
    if born is not None:
        due = max(due, child_protection_due(born))
    return due


def allegation_due_on(today: datetime.date) -> QuerySet:
    last_day = allegation_latest_date(today)
    # reported on or before `last_day`, in school time
    before = timezone.make_aware(
        datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min)
    )
    return (
        _with_latest_birth(Incident.objects.filter(staff_allegation=True, reported_at__lt=before))
        .filter(
            Q(latest_learner_birth__isnull=True)
            | Q(latest_learner_birth__lte=child_protection_latest_birth(today))
        )
        .order_by("reported_at", "pk")
    )


ALLEGATION = RetentionRule(
    key="incident_staff_allegation",
    label="Allegations against staff (normal pension age is not recorded: the 10-year floor "
    "is applied; check the pension age before disposal)",
    model=Incident,
    due_on=allegation_due_on,
    due_date=allegation_record_due,
    describe=describe_incident,
    period="10 years from the allegation, or to the member's normal pension age if longer "
    "(not recorded here); and, if a learner is involved, until the youngest is 25.",
    reads=(Involvement, Learner),
)


# Low-level concerns about staff ---------------------------------------------------------

LOW_LEVEL_CONCERN_YEARS = 6


def _latest_about_staff() -> Subquery:
    latest = (
        LowLevelConcern.objects.filter(staff=OuterRef("staff"))
        .order_by("-raised_at")
        .values("raised_at")[:1]
    )
    return Subquery(latest)


def low_level_concern_due(concern: LowLevelConcern) -> datetime.date:
    latest = (
        LowLevelConcern.objects.filter(staff_id=concern.staff_id)
        .order_by("-raised_at")
        .values_list("raised_at", flat=True)
        .first()
    ) or concern.raised_at
    return add_years(timezone.localdate(latest), LOW_LEVEL_CONCERN_YEARS)


def low_level_concerns_due_on(today: datetime.date) -> QuerySet:
    last_day = years_before(today, LOW_LEVEL_CONCERN_YEARS)
    before = timezone.make_aware(
        datetime.datetime.combine(last_day + datetime.timedelta(days=1), datetime.time.min)
    )
    return (
        LowLevelConcern.objects.filter(staff__active=False)
        .exclude(status=LowLevelConcern.Status.ESCALATED)
        .annotate(latest_about_staff=_latest_about_staff())
        .filter(latest_about_staff__lt=before)
        .order_by("latest_about_staff", "staff_id", "raised_at", "pk")
    )


def describe_concern(concern: LowLevelConcern) -> str:
    """ "Low-level concern LLC-2026-ABC123, raised 03/02/2017": no one named."""
    return (
        f"Low-level concern {concern.reference}, raised "
        f"{timezone.localtime(concern.raised_at):%d/%m/%Y}"
    )


LOW_LEVEL_CONCERNS = RetentionRule(
    key="low_level_concern",
    label="Low-level concerns about staff (once the member of staff has left)",
    model=LowLevelConcern,
    due_on=low_level_concerns_due_on,
    due_date=low_level_concern_due,
    describe=describe_concern,
    period="At least until the member of staff leaves (KCSIE); then six years from the latest "
    "concern about them, all of theirs together. Escalated ones go with the allegation.",
    reads=(StaffMember,),
)


def _concern_of(incident: Incident) -> list:
    return list(LowLevelConcern.objects.filter(incident=incident))


def register() -> None:
    """Add the incidents' retention rules (from IncidentsConfig.ready)."""
    register_rule(CHILD_PROTECTION)
    register_rule(ALLEGATION)
    register_rule(LOW_LEVEL_CONCERNS)
    # an escalated concern is part of its allegation: it goes with it, and first (it
    # refers to the incident)
    register_parts(Incident, _concern_of)
