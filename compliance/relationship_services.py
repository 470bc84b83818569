"""Pre-existing relationships (policy section 5): declare, discuss, re-confirm, end.

Staff never contact learners or parents from a personal device. A staff member whose
relationship with a learner or a family could make that hard declares it, for themselves;
the DSL and the headteacher discuss it with them, and the DSL or the headteacher records
the outcome and any agreed arrangement. After each review of the policy the staff member
confirms that it still applies (or ends it). One function per step, each refusing
(`Refused`) when the policy says no.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from compliance.access import has_role
from compliance.concurrency import StaleEdit
from compliance.models import (
    Learner,
    ParentCarer,
    PolicyReview,
    RelationshipDeclaration,
    StaffMember,
    User,
)
from compliance.roles import Role
from compliance.transitions import Refused

Status = RelationshipDeclaration.Status

# Who declares: every member of staff with a login and a staff role (the office and
# governors are outside the rule on contacting learners in this product; see the report).
DECLARERS = (Role.STAFF, Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
# Who sees every declaration.
READERS = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
# Who records the discussion (the policy: "discussed with the DSL and headteacher").
RECORDERS = (Role.DSL, Role.HEADTEACHER)


def may_declare(user) -> bool:
    return has_role(user, *DECLARERS)


def may_read_all(user) -> bool:
    return has_role(user, *READERS)


def may_record_discussion(user) -> bool:
    return has_role(user, *RECORDERS)


def own_staff(user) -> StaffMember | None:
    """The active staff record of this login, or None."""
    if not user.is_authenticated:
        return None
    return StaffMember.objects.filter(user=user, active=True).first()


def last_review_at() -> datetime.datetime | None:
    """When the policy was last reviewed: declarations confirmed before then are asked again."""
    return (
        PolicyReview.objects.order_by("-reviewed_at").values_list("reviewed_at", flat=True).first()
    )


def to_reconfirm(queryset: QuerySet, since: datetime.datetime | None = None) -> QuerySet:
    """Declarations still in force that nobody has confirmed since the last review."""
    since = since if since is not None else last_review_at()
    if since is None:
        return queryset.none()
    return queryset.exclude(status=Status.ENDED).filter(confirmed_at__lt=since)


def needs_reconfirming(declaration: RelationshipDeclaration) -> bool:
    since = last_review_at()
    return (
        since is not None
        and declaration.status != Status.ENDED
        and declaration.confirmed_at < since
    )


@transaction.atomic
def declaration_create(
    *, by: User, relationship_with: str, kind: str, who: str, nature: str
) -> RelationshipDeclaration:
    """A staff member declares a relationship, for themselves, from their own login."""
    if not may_declare(by):
        raise Refused("Members of staff declare their own pre-existing relationships.")
    staff = own_staff(by)
    if staff is None:
        raise Refused("Your login is not linked to an active staff record; ask the DSL.")
    who, nature = who.strip(), nature.strip()
    if not who or not nature:
        raise Refused("Say who the relationship is with and what the circumstances are.")
    return RelationshipDeclaration.objects.create(
        staff=staff,
        relationship_with=RelationshipDeclaration.With(relationship_with),
        kind=RelationshipDeclaration.Kind(kind),
        who=who,
        nature=nature,
    )


def _holds(user: User | None, *roles: Role) -> bool:
    return user is not None and user.is_active and has_role(user, *roles)


def _locked(declaration: RelationshipDeclaration, expected_version: int | None):
    current = RelationshipDeclaration.objects.select_for_update().get(pk=declaration.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(current)
    return current


@transaction.atomic
def declaration_discuss(
    *,
    declaration: RelationshipDeclaration,
    by: User,
    discussed_on: datetime.date,
    discussed_with_dsl: User,
    discussed_with_head: User,
    outcome: str,
    arrangements: str = "",
    learners: Iterable[Learner] = (),
    parents: Iterable[ParentCarer] = (),
    expected_version: int | None = None,
) -> RelationshipDeclaration:
    """Record that the declaration was discussed with the DSL and the headteacher, and what
    was agreed. A later discussion (at the next review) records a new outcome; the history
    keeps the earlier one."""
    if not may_record_discussion(by):
        raise Refused("The DSL or the headteacher records the discussion of a declaration.")
    declaration = _locked(declaration, expected_version)
    if declaration.status == Status.ENDED:
        raise Refused("This declaration no longer applies; there is nothing to discuss.")
    declarer = declaration.staff.user_id
    if by.pk == declarer:
        raise Refused("Someone other than the person who declared it records the discussion.")
    if not _holds(discussed_with_dsl, Role.DSL, Role.DEPUTY_DSL):
        raise Refused("Name the DSL (or a deputy) who took part in the discussion.")
    if not _holds(discussed_with_head, Role.HEADTEACHER):
        raise Refused("Name the headteacher who took part in the discussion.")
    if declarer in (discussed_with_dsl.pk, discussed_with_head.pk):
        raise Refused("The person who declared it cannot also be the DSL or headteacher in it.")
    if discussed_on > timezone.localdate():
        raise Refused("Record a discussion once it has taken place.")
    if discussed_on < timezone.localdate(declaration.declared_at):
        raise Refused("The discussion cannot be before the declaration was made.")
    if not outcome.strip():
        raise Refused("Record the outcome of the discussion.")
    declaration.status = Status.DISCUSSED
    declaration.discussed_on = discussed_on
    declaration.discussed_with_dsl = discussed_with_dsl
    declaration.discussed_with_head = discussed_with_head
    declaration.outcome = outcome.strip()
    declaration.arrangements = arrangements.strip()
    declaration.discussion_recorded_by = by
    declaration.version += 1
    declaration.save()
    declaration.learners.set(learners)
    declaration.parents.set(parents)
    return declaration


@transaction.atomic
def declaration_confirm(
    *, declaration: RelationshipDeclaration, by: User
) -> RelationshipDeclaration:
    """The staff member confirms, after a review of the policy, that it still applies."""
    declaration = _locked(declaration, None)
    if declaration.staff.user_id != by.pk:
        raise Refused("Only the person who declared it confirms that it still applies.")
    if declaration.status == Status.ENDED:
        raise Refused("This declaration no longer applies; make a new one if it does again.")
    declaration.confirmed_at = timezone.now()
    declaration.version += 1
    declaration.save()
    return declaration


@transaction.atomic
def declaration_end(
    *, declaration: RelationshipDeclaration, by: User, reason: str
) -> RelationshipDeclaration:
    """The relationship no longer applies: said by the staff member, the DSL or the head."""
    declaration = _locked(declaration, None)
    if declaration.staff.user_id != by.pk and not may_record_discussion(by):
        raise Refused("The person who declared it, the DSL or the headteacher ends a declaration.")
    if declaration.status == Status.ENDED:
        raise Refused("This declaration has already ended.")
    if not reason.strip():
        raise Refused("Say why the declaration no longer applies.")
    declaration.status = Status.ENDED
    declaration.ended_at = timezone.now()
    declaration.ended_by = by
    declaration.end_reason = reason.strip()
    declaration.version += 1
    declaration.save()
    return declaration


def subject_access_rows(staff: StaffMember) -> tuple[tuple[str, ...], list[tuple]]:
    """A staff member's own declarations, for their subject access export."""
    rows = [
        (
            d.reference,
            d.declared_at,
            d.get_relationship_with_display(),
            d.get_kind_display(),
            d.who,
            d.nature,
            d.get_status_display(),
            d.discussed_on,
            d.outcome,
            d.arrangements,
            d.confirmed_at,
            d.ended_at,
            d.end_reason,
        )
        for d in staff.relationship_declarations.order_by("declared_at", "pk")
    ]
    headers = (
        "Reference",
        "Declared",
        "With",
        "Relationship",
        "Who",
        "Circumstances",
        "Status",
        "Discussed on",
        "Outcome",
        "Agreed arrangements",
        "Last confirmed",
        "Ended",
        "Why it ended",
    )
    return headers, rows
