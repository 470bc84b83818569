"""The roles of the policy, as Django groups (created by a data migration)."""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import models


class Role(models.TextChoices):
    DSL = "dsl", "Designated Safeguarding Lead"
    DEPUTY_DSL = "deputy_dsl", "Deputy DSL"
    HEADTEACHER = "headteacher", "Headteacher"
    OFFICE = "office", "School office"
    STAFF = "staff", "Staff"
    GOVERNOR = "governor", "Governor"


# Roles whose holders act for the DSL (the policy: "the DSL (or a deputy)").
SAFEGUARDING_LEADS = frozenset({Role.DSL, Role.DEPUTY_DSL})
# Roles that see the whole school's community records.
SENIOR = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER})


def role_groups(roles: Iterable[str]) -> list[Group]:
    """The groups for these roles. The data migration makes them; this also survives a
    database flushed since (test teardown, a restore of a partial dump)."""
    return [Group.objects.get_or_create(name=Role(role).value)[0] for role in roles]
