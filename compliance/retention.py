"""How long each kind of record is kept, what is due for review, and its disposal.

Each kind of record has a retention rule, registered here when its app starts (the
incidents app registers child-protection records and allegations against staff;
compliance registers the visitor log). The DSL's page and `manage.py retention_review`
list what is due. A record goes only when the DSL approves a disposal: then the record
and its history rows are deleted, and a `DisposalRecord` (naming no one) is left to say
that it existed, under which rule it went, and who asked and who approved. A record
under an open legal hold is never disposed of.

Who does what ("disposal needs the DSL's approval"): the DSL and the deputy DSLs see
what is due, ask for a disposal and place legal holds; only the DSL (role `dsl`)
approves or refuses a disposal, and lifts a legal hold, since lifting one makes the
record disposable again.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, router, transaction
from django.db.models import Exists, FileField, Model, OuterRef, QuerySet, Value
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from compliance import access
from compliance.audit_db import history_purge_allowed
from compliance.dashboard import Panel, register_panel
from compliance.models import DisposalRecord, LegalHold, User, Visit
from compliance.roles import Role


class RetentionRefused(Exception):
    """A retention step that the rules do not allow now; the message says why."""


@dataclass(frozen=True)
class RetentionRule:
    """How long one kind of record is kept.

    `due_on(today)` gives the records whose retention period has ended on or before
    `today`, oldest first with a stable order (one query; select what `describe` needs);
    `due_date(record)` the date a record's retention ends; `describe(record)` a reference
    that names no person ("Visit #12 on 03/02/2017"), kept on the DisposalRecord.
    """

    key: str
    label: str
    model: type[Model]
    due_on: Callable[[datetime.date], QuerySet]
    due_date: Callable[[Model], datetime.date]
    describe: Callable[[Model], str]
    # the rule in words, shown on the DSL's page
    period: str = ""
    # other models whose records decide which are due (a learner's date of birth)
    reads: tuple[type[Model], ...] = ()


_RULES: dict[str, RetentionRule] = {}

# Records that exist only as part of another (a visit's device agreement and its
# signatures): a higher app registers them, and they go with the record they belong to.
_PARTS: dict[type[Model], list[Callable[[Model], list[Model]]]] = {}


def register_parts(model: type[Model], parts: Callable[[Model], list[Model]]) -> None:
    """When a `model` record is disposed of, `parts(record)` go with it, in the order given
    (what refers to the others first), each with its history and its files."""
    found = _PARTS.setdefault(model, [])
    if parts not in found:
        found.append(parts)


def _parts_of(record: Model) -> list[Model]:
    return [part for parts in _PARTS.get(type(record), []) for part in parts(record)]


def register_rule(rule: RetentionRule) -> RetentionRule:
    """Add a rule (an app calls this from `AppConfig.ready`); the same key replaces it."""
    _RULES[rule.key] = rule
    return rule


def rules() -> list[RetentionRule]:
    return list(_RULES.values())


def get_rule(key: str) -> RetentionRule:
    try:
        return _RULES[key]
    except KeyError:
        raise RetentionRefused(f"There is no retention rule called {key!r}.") from None


def rules_for(model: type[Model]) -> list[RetentionRule]:
    return [rule for rule in _RULES.values() if rule.model is model]


# Dates. A birthday or anniversary on 29 February falls on 1 March in a year without
# one: of the two readings (28 February or 1 March) it is the later, so a record is
# never disposed of a day early.


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` later; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return datetime.date(day.year + years, 3, 1)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The latest date `d` with `add_years(d, years) <= day`.

    For a query: records dated on or before this are due on `day`. 29 February becomes
    28 February in a common year (1 March of that year would be due only on 1 March).
    """
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return datetime.date(day.year - years, 2, 28)


def child_protection_due(date_of_birth: datetime.date) -> datetime.date:
    """Child-protection records are kept until the learner's date of birth plus 25 years."""
    return add_years(date_of_birth, 25)


def child_protection_latest_birth(today: datetime.date) -> datetime.date:
    """Records of learners born on or before this date are due for review on `today`."""
    return years_before(today, 25)


