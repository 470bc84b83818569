"""Who may do what to which record: the one place that answers it.

Views call `visible`, `get_for_view` or `get_for_edit` first; templates ask the
`may_*` questions through the context the views give them. A user with no role
that reaches a kind of record gets PermissionDenied (403); a user who may see
some records of a kind, but not this one, gets 404, so a record's existence is
not disclosed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from compliance.models import (
    FilterDecision,
    FilteringReview,
    FormClass,
    Learner,
    MonitoringAlert,
    ParentCarer,
    PolicyCommunication,
    RelationshipDeclaration,
    School,
    StaffMember,
    Visit,
    Visitor,
)
from compliance.roles import Role

_SENIOR = {Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER}
_ALL_ROLES = frozenset(Role)


def has_role(user, *roles: Role) -> bool:
    if not user.is_authenticated:
        return False
    return bool(user.roles.intersection(roles))


def has_any_role(user) -> bool:
    return user.is_authenticated and bool(user.roles)


@dataclass(frozen=True)
class Rule:
    """Who may see and change one kind of record.

    `view_all` see every record; `view_own` see only those tied to them (their
    classes, their learners); `edit` create and change records.
    """

    view_all: frozenset[Role]
    edit: frozenset[Role]
    view_own: frozenset[Role] = frozenset()


RULES: dict[type[Model], Rule] = {
    School: Rule(view_all=_ALL_ROLES, edit=frozenset({Role.DSL, Role.HEADTEACHER})),
    StaffMember: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset({Role.DSL, Role.HEADTEACHER, Role.OFFICE}),
    ),
    FormClass: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset({Role.DSL, Role.HEADTEACHER, Role.OFFICE}),
        view_own=frozenset({Role.STAFF}),
    ),
    Learner: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset({Role.DSL, Role.HEADTEACHER, Role.OFFICE}),
        view_own=frozenset({Role.STAFF}),
    ),
    ParentCarer: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset({Role.DSL, Role.HEADTEACHER, Role.OFFICE}),
        view_own=frozenset({Role.STAFF}),
    ),
    Visitor: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset(_SENIOR | {Role.OFFICE}),
    ),
    Visit: Rule(
        view_all=frozenset(_SENIOR | {Role.OFFICE}),
        edit=frozenset(_SENIOR | {Role.OFFICE}),
    ),
    # pre-existing relationships (section 5): staff see their own declarations; the DSL and
    # the headteacher record the discussion; governors and the office see none
    RelationshipDeclaration: Rule(
        view_all=frozenset(_SENIOR),
        edit=frozenset({Role.DSL, Role.HEADTEACHER}),
        view_own=frozenset({Role.STAFF}),
    ),
    # filtering and monitoring (KCSIE 2023, the DSL leads): the DSL, deputies and the
    # headteacher; governors see the annual review only as counts in the governors' report;
    # staff and the office none. Reviewing an alert is the DSL's (or a deputy's):
    # compliance.filtering.may_review_alert
    FilteringReview: Rule(view_all=frozenset(_SENIOR), edit=frozenset(_SENIOR)),
    FilterDecision: Rule(view_all=frozenset(_SENIOR), edit=frozenset(_SENIOR)),
    MonitoringAlert: Rule(view_all=frozenset(_SENIOR), edit=frozenset(_SENIOR)),
    # when and how each version was told to staff, pupils and parents: on the policy page
    PolicyCommunication: Rule(view_all=_ALL_ROLES, edit=frozenset(_SENIOR)),
}


def _rule(model: type[Model]) -> Rule:
    try:
        return RULES[model]
    except KeyError:
        raise PermissionDenied(f"No access rule for {model.__name__}.") from None


def may_view_kind(user, model: type[Model]) -> bool:
    rule = _rule(model)
    return has_role(user, *rule.view_all) or has_role(user, *rule.view_own)


def may_edit_kind(user, model: type[Model]) -> bool:
    return has_role(user, *_rule(model).edit)


def _own(user, model: type[Model]) -> QuerySet:
    """Records tied to this user through the classes they teach."""
    staff = StaffMember.objects.filter(user=user, active=True)
    if model is FormClass:
        return FormClass.objects.filter(teachers__in=staff).distinct()
    if model is Learner:
        return Learner.objects.filter(form_class__teachers__in=staff, left__isnull=True).distinct()
    if model is ParentCarer:
        return ParentCarer.objects.filter(
            learners__form_class__teachers__in=staff, learners__left__isnull=True
        ).distinct()
    if model is RelationshipDeclaration:
        return RelationshipDeclaration.objects.filter(staff__in=staff)
    return model.objects.none()


def visible(user, model: type[Model]) -> QuerySet:
    """Every record of this kind the user may see; PermissionDenied if none could be."""
    rule = _rule(model)
    if has_role(user, *rule.view_all):
        return model.objects.all()
    if has_role(user, *rule.view_own):
        return _own(user, model)
    raise PermissionDenied("Your role does not give access to these records.")


def get_for_view(user, model: type[Model], pk, queryset: QuerySet | None = None) -> Model:
    qs = queryset if queryset is not None else visible(user, model)
    if queryset is not None:
        # the caller's queryset (with its select_related) is narrowed to what the user may see
        qs = queryset.filter(pk__in=visible(user, model).values("pk"))
    try:
        return qs.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No such {model._meta.verbose_name}.") from None


def get_for_edit(user, model: type[Model], pk, queryset: QuerySet | None = None) -> Model:
    if not may_edit_kind(user, model):
        if may_view_kind(user, model):
            # make sure the record is one they may know of before saying "not allowed"
            get_for_view(user, model, pk)
        raise PermissionDenied(f"Your role may not change {model._meta.verbose_name_plural}.")
    return get_for_view(user, model, pk, queryset)


def require_edit_kind(user, model: type[Model]) -> None:
    if not may_edit_kind(user, model):
        raise PermissionDenied(f"Your role may not add {model._meta.verbose_name_plural}.")


# Questions that are not about one kind of record.


def may_import(user) -> bool:
    """The DSL and the office load learners and staff from the MIS."""
    return has_role(user, Role.DSL, Role.OFFICE)


def may_manage_logins(user) -> bool:
    """Logins and roles are given by the DSL and the headteacher."""
    return has_role(user, Role.DSL, Role.HEADTEACHER)


def may_view_audit(user) -> bool:
    """The DSL sees all audit history (DESIGN: roles)."""
    return has_role(user, Role.DSL)


def may_export_subject_access(user) -> bool:
    """Everything held on one person leaves the school only through the DSL."""
    return has_role(user, Role.DSL)


def may_view_history(user, obj: Model) -> bool:
    """A record's history: the DSL always; others who may change that kind of record.

    The caller has already fetched `obj` through `get_for_view`.
    """
    return has_role(user, Role.DSL) or may_edit_kind(user, type(obj))
