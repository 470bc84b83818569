"""Reads that several views share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import BooleanField, F, Model, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from compliance.models import Acknowledgement, PolicyVersion, School, StaffMember, User
from compliance.roles import Role


def joined(queryset: QuerySet, names: Sequence[str]) -> QuerySet:
    """`queryset` with the relations `names` joined. Given no names, `select_related()`
    joins every non-null relation there is, and theirs in turn: then nothing is joined."""
    return queryset.select_related(*names) if names else queryset


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


def acknowledgement_threshold() -> PolicyVersion | None:
    """The latest version marked as a material change: acknowledging it, or any version
    written after it, is acknowledging the policy in force. None when no version exists."""
    return (
        PolicyVersion.objects.filter(material_change=True).order_by("-date_written", "-pk").first()
        or PolicyVersion.objects.order_by("date_written", "pk").first()
    )


def acknowledgements_in_force(kind: str) -> QuerySet:
    """Acknowledgements of `kind` that still count: made for the threshold version or a
    later one (a version that changed no rule does not ask again)."""
    threshold = acknowledgement_threshold()
    if threshold is None:
        return Acknowledgement.objects.none()
    return Acknowledgement.objects.filter(
        kind=kind, policy_version__date_written__gte=threshold.date_written
    )


def acknowledgement_due(*, kind: str, staff=None, visitor=None) -> bool:
    """Whether this staff member or visitor must acknowledge (again) now."""
    if staff is None and visitor is None:
        raise ValueError("Say whose acknowledgement this is.")
    if acknowledgement_threshold() is None:
        return False
    person = {"staff": staff} if staff is not None else {"visitor": visitor}
    return not acknowledgements_in_force(kind).filter(**person).exists()


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


# the lookups `rows_exist` understands, as SQL
_EXISTS_LOOKUPS = {"exact": "= %s", "lt": "< %s"}


def _matching(meta, where: dict[str, object], quote) -> tuple[list[str], list[object]]:
    """SQL conditions for `where` (`field`, `field__lt` or `field__isnull`) on `meta`'s
    table: its own columns, quoted; the values as parameters."""
    conditions, params = [], []
    for lookup, value in where.items():
        name, _, kind = lookup.partition("__")
        column = quote(meta.get_field(name).column)
        if kind == "isnull":
            conditions.append(f"{column} IS {'' if value else 'NOT '}NULL")
        else:
            conditions.append(f"{column} {_EXISTS_LOOKUPS[kind or 'exact']}")
            params.append(value)
    return conditions, params


def rows_exist(checks: Sequence[tuple[type[Model], dict[str, object]]]) -> list[bool]:
    """For each (model, lookups), whether the model has a row that matches, in one query
    of indexed EXISTS lookups. The pages that read one query for each kind of record a
    person or an incident may have ask this first, and read nothing of the kinds there are
    none of: the ORM takes longer to build a query than the database to run one (issue 8).

    Lookups are a field (`{"learner": pk}`), `field__lt` or `field__isnull` (True)."""
    if not checks:
        return []
    connection = connections[router.db_for_read(checks[0][0])]
    quote = connection.ops.quote_name
    lookups, params = [], []
    for model, where in checks:
        conditions, values = _matching(model._meta, where, quote)
        params += values
        # tables and columns are the models' own, quoted; the values are parameters
        lookups.append(
            f"EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} "  # noqa: S608
            f"WHERE {' AND '.join(conditions)})"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(lookups), params)
        return [bool(found) for found in cursor.fetchone()]


def has_rows(model: type[Model], link: str, **where: object) -> RawSQL:
    """An annotation: whether the row has rows of `model` pointing to it by the foreign
    key `link` and matching `where` (as `rows_exist`'s lookups). The same EXISTS as the
    ORM's `Exists(model.objects.filter(link=OuterRef("pk"), ...))`, which took 0.2 ms a
    page longer to build (issue 8). For the model `link` points to, queried as itself
    (its table not joined twice)."""
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    field = model._meta.get_field(link)
    outer = field.related_model._meta
    if outer.db_table == model._meta.db_table:  # its columns would name the outer row's
        raise ValueError(f"has_rows cannot look for {model.__name__} rows from their own table")
    conditions, params = _matching(model._meta, where, quote)
    target = f"{quote(outer.db_table)}.{quote(field.target_field.column)}"
    conditions.insert(0, f"{quote(field.column)} = {target}")
    # S608, S611: tables and columns are the models' own, quoted; the values are parameters
    table = quote(model._meta.db_table)
    sql = f"EXISTS (SELECT 1 FROM {table} WHERE {' AND '.join(conditions)})"  # noqa: S608
    return RawSQL(sql, params, output_field=BooleanField())  # noqa: S611