def allegation_due(
    *, normal_pension_age_date: datetime.date, allegation_date: datetime.date
) -> datetime.date:
    """Allegations against staff: to the member's normal pension age or 10 years from the
    allegation, whichever is longer."""
    return max(normal_pension_age_date, add_years(allegation_date, 10))


def allegation_latest_date(today: datetime.date) -> datetime.date:
    """Allegations made on or before this date have passed their 10 years on `today`.

    A query for due allegations also needs `normal pension age date <= today`.
    """
    return years_before(today, 10)


# The visitor log: kept to the end of the calendar year of the visit plus six years,
# so due on 1 January of (the visit's year + 7), the year counted in school time.


def visit_due(visit: Visit) -> datetime.date:
    return datetime.date(timezone.localtime(visit.arrived).year + 7, 1, 1)


def visits_due_on(today: datetime.date) -> QuerySet:
    # due when visit year + 7 <= today's year: arrived before 1 January (today's year - 6)
    boundary = timezone.make_aware(datetime.datetime(today.year - 6, 1, 1))
    return Visit.objects.filter(arrived__lt=boundary).order_by("arrived", "pk")


def describe_visit(visit: Visit) -> str:
    return f"Visit #{visit.pk} on {timezone.localtime(visit.arrived):%d/%m/%Y}"


VISITOR_LOG = RetentionRule(
    key="visitor_log",
    label="Visitor log",
    model=Visit,
    due_on=visits_due_on,
    due_date=visit_due,
    describe=describe_visit,
    period="The end of the calendar year of the visit, plus six years.",
)


# Who may do what.


def may_view_retention(user) -> bool:
    """The DSL and the deputies see what is due, the holds and the disposals."""
    return access.has_role(user, Role.DSL, Role.DEPUTY_DSL)


def may_request_disposal(user) -> bool:
    return access.has_role(user, Role.DSL, Role.DEPUTY_DSL)


def may_decide_disposal(user) -> bool:
    """Only the DSL approves or refuses a disposal; a deputy does not act for the DSL here."""
    return access.has_role(user, Role.DSL)


def may_place_hold(user) -> bool:
    return access.has_role(user, Role.DSL, Role.DEPUTY_DSL)


def may_lift_hold(user) -> bool:
    """Lifting a hold makes a record disposable again: the DSL's decision, like a disposal."""
    return access.has_role(user, Role.DSL)


# Selectors.


def _ids_of(model: type[Model], rows: QuerySet) -> QuerySet:
    """The `object_id`s of these generic rows that point at `model`, as its primary keys."""
    meta = model._meta.concrete_model._meta
    pk = meta.pk
    while pk.is_relation:  # a child of multi-table inheritance: its parent's key
        pk = pk.target_field
    return rows.filter(
        content_type__app_label=meta.app_label, content_type__model=meta.model_name
    ).values_list(Cast("object_id", output_field=type(pk)()), flat=True)


def live_disposals() -> QuerySet:
    """Requested or carried out: a refused disposal leaves the record due again."""
    return DisposalRecord.objects.exclude(status=DisposalRecord.Status.REFUSED)


def open_holds() -> QuerySet:
    return LegalHold.objects.filter(lifted_at__isnull=True)


def due_queryset(rule: RetentionRule, *, today: datetime.date) -> QuerySet:
    """The rule's records due on `today`, less those already asked for or under a hold."""
    return (
        rule.due_on(today)
        .exclude(pk__in=_ids_of(rule.model, live_disposals()))
        .exclude(pk__in=_ids_of(rule.model, open_holds()))
    )


class DueItem(NamedTuple):
    rule: RetentionRule
    record: Model
    due: datetime.date

    @property
    def reference(self) -> str:
        return self.rule.describe(self.record)


def due_for_review(*, today: datetime.date) -> list[DueItem]:
    """Every record due for review on `today`: one query per rule, rule by rule."""
    return [
        DueItem(rule, record, rule.due_date(record))
        for rule in rules()
        for record in due_queryset(rule, today=today)
    ]


