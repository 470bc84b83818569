"""Writes with a rule or more than one row. Keyword-only arguments, one function each."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model

from compliance.audit_db import create_with_history
from compliance.models import Acknowledgement, RecordAccess, StaffMember, User
from compliance.roles import role_groups
from compliance.selectors import current_policy
from compliance.transitions import Refused


@transaction.atomic
def staff_set_login(
    *,
    staff: StaffMember,
    username: str,
    roles: Iterable[str],
    password: str | None = None,
) -> User:
    """Create or update the login of a staff member and set exactly these roles.

    The roles are Django groups; a user may hold several. Group changes are kept
    in the user's history (the `groups` many-to-many is tracked).
    """
    staff = (
        StaffMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=staff.pk)
    )
    user = staff.user
    if user is None:
        user = User(username=username)
    user.username = username
    user.first_name = staff.first_name
    user.last_name = staff.last_name
    user.email = staff.email or user.email
    user.is_active = staff.active
    if password:
        user.set_password(password)
    elif user.pk is None:
        user.set_unusable_password()
    user.save()
    user.groups.set(role_groups(set(roles)))
    if staff.user_id != user.pk:
        staff.user = user
        staff.save(update_fields=["user"])
    user._roles_cache = None
    return user


@transaction.atomic
def staff_save(*, staff: StaffMember) -> StaffMember:
    """Save a staff member; one who is no longer active loses their login at once.

    Their sessions end on their next request (the authentication middleware refuses an
    inactive user).
    """
    staff.save()
    user = staff.user
    if user is not None and user.is_active != staff.active:
        user.is_active = staff.active
        user.save(update_fields=["is_active"])
    return staff


def record_access_log(*, user: User, record: Model, action: str = RecordAccess.Action.VIEW) -> None:
    """Log one read of a confidential record: who, what, when (never its content). The
    entry and its history row are written together (one statement on PostgreSQL)."""
    entry = RecordAccess(
        user=user,
        action=action,
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=str(record.pk),
    )
    create_with_history(entry, by=user)


@transaction.atomic
def acknowledgement_record(*, staff: StaffMember, kind: str, by: User) -> Acknowledgement:
    """A staff member acknowledges the current policy or the acceptable use policy.

    They acknowledge for themselves (it is their word that they have read it); the current
    policy version is recorded with it, so a new version can ask again.
    """
    if staff.user_id != by.pk:
        raise Refused("Staff acknowledge the policy for themselves, from their own login.")
    if not staff.active:
        raise Refused("Only active staff acknowledge the policy.")
    kind = Acknowledgement.Kind(kind)
    return Acknowledgement.objects.create(
        staff=staff, kind=kind, policy_version=current_policy(), recorded_by=by
    )
