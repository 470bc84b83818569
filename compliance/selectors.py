"""Reads that several views share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Prefetch

from compliance.models import PolicyVersion, School, StaffMember, User
from compliance.roles import Role


@dataclass(frozen=True)
class KeyContact:
    role: str
    name: str
    job_title: str


def current_policy() -> PolicyVersion | None:
    """The policy version in force: the latest adopted one, else the latest written."""
    return PolicyVersion.objects.order_by(
        F("adopted").desc(nulls_last=True), "-date_written", "-pk"
    ).first()


def request_policy(request) -> PolicyVersion | None:
    """The policy version in force, read once per request."""
    if not hasattr(request, "_policy"):
        request._policy = current_policy()
    return request._policy


def request_school(request) -> School | None:
    """The school's row, read once per request."""
    if not hasattr(request, "_school"):
        request._school = School.current()
    return request._school


def key_contacts(school: School | None) -> list[KeyContact]:
    """The policy's key details, derived from who holds the roles."""
    wanted = [Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER]
    users = (
        User.objects.filter(is_active=True, groups__name__in=wanted)
        .select_related("staff_member")
        .prefetch_related(Prefetch("groups"))
        .distinct()
        .order_by("last_name", "first_name")
    )
    contacts: list[KeyContact] = []
    by_role: dict[str, list[KeyContact]] = {role: [] for role in wanted}
    for user in users:
        staff = getattr(user, "staff_member", None)
        name = staff.full_name if staff else str(user)
        title = staff.job_title if staff else ""
        for group in user.groups.all():
            if group.name in by_role:
                by_role[group.name].append(KeyContact(Role(group.name).label, name, title))
    for role in wanted:
        contacts.extend(by_role[role])
    governor: StaffMember | None = school.safeguarding_lead_governor if school else None
    if governor is not None:
        contacts.append(
            KeyContact("Safeguarding lead governor", governor.full_name, governor.job_title)
        )
    return contacts