class DueList:
    """What is due, for a Paginator: counts per rule, then only the slice of the page.

    A page costs one count per rule and one query per rule the page reaches, however
    many records are due.
    """

    def __init__(self, *, today: datetime.date):
        self.parts = [(rule, due_queryset(rule, today=today)) for rule in rules()]
        self._counts: list[int] | None = None

    def counts(self) -> list[int]:
        if self._counts is None:
            self._counts = [qs.count() for _, qs in self.parts]
        return self._counts

    def count(self) -> int:
        return sum(self.counts())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("DueList is read a page at a time.")
        start, stop, _ = index.indices(self.count())
        items: list[DueItem] = []
        offset = 0
        for (rule, qs), n in zip(self.parts, self.counts(), strict=True):
            low, high = max(start - offset, 0), min(stop - offset, n)
            if low < high:
                items.extend(DueItem(rule, rec, rule.due_date(rec)) for rec in qs[low:high])
            offset += n
        return items

    def __iter__(self) -> Iterator[DueItem]:
        return iter(self[:])


def due_count(*, today: datetime.date) -> int:
    """How many records are due: one query, whatever the number of rules."""
    parts = [
        due_queryset(rule, today=today).order_by().annotate(one=Value(1)).values("one")
        for rule in rules()
    ]
    if not parts:
        return 0
    if len(parts) == 1:
        return parts[0].count()
    return parts[0].union(*parts[1:], all=True).count()


def pending_disposals() -> QuerySet:
    """Disposals awaiting the DSL, oldest first, each marked if its record is now on hold."""
    hold = open_holds().filter(
        content_type=OuterRef("content_type"), object_id=OuterRef("object_id")
    )
    return (
        DisposalRecord.objects.filter(status=DisposalRecord.Status.REQUESTED)
        .select_related("requested_by")
        .annotate(on_hold=Exists(hold))
        .order_by("requested_at", "pk")
    )


def describe_held(holds: list[LegalHold]) -> list[tuple[LegalHold, str]]:
    """Each hold with a reference to its record: one query per kind of record held."""
    wanted: dict[type[Model], set] = {}
    for hold in holds:
        model = hold.content_type.model_class()
        pk = _pk_value(model, hold.object_id) if model is not None else None
        if pk is not None and rules_for(model):
            wanted.setdefault(model, set()).add(pk)
    found = {model: model.objects.in_bulk(list(pks)) for model, pks in wanted.items()}
    described = []
    for hold in holds:
        model = hold.content_type.model_class()
        record = None
        if model in found:
            record = found[model].get(_pk_value(model, hold.object_id))
        if record is not None:
            reference = rules_for(model)[0].describe(record)
        else:
            reference = f"{hold.content_type.name.capitalize()} #{hold.object_id}"
        described.append((hold, reference))
    return described


def _pk_value(model: type[Model], object_id: str):
    try:
        return model._meta.pk.to_python(object_id)
    except ValidationError:  # a malformed id matches nothing
        return None


# Transitions. Each locks the record it concerns, so a hold placed while a disposal is
# approved waits for the other to finish and then sees it.


def _locked(model: type[Model], pk) -> Model:
    try:
        return model.objects.select_for_update().get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise RetentionRefused(f"That {model._meta.verbose_name} no longer exists.") from None


def _content_type(record: Model) -> ContentType:
    return ContentType.objects.get_for_model(type(record))


def _open_hold(record: Model) -> LegalHold | None:
    return (
        open_holds()
        .filter(content_type=_content_type(record), object_id=str(record.pk))
        .select_for_update()
        .first()
    )


@transaction.atomic
def legal_hold_place(*, record: Model, reason: str, by: User) -> LegalHold:
    """Put a record under legal hold: it cannot be disposed of until the hold is lifted."""
    if not may_place_hold(by):
        raise PermissionDenied("Only the DSL or a deputy DSL places a legal hold.")
    reason = (reason or "").strip()
    if not reason:
        raise RetentionRefused("Give the reason for the legal hold.")
    record = _locked(type(record), record.pk)
    if _open_hold(record) is not None:
        raise RetentionRefused(f"{_reference(record)} is already under a legal hold.")
    hold = LegalHold(
        content_type=_content_type(record),
        object_id=str(record.pk),
        reason=reason,
        placed_by=by,
        placed_at=timezone.now(),
    )
    hold._history_user = by
    try:
        with transaction.atomic():
            hold.save()
    except IntegrityError:
        raise RetentionRefused(f"{_reference(record)} is already under a legal hold.") from None
    return hold


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, reason: str, by: User) -> LegalHold:
    """Lift a legal hold (the DSL only); the hold stays on file with who lifted it and why."""
    if not may_lift_hold(by):
        raise PermissionDenied("Only the DSL lifts a legal hold.")
    reason = (reason or "").strip()
    if not reason:
        raise RetentionRefused("Give the reason for lifting the legal hold.")
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        raise RetentionRefused("That legal hold has already been lifted.")
    hold.lifted_by = by
    hold.lifted_at = timezone.now()
    hold.lift_reason = reason
    hold._history_user = by
    hold.save()
    return hold


def _reference(record: Model) -> str:
    matching = rules_for(type(record))
    if matching:
        return matching[0].describe(record)
    return f"{record._meta.verbose_name.capitalize()} #{record.pk}"


def _check_due(rule: RetentionRule, record: Model, today: datetime.date) -> datetime.date:
    due = rule.due_date(record)
    if due > today:
        raise RetentionRefused(
            f"{rule.describe(record)} is not due for review until {due:%d/%m/%Y}; "
            "it must be kept until then."
        )
    return due


@transaction.atomic
def disposal_request(*, record: Model, rule_key: str, by: User) -> DisposalRecord:
    """Ask the DSL to approve disposing of a record whose retention period has ended.

    The DSL or a deputy asks; refused if the record is under a legal hold, not yet due,
    or already asked for.
    """
    if not may_request_disposal(by):
        raise PermissionDenied("Only the DSL or a deputy DSL asks for a record to be disposed of.")
    rule = get_rule(rule_key)
    if type(record) is not rule.model:
        raise RetentionRefused(f"The rule '{rule.label}' is not about that kind of record.")
    record = _locked(type(record), record.pk)
    reference = rule.describe(record)
    if _open_hold(record) is not None:
        raise RetentionRefused(f"{reference} is under a legal hold and cannot be disposed of.")
    due = _check_due(rule, record, timezone.localdate())
    content_type = _content_type(record)
    live = live_disposals().filter(content_type=content_type, object_id=str(record.pk))
    if live.exists():
        raise RetentionRefused(f"A disposal of {reference} has already been asked for.")
    disposal = DisposalRecord(
        content_type=content_type,
        object_id=str(record.pk),
        reference=reference,
        rule=rule.key,
        due=due,
        requested_by=by,
        requested_at=timezone.now(),
    )
    disposal._history_user = by
    try:
        with transaction.atomic():
            disposal.save()
    except IntegrityError:
        # the constraint one_live_disposal_per_record: someone asked at the same moment
        raise RetentionRefused(f"A disposal of {reference} has already been asked for.") from None
    return disposal


@transaction.atomic
def disposal_decide(
    *, disposal: DisposalRecord, approve: bool, note: str, by: User
) -> DisposalRecord:
    """The DSL approves or refuses a disposal; approving disposes of the record at once.

    "Disposal needs the DSL's approval" is read as: only a user with the `dsl` role
    decides. A deputy DSL may ask for a disposal but not approve or refuse one.

    Approval is refused while the record is under an open legal hold or before its
    retention period has ended. On approval the record and all of its history rows are
    deleted (the personal data goes); the DisposalRecord keeps the reference, the rule,
    the due date, who asked, who approved and when. RecordAccess rows stay: they hold
    no names. A refusal needs a note saying why; the record is kept and becomes due
    for review again.
    """
    if not may_decide_disposal(by):
        raise PermissionDenied(
            "Only the DSL approves or refuses a disposal; a deputy DSL may ask for one."
        )
    note = (note or "").strip()
    disposal = DisposalRecord.objects.select_for_update().get(pk=disposal.pk)
    if disposal.status != DisposalRecord.Status.REQUESTED:
        raise RetentionRefused(
            f"The disposal of {disposal.reference} has already been decided "
            f"({disposal.get_status_display().lower()})."
        )
    if not approve:
        if not note:
            raise RetentionRefused("Give the reason for refusing the disposal.")
        _decided(disposal, DisposalRecord.Status.REFUSED, note, by)
        return disposal

    rule = get_rule(disposal.rule)
    model = disposal.content_type.model_class()
    if model is not rule.model:
        raise RetentionRefused(f"The rule '{rule.label}' is not about that kind of record.")
    record = _locked(model, _pk_value(model, disposal.object_id))
    if _open_hold(record) is not None:
        raise RetentionRefused(
            f"{disposal.reference} is under a legal hold and cannot be disposed of."
        )
    due = _check_due(rule, record, timezone.localdate())
    # the record's parts go first; if anything else still refers to the record, the
    # refusal below undoes their going too (one transaction)
    for part in _parts_of(record):
        _check_nothing_else_goes(part)
        _delete_with_history(part)
    _check_nothing_else_goes(record)
    disposal.due = due
    _decided(disposal, DisposalRecord.Status.DISPOSED, note, by)
    _delete_with_history(record)
    return disposal


def _decided(disposal: DisposalRecord, status: str, note: str, by: User) -> None:
    disposal.status = status
    disposal.decided_by = by
    disposal.decided_at = timezone.now()
    disposal.decision_note = note
    disposal._history_user = by
    disposal.save()


def _check_nothing_else_goes(record: Model) -> None:
    """Refuse if deleting the record would delete, or is blocked by, other records.

    Another record going with it would leave no DisposalRecord of its own and keep its
    history; those records must be reviewed under their own rule first. Links of a
    many-to-many field go with the record.
    """
    model = type(record)
    collector = Collector(using=router.db_for_write(model, instance=record))
    try:
        collector.collect([record])
    except (ProtectedError, RestrictedError) as exc:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        raise RetentionRefused(
            f"{_reference(record)} is still referred to by other records ({', '.join(kinds)}); "
            "those must be dealt with first."
        ) from None
    itself = {model, *model._meta.get_parent_list()}
    others = {
        str(kind._meta.verbose_name_plural)
        for kind, objs in collector.data.items()
        if not kind._meta.auto_created
        and any(kind not in itself or obj.pk != record.pk for obj in objs)
    }
    others |= {
        str(qs.model._meta.verbose_name_plural)
        for qs in collector.fast_deletes
        if not qs.model._meta.auto_created and qs.exists()
    }
    if others:
        raise RetentionRefused(
            f"Disposing of {_reference(record)} would also delete {', '.join(sorted(others))}; "
            "those must be reviewed under their own rule first."
        )


def _delete_with_history(record: Model) -> None:
    model = type(record)
    pk = record.pk
    # its files (a signature's paper scan) are personal data too: removed once the
    # disposal is committed, never when a later refusal undoes it
    for field in model._meta.concrete_fields:
        name = getattr(record, field.name).name if isinstance(field, FileField) else ""
        if name:
            storage = field.storage
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name))
    # deleting the record writes one more history row (a snapshot of it): delete the
    # record first, then every history row, that one included
    record.delete()
    # on PostgreSQL the history tables refuse DELETE unless this block allows it
    # (SET LOCAL vrps.allow_history_purge = 'on', switched off again on the way out)
    with history_purge_allowed(router.db_for_write(model)):
        model.history.filter(id=pk).delete()


# The dashboard panel.


def _panel_context(request) -> dict:
    return {
        # the records due, all rules in one query
        "due": due_count(today=timezone.localdate()),
        # the disposals awaiting the DSL
        "pending": DisposalRecord.objects.filter(status=DisposalRecord.Status.REQUESTED).count(),
        "url": reverse("compliance:retention_review"),
    }


def _panel_reads() -> set[type[Model]]:
    """What the panel's counts depend on: disposals, holds, and each rule's records."""
    return {DisposalRecord, LegalHold} | {m for rule in rules() for m in (rule.model, *rule.reads)}


def register() -> None:
    """Compliance's own rule and the DSL's dashboard panel (from ComplianceConfig.ready)."""
    register_rule(VISITOR_LOG)
    register_panel(
        Panel(
            key="retention",
            title="Retention",
            template="compliance/retention_panel.html",
            visible=may_view_retention,
            context=_panel_context,
            reads=_panel_reads,
            order=40,
        )
    )
