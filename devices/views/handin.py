"""The daily hand-in register (policy section 6).

The register follows the school's approach to pupils' phones (the school's details, set
by the headteacher). Where phones are handed in to the class teacher (the policy's own
approach), learners hand their devices in at the start of the day, switched off, and collect
them as they leave; where they are handed in to the office, the office records the hand-ins
and collections. Under either, a teacher records the exceptions: a learner who kept a phone
back, or was seen using one. With lockers, sealed pouches, no phones on site, or phones kept
unseen, nothing is handed in: the teacher records only the day's exceptions. A learner with
an exemption in force is shown as exempt, not as missing.

A teacher keeps the register of their class; the office, the DSL team and the headteacher
may keep any class's, and see the whole school for any day. Every action is a POST that
works without JavaScript (redirect back to the register) and, through htmx, swaps the
learner's row in place.

Each row shows its next step (the tap that records the hand-in, then the collection); its
other actions (record an exception, undo, correct "switched off") are folded, and fetched
when the fold is opened (`row_actions`, htmx), or without script by the register with that
row open (`?open=`). A refused folded action comes back with them open and what was typed.

The register of a class reads a fixed number of rows however long the school has used it:
the learners on roll, their exemptions in force, that day's hand-ins and exceptions, and
the parents and carers of those whose device waits to be collected (by the (learner, day),
(day, collected_at) and (day, learner) indexes). It reads values, not records, where it only
shows names (issue 8).
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.views.decorators.http import require_GET, require_POST

from compliance import access as community_access
from compliance.access import has_role
from compliance.dashboard import Panel, register_panel
from compliance.listing import short_day, url_maker
from compliance.models import FormClass, Learner, ParentCarer, PhoneApproach, Relationship
from compliance.params import key_from
from compliance.policy import RULES as POLICY_RULES
from compliance.roles import Role
from compliance.selectors import has_rows, request_school
from compliance.transitions import Refused
from devices import services
from devices.access import (
    SENIOR,
    get_register_class,
    may_see_uncollected,
    may_see_whole_school_register,
    register_classes_for,
    staff_member_of,
)
from devices.forms import HandInExceptionForm
from devices.models import EXCEPTION_KINDS, HAND_IN_APPROACHES, Exemption, HandIn, HandInException

# Days ------------------------------------------------------------------------------


class BadDay(ValueError):
    """The date asked for is not one the register can show; str() says why."""


def _long(day: datetime.date) -> str:
    return dateformat.format(day, "l j F Y")


def _parse_day(raw: str | None, *, allow_future: bool = False) -> datetime.date:
    """The day in `?date=` (or a form's `date`): today when absent; never in the future."""
    today = timezone.localdate()
    raw = (raw or "").strip()
    if not raw:
        return today
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise BadDay(f"“{raw[:20]}” is not a date: choose one with the date picker.") from None
    if day > today and not allow_future:
        raise BadDay(
            f"{_long(day)} is in the future: the register is kept for today or an earlier "
            "day, never ahead."
        )
    return day


def _on_roll(day: datetime.date, prefix: str = "") -> Q:
    """Learners on roll on `day`: joined by then and not left before it."""
    return Q(**{f"{prefix}joined__lte": day}) & (
        Q(**{f"{prefix}left__isnull": True}) | Q(**{f"{prefix}left__gte": day})
    )


def _day_context(day: datetime.date | None, raw: str = "", error: str = "") -> dict:
    today = timezone.localdate()
    shown = day or today
    return {
        "day": day,
        "today": today,
        "is_today": day == today,
        "date_value": raw if error else shown.isoformat(),
        "day_iso": day.isoformat() if day else "",
        "date_error": error,
        "previous_day": (shown - datetime.timedelta(days=1)).isoformat()
        if shown > datetime.date.min
        else "",
        "next_day": (shown + datetime.timedelta(days=1)).isoformat() if shown < today else "",
    }


def _with_date(url: str, day: datetime.date, anchor: str = "") -> str:
    return f"{url}?{urlencode({'date': day.isoformat()})}{anchor}"


# Counts per class -------------------------------------------------------------------


@dataclass
class ClassDay:
    """One class on one day: how many on roll, handed in, collected."""

    form_class: FormClass | None  # None for the whole school's totals
    on_roll: int
    handed_in: int = 0
    not_switched_off: int = 0
    collected: int = 0
    exempt: int = 0
    exceptions: int = 0

    @property
    def uncollected(self) -> int:
        return self.handed_in - self.collected

    @property
    def not_recorded(self) -> int:
        return max(self.on_roll - self.handed_in, 0)


class _Unlikely(Func):
    """A condition SQLite's planner is told is rarely true (its `unlikely()`); unchanged on
    other databases. Told nothing, SQLite looks up a learner's exemptions in force by the
    (status, ends) index, reading every active exemption for each learner on the register,
    rather than by (learner, status): a millisecond a page at the scale of ten years."""

    function = "unlikely"
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.get_source_expressions()[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, **extra_context)


def _in_force(day: datetime.date) -> Q:
    """An exemption in force on `day`: active, and `day` within its dates."""
    return Q(_Unlikely(Q(status=Exemption.Status.ACTIVE)), starts__lte=day, ends__gte=day)


def _exemption_in_force(day: datetime.date) -> QuerySet:
    """The active exemptions covering `day` of the learner in the outer query."""
    return Exemption.objects.filter(_in_force(day), learner=OuterRef("pk")).order_by("ends", "pk")


def _count_of(queryset: QuerySet, group: str) -> Coalesce:
    """A correlated count for an annotation (no extra query, none per row)."""
    counted = queryset.order_by().values(group).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _class_days(classes: QuerySet, day: datetime.date) -> list[ClassDay]:
    """The counts of each class on `day`, in two queries however many classes and days:
    the classes with their learners on roll, those exempt and the day's exceptions counted,
    and that day's hand-ins grouped."""
    exempt = Learner.objects.filter(
        _on_roll(day), Exists(_exemption_in_force(day)), form_class=OuterRef("pk")
    )
    exceptions = HandInException.objects.filter(day=day, learner__form_class=OuterRef("pk"))
    rows = [
        ClassDay(
            form_class=form_class,
            on_roll=form_class.on_roll_that_day,
            exempt=form_class.exempt_that_day,
            exceptions=form_class.exceptions_that_day,
        )
        for form_class in classes.annotate(
            on_roll_that_day=Count("learners", filter=_on_roll(day, "learners__")),
            exempt_that_day=_count_of(exempt, "form_class"),
            exceptions_that_day=_count_of(exceptions, "learner__form_class"),
        ).order_by("year_group", "name")
    ]
    by_class = {row.form_class.pk: row for row in rows}
    if not by_class:
        return rows
    counts = (
        HandIn.objects.filter(day=day, learner__form_class__in=list(by_class))
        .values("learner__form_class")
        .annotate(
            handed_in=Count("pk"),
            not_switched_off=Count("pk", filter=Q(switched_off=False)),
            collected=Count("collected_at"),
        )
        .order_by()
    )
    for count in counts:
        row = by_class[count["learner__form_class"]]
        row.handed_in = count["handed_in"]
        row.not_switched_off = count["not_switched_off"]
        row.collected = count["collected"]
    return rows


def _totals(rows: list[ClassDay]) -> ClassDay:
    total = ClassDay(form_class=None, on_roll=sum(r.on_roll for r in rows))
    total.handed_in = sum(r.handed_in for r in rows)
    total.not_switched_off = sum(r.not_switched_off for r in rows)
    total.collected = sum(r.collected for r in rows)
    total.exempt = sum(r.exempt for r in rows)
    total.exceptions = sum(r.exceptions for r in rows)
    return total


# One class's register ---------------------------------------------------------------


@dataclass(slots=True)
class DayHandIn:
    """A learner's hand-in on the register's day, as the register shows it: read as values,
    for the register needs the names of who received, released and collected it, not their
    records."""

    day: datetime.date
    handed_in_at: datetime.datetime
    switched_off: bool
    collected_at: datetime.datetime | None
    received_by: str  # as str(User) has it
    released_by: str
    collected_by_parent: str  # "Name (role)", or "" when the learner collected it

    @property
    def collected(self) -> bool:
        return self.collected_at is not None

    def __getitem__(self, name: str):
        # the template language tries item access before attributes: answering it spares a
        # failed lookup for each of the hundreds of variables a register writes
        return getattr(self, name)


@dataclass(slots=True)
class OnRoll:
    """A learner on the register: what it shows of them (read as values, not records)."""

    pk: int
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Row:
    """One learner on the register: their hand-in that day (or none) and who may collect."""

    learner: OnRoll | Learner
    hand_in: DayHandIn | None
    exceptions: list[HandInException] = field(default_factory=list)
    parent_options: list[tuple[str, str]] = field(default_factory=list)  # pk, "Name (role)"
    exempt: bool = False  # an exemption in force that day
    exempt_device: str = ""
    exempt_until: str = ""  # "7 Sep 2026"
    saved: str = ""
    error: str = ""
    # What the row writes, set by `_prepare`. A register draws 30 rows of several forms each,
    # and the template's own lookups, filters and URL reversals cost more than the Python.
    pk: str = ""
    name: str = ""  # "Last, First"
    full_name: str = ""  # escaped once here: the row writes it several times
    mark_url: str = ""
    collect_url: str = ""
    handed_in_time: str = ""
    collected_time: str = ""  # with the day when collected on another day
    collected_by: str = ""  # "Name (role)", or the learner
    # The row's secondary actions (record an exception, undo, correct "switched off") are
    # folded: `more_label` names them ("" when there are none) and `more_url` fetches them
    # when the fold is opened. Only an open row (`open`) has them drawn, with what is below.
    more_label: str = ""
    more_url: str = ""
    open: bool = False
    may_undo: bool = False
    may_correct: bool = False
    undo_url: str = ""
    exception_url: str = ""
    open_kinds: list[tuple[str, str, str, bool]] = field(default_factory=list)  # +id, checked
    typed_details: str = ""  # the exception's details as typed, after a refusal

    def __getitem__(self, name: str):
        return getattr(self, name)  # as DayHandIn's

    @property
    def kept_back(self) -> bool:
        return any(e.kind == HandInException.Kind.NOT_HANDED_IN for e in self.exceptions)

    @property
    def collected_another_day(self) -> bool:
        hand_in = self.hand_in
        return bool(
            hand_in
            and hand_in.collected_at
            and timezone.localdate(hand_in.collected_at) != hand_in.day
        )


@dataclass
class Register:
    form_class: FormClass
    day: datetime.date
    rows: list[Row]

    @property
    def counts(self) -> ClassDay:
        counts = ClassDay(form_class=self.form_class, on_roll=len(self.rows))
        hand_ins = [row.hand_in for row in self.rows if row.hand_in]
        counts.handed_in = len(hand_ins)
        counts.not_switched_off = sum(1 for h in hand_ins if not h.switched_off)
        counts.collected = sum(1 for h in hand_ins if h.collected)
        counts.exempt = sum(1 for row in self.rows if row.exempt)
        counts.exceptions = sum(len(row.exceptions) for row in self.rows)
        return counts

    @property
    def not_recorded(self) -> list[OnRoll]:
        """Learners with nothing recorded: not those exempt (they are not missing), nor
        those recorded as keeping a phone back."""
        return [
            row.learner
            for row in self.rows
            if row.hand_in is None and not row.exempt and not row.kept_back
        ]


# as get_relationship_display() has it, without building the choices again for each parent
_RELATIONSHIPS = {value: label.lower() for value, label in Relationship.choices}


def _parent_label(first_name: str, last_name: str, relationship: str) -> str:
    role = _RELATIONSHIPS.get(relationship, relationship.lower())
    return f"{first_name} {last_name} ({role})"


def _user_name(first_name: str, last_name: str, username: str) -> str:
    """As str(User) has it: the full name, or the username."""
    return f"{first_name} {last_name}".strip() or username


def _exemptions_in_force(day: datetime.date, learner_ids: list[int]) -> dict[int, tuple]:
    """Each learner's exemption in force that day, the one ending first: (ends, device).
    One query for the register, rather than a correlated subquery for each column."""
    found: dict[int, tuple] = {}
    in_force = (
        Exemption.objects.filter(_in_force(day), learner_id__in=learner_ids)
        .order_by()
        .values_list("learner_id", "ends", "category__name", "pk")
    )
    for learner_id, ends, device, _ in _sorted(in_force, 1, 3):  # by ends, then pk
        found.setdefault(learner_id, (ends, device))
    return found


def _sorted(rows, *positions: int) -> list:
    """Rows of values sorted here by the values at `positions`, names as a reader sorts
    them ("de Souza" with the Ds, "Élodie" with the Es: case and accents aside). The
    register's queries ask for no order: Django takes longer to compile an ORDER BY over
    a query's values than Python takes to sort a class's rows (issue 8), and the order is
    then the same whatever the database's collation."""
    return sorted(rows, key=lambda row: [_sort_key(row[p]) for p in positions])


def _sort_key(value):
    if not isinstance(value, str):
        return value
    if value.isascii():  # most names: no accents to set aside
        return value.lower(), value
    letters = unicodedata.normalize("NFKD", value)
    plain = "".join(c for c in letters if not unicodedata.combining(c)).casefold()
    return plain, value  # as written, where two differ only in case or accents


def _parent_options(learner_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """The parents and carers of each learner, as the collection form offers them."""
    found: dict[int, list[tuple[str, str]]] = {}
    links = (
        ParentCarer.learners.through.objects.filter(learner_id__in=learner_ids)
        .order_by()
        .values_list(
            "learner_id",
            "parentcarer_id",
            "parentcarer__first_name",
            "parentcarer__last_name",
            "parentcarer__relationship",
        )
    )
    # by last name, first name, then pk
    for learner_id, parent_id, first_name, last_name, relationship in _sorted(links, 3, 2, 1):
        found.setdefault(learner_id, []).append(
            (str(parent_id), _parent_label(first_name, last_name, relationship))
        )
    return found


# What the register reads of a learner's hand-in that day (joined to the learner: there is
# at most one a day), and of who received, released and collected it.
_HAND_IN_VALUES = (
    "handed_in_at",
    "switched_off",
    "collected_at",
    "received_by__first_name",
    "received_by__last_name",
    "received_by__username",
    "released_by__first_name",
    "released_by__last_name",
    "released_by__username",
    "collected_by_parent__first_name",
    "collected_by_parent__last_name",
    "collected_by_parent__relationship",
)


def _day_hand_in(day: datetime.date, values: tuple) -> DayHandIn | None:
    """The hand-in from `_HAND_IN_VALUES` read with the learner; None when there is none."""
    at, switched_off, collected_at, *received, r1, r2, r3, p1, p2, p3 = values
    if at is None:
        return None
    return DayHandIn(
        day=day,
        handed_in_at=at,
        switched_off=switched_off,
        collected_at=collected_at,
        received_by=_user_name(*received),
        released_by=_user_name(r1, r2, r3) if r3 else "",
        collected_by_parent=_parent_label(p1, p2, p3) if p3 else "",
    )


def _exceptions(day: datetime.date, learner_ids: list[int]) -> dict[int, list[HandInException]]:
    found: dict[int, list[HandInException]] = {}
    for exception in (
        HandInException.objects.filter(day=day, learner_id__in=learner_ids)
        .select_related("recorded_by")
        .order_by("recorded_at", "pk")
    ):
        found.setdefault(exception.learner_id, []).append(exception)
    return found


def _register(
    form_class: FormClass, day: datetime.date, *, with_parents: bool, only: int | None = None
) -> Register:
    """Every learner on roll in the class that day (or the one learner `only`) with their
    hand-in that day and whether they have an exception that day, then any exemption in
    force: two queries; one more for the exceptions on a day there are any (most have
    none), and one for the parents and carers the collection form offers (read only when a
    device is waiting to be collected)."""
    on_roll = form_class.learners.filter(_on_roll(day))
    if only is not None:
        on_roll = on_roll.filter(pk=only)
    learners, hand_ins, excepted = [], {}, []
    rows = (
        on_roll.annotate(
            that_day=FilteredRelation("hand_ins", condition=Q(hand_ins__day=day)),
            has_exception=has_rows(HandInException, "learner", day=day),
        )
        .order_by()
        .values_list(
            "pk",
            "first_name",
            "last_name",
            "has_exception",
            *(f"that_day__{v}" for v in _HAND_IN_VALUES),
        )
    )
    # by last name, first name, then pk
    for pk, first_name, last_name, has_exception, *hand_in in _sorted(rows, 2, 1, 0):
        learners.append(OnRoll(pk, first_name, last_name))
        if (found := _day_hand_in(day, hand_in)) is not None:
            hand_ins[pk] = found
        if has_exception:
            excepted.append(pk)
    if not learners:
        return Register(form_class=form_class, day=day, rows=[])
    exemptions = _exemptions_in_force(day, [learner.pk for learner in learners])
    exceptions = _exceptions(day, excepted) if excepted else {}
    waiting = [pk for pk, hand_in in hand_ins.items() if not hand_in.collected]
    parents = _parent_options(waiting) if with_parents and waiting else {}
    rows = []
    for learner in learners:
        pk = learner.pk
        row = Row(
            learner=learner,
            hand_in=hand_ins.get(pk),
            exceptions=exceptions.get(pk, []),
            parent_options=parents.get(pk, []),
        )
        exemption = exemptions.get(pk)
        if exemption:
            row.exempt = True
            row.exempt_device = exemption[1]
            row.exempt_until = short_day(exemption[0])
        rows.append(row)
    return Register(form_class=form_class, day=day, rows=rows)


# What the register asks for under each approach: said on the page, above the learners.
APPROACH_NOTES = {
    PhoneApproach.HAND_IN_TEACHER: (
        "Phones are handed in to the class teacher on arrival, switched off, and collected "
        "at home time. Record each one, and any exception: a learner who kept a phone back "
        "or was seen using one."
    ),
    PhoneApproach.HAND_IN_OFFICE: (
        "Phones are handed in to the office on arrival: the office records each one and "
        "who collects it. Record any exception in the class: a learner who kept a phone "
        "back or was seen using one."
    ),
    PhoneApproach.LOCKER: (
        "Phones are kept in lockers all day. Record only the day's exceptions: a learner who "
        "did not lock their phone away, or whose phone was seen, heard or used. Everyone "
        "else is taken to have followed the approach."
    ),
    PhoneApproach.POUCH: (
        "Phones are kept in sealed pouches all day. Record only the day's exceptions: a "
        "learner whose phone was not in a sealed pouch, or was seen, heard or used. "
        "Everyone else is taken to have followed the approach."
    ),
    PhoneApproach.NOT_ALLOWED: (
        "Phones are not allowed on site. Record only the day's exceptions: a phone brought "
        "in, found or handed over."
    ),
    PhoneApproach.KEPT_UNSEEN: (
        "Pupils keep their phones, never used, seen or heard (out of step with the January "
        "2026 guidance). Record only the day's exceptions: a phone seen, heard or used."
    ),
}


def _approach_context(request: HttpRequest) -> dict:
    """The school's approach, and what this user records under it."""
    school = request_school(request)
    approach = school.phone_approach if school else PhoneApproach.HAND_IN_TEACHER
    kinds = EXCEPTION_KINDS[approach]
    return {
        "approach": approach,
        "approach_label": PhoneApproach(approach).label,
        "approach_note": APPROACH_NOTES[approach],
        "hand_in_approach": approach in HAND_IN_APPROACHES,
        "records_hand_ins": services.may_record_hand_ins(request.user, approach),
        # collection of a device already handed in stays open when the approach changes,
        # except that where the office keeps phones only the office releases them
        "may_collect": services.may_collect_hand_ins(request.user, approach),
        "exception_kinds": [(kind, HandInException.Kind(kind).label) for kind in kinds],
    }


def _action_urls() -> dict[str, Callable[[object], str]]:
    """The URL of each action on a row, for a learner's (or exception's) number: reversed
    once for the page rather than for each row."""
    return {
        name: url_maker(f"devices:handin_{name}")
        for name in ("mark", "undo", "collect", "exception", "exception_withdraw", "actions")
    }


# What a row's folded actions are called, by what they hold: (an exception to record, undo,
# correct "switched off").
_MORE_LABELS = {
    (True, False, False): "Record an exception",
    (True, True, False): "Record an exception or undo",
    (True, True, True): "Record an exception, undo or correct",
    (False, True, False): "Undo",
    (False, True, True): "Undo or correct",
    (False, False, False): "",
}


@dataclass
class Typed:
    """What was sent for a row's folded actions and refused: the row comes back with them
    open and this filled in."""

    learner_pk: int
    kind: str = ""
    details: str = ""


def _prepare(
    rows: list[Row],
    day: datetime.date,
    approach: dict,
    *,
    open_pk: int | None = None,
    typed: Typed | None = None,
) -> None:
    """Set what the row template writes (see `Row`). The folded actions are made only for
    the row that is open."""
    urls = _action_urls()
    date_query = "?" + urlencode({"date": day.isoformat()})
    kinds = approach["exception_kinds"]
    may_collect, records_hand_ins = approach["may_collect"], approach["records_hand_ins"]
    not_handed_in = HandInException.Kind.NOT_HANDED_IN
    for row in rows:
        learner, hand_in = row.learner, row.hand_in
        pk = row.pk = str(learner.pk)
        row.name = f"{learner.last_name}, {learner.first_name}"
        row.full_name = escape(learner.full_name)
        for exception in row.exceptions:
            exception.withdraw_url = urls["exception_withdraw"](exception.pk)
        # the exceptions still to record for this learner: not one already recorded, nor
        # "kept a phone back" once the phone is handed in
        recorded = {exception.kind for exception in row.exceptions}
        if hand_in is not None:
            recorded.add(not_handed_in)
        open_kinds = [] if row.exempt else [k for k in kinds if k[0] not in recorded]
        if hand_in is None:
            row.mark_url = urls["mark"](pk)
        elif not hand_in.collected:
            row.collect_url = urls["collect"](pk)
            row.mark_url = urls["mark"](pk)
            row.may_undo = may_collect
            row.may_correct = may_collect and records_hand_ins
            row.handed_in_time = timezone.localtime(hand_in.handed_in_at).strftime("%H:%M")
        else:
            collected_at = timezone.localtime(hand_in.collected_at)
            row.collected_time = collected_at.strftime("%H:%M")
            if row.collected_another_day:
                month = dateformat.format(collected_at, "M")
                row.collected_time += f" on {collected_at.day} {month}"
            row.collected_by = hand_in.collected_by_parent or "the learner"
        row.more_label = _MORE_LABELS[(bool(open_kinds), row.may_undo, row.may_correct)]
        row.more_url = urls["actions"](pk) + date_query
        if learner.pk != open_pk:
            continue
        row.open = True
        row.undo_url = urls["undo"](pk)
        row.exception_url = urls["exception"](pk)
        chosen = typed.kind if typed and typed.learner_pk == learner.pk else ""
        if chosen not in {kind for kind, _ in open_kinds}:
            chosen = open_kinds[0][0] if open_kinds else ""
        row.open_kinds = [
            (kind, label, f"exception-{pk}-{n}", kind == chosen)
            for n, (kind, label) in enumerate(open_kinds, start=1)
        ]
        if typed and typed.learner_pk == learner.pk:
            row.typed_details = typed.details


def _register_context(
    request: HttpRequest,
    register: Register,
    *,
    open_pk: int | None = None,
    typed: Typed | None = None,
) -> dict:
    approach = _approach_context(request)
    _prepare(register.rows, register.day, approach, open_pk=open_pk, typed=typed)
    return {
        "form_class": register.form_class,
        "register": register,
        "counts": register.counts,
        "csrf_input": csrf_input(request),
        "uncollected_url": _with_date(reverse("devices:handin_uncollected"), register.day),
        **approach,
    }


def _with_typed(error: str, typed: Typed | None) -> str:
    """A refusal, with the details that were typed (when the form they were typed in may not
    come back to hold them)."""
    if typed is None or not typed.details.strip():
        return error
    return f"{error} What you wrote: “{typed.details.strip()}”"


def _register_url(form_class_pk: int, day: datetime.date, open_pk: int | None = None) -> str:
    """The register of a class on a day; with a learner's folded actions open (`open_pk`),
    scrolled to their row."""
    url = reverse("devices:handin_class", args=[form_class_pk])
    if open_pk is None:
        return _with_date(url, day)
    query = urlencode({"date": day.isoformat(), "open": open_pk})
    return f"{url}?{query}#learner-{open_pk}"


# the session key that carries what was typed in a row's folded actions, when a refusal is
# answered without script by a redirect back to the register (as messages are carried)
_TYPED_KEY = "handin_typed"


def _opened(
    request: HttpRequest, day: datetime.date, kept: object
) -> tuple[int | None, Typed | None]:
    """The row whose folded actions the register opens (`?open=`, the fold's link without
    script, or a refusal's redirect), and what was typed there before that refusal (`kept`,
    taken from the session by the register whatever it shows: it is used once, for the
    learner and day it was typed for)."""
    open_pk = key_from(request.GET.get("open"))
    if open_pk is None:
        return None, None
    typed = None
    if (
        isinstance(kept, dict)
        and kept.get("learner_pk") == open_pk
        and kept.get("day") == day.isoformat()
    ):
        typed = Typed(open_pk, str(kept.get("kind", "")), str(kept.get("details", "")))
    return open_pk, typed


@require_GET
def class_register(request: HttpRequest, pk: int) -> HttpResponse:
    form_class = get_register_class(request.user, pk)
    # what was typed before a refusal, carried here by its redirect: taken whatever this
    # page shows, so that it is never left in the session
    kept = request.session.pop(_TYPED_KEY, None)
    raw = request.GET.get("date", "")
    context = {
        "form_class": form_class,
        "policy_rule": POLICY_RULES["hand_in"],
        "may_see_whole_school": may_see_whole_school_register(request.user),
    }
    try:
        day = _parse_day(raw)
    except BadDay as bad:
        context.update(_day_context(None, raw, str(bad)))
        return render(request, "devices/handin_class.html", context, status=400)
    open_pk, typed = _opened(request, day, kept)
    register = _register(form_class, day, with_parents=True)
    context.update(_day_context(day))
    context.update(_register_context(request, register, open_pk=open_pk, typed=typed))
    return render(request, "devices/handin_class.html", context)


# Actions -----------------------------------------------------------------------------


def _learner_for(user, pk: int) -> Learner:
    """A learner in a class whose register this user keeps: 403 for a role that keeps no
    register, 404 for a learner outside the user's classes."""
    try:
        return (
            Learner.objects.select_related("form_class")
            .filter(form_class__in=register_classes_for(user))
            .get(pk=pk)
        )
    except Learner.DoesNotExist:
        raise Http404("No such learner.") from None


def _posted_day(request: HttpRequest) -> datetime.date:
    # a date in the future is left to the transition functions to refuse
    return _parse_day(request.POST.get("date"), allow_future=True)


def _bad_date(bad: BadDay) -> HttpResponse:
    # only a tampered form gets here; plain text, as the message repeats what was sent
    return HttpResponseBadRequest(str(bad), content_type="text/plain; charset=utf-8")


def _require_on_roll(learner: Learner, day: datetime.date) -> None:
    on_roll = learner.joined <= day and (learner.left is None or learner.left >= day)
    if not on_roll:
        raise Refused(f"{learner} was not on roll on {_long(day)}.")


def _row_response(
    request: HttpRequest,
    learner: Learner,
    day: datetime.date,
    *,
    saved: str = "",
    error: str = "",
    typed: Typed | None = None,
) -> HttpResponse:
    """After one tap. htmx: the learner's row, with the class's counts, the "mark all" form
    and the confirmation swapped in out of band. Otherwise: a message and back to the row.
    A refusal of one of the row's folded actions (`typed`) comes back with them open and
    what was typed filled in."""
    if not request.htmx:
        if error:
            messages.error(request, _with_typed(error, typed))
        else:
            messages.success(request, saved)
        if typed is None:
            url = reverse("devices:handin_class", args=[learner.form_class_id])
            return redirect(_with_date(url, day, f"#learner-{learner.pk}"))
        if typed.kind or typed.details:
            request.session[_TYPED_KEY] = {
                "learner_pk": learner.pk,
                "day": day.isoformat(),
                "kind": typed.kind,
                "details": typed.details,
            }
        return redirect(_register_url(learner.form_class_id, day, open_pk=learner.pk))
    register = _register(learner.form_class, day, with_parents=True)
    row = next((row for row in register.rows if row.learner.pk == learner.pk), None)
    if row is None:
        # not on roll that day: the row is drawn for the error alone
        row = Row(learner=learner, hand_in=None)
        _prepare([row], day, _approach_context(request))
        row.more_label = ""
    open_pk = learner.pk if typed is not None else None
    register_context = _register_context(request, register, open_pk=open_pk, typed=typed)
    # what was typed goes back in the form; with no form to hold it (an exemption approved
    # meanwhile, say), it is said with the refusal so that it can be copied
    row.saved = saved
    row.error = _with_typed(error, typed) if error and not row.open_kinds else error
    context = {
        **_day_context(day),
        **register_context,
        "rows": [row],
        "oob": True,
        "saved": saved,
        "error": error,
    }
    return render(request, "devices/handin_row_response.html", context)


@require_POST
def mark(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap: the learner's device is handed in (and switched off, unless said not)."""
    learner = _learner_for(request.user, pk)
    try:
        day = _posted_day(request)
    except BadDay as bad:
        return _bad_date(bad)
    switched_off = request.POST.get("switched_off", "1") != "0"
    # the tap sends no "switched_off"; the correction, folded with the row's other actions,
    # does
    correction = Typed(learner.pk) if "switched_off" in request.POST else None
    try:
        _require_on_roll(learner, day)
        hand_in = services.hand_in_mark(
            learner=learner, day=day, by=request.user, switched_off=switched_off
        )
    except Refused as refused:
        return _row_response(request, learner, day, error=str(refused), typed=correction)
    at = timezone.localtime(hand_in.handed_in_at).strftime("%H:%M")
    state = "switched off" if hand_in.switched_off else "NOT switched off"
    saved = f"Saved: {learner}'s device handed in at {at}, {state}."
    return _row_response(request, learner, day, saved=saved)


@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    """A tap made in error, before collection. The history keeps that it happened."""
    learner = _learner_for(request.user, pk)
    try:
        day = _posted_day(request)
    except BadDay as bad:
        return _bad_date(bad)
    try:
        hand_in = HandIn.objects.filter(learner=learner, day=day).order_by("pk").first()
        if hand_in is None:
            raise Refused(f"{learner}'s device is not recorded as handed in on {_long(day)}.")
        services.hand_in_unmark(hand_in=hand_in, by=request.user)
    except Refused as refused:
        return _row_response(request, learner, day, error=str(refused), typed=Typed(learner.pk))
    saved = f"Undone: {learner}'s device is no longer recorded as handed in."
    return _row_response(request, learner, day, saved=saved)


def _chosen_parent(request: HttpRequest) -> ParentCarer | None:
    """The parent or carer picked, among those this user may see; the transition function
    checks that they hold parental responsibility for the learner."""
    chosen = key_from(request.POST.get("parent"))
    if chosen is None:
        return None
    visible = community_access.visible(request.user, ParentCarer)
    return visible.filter(pk=chosen).first()


@require_POST
def collect(request: HttpRequest, pk: int) -> HttpResponse:
    """At home time: collected by the learner, or by a named parent or carer."""
    learner = _learner_for(request.user, pk)
    try:
        day = _posted_day(request)
    except BadDay as bad:
        return _bad_date(bad)
    collected_by = request.POST.get("collected_by", "")
    try:
        hand_in = HandIn.objects.filter(learner=learner, day=day).order_by("pk").first()
        if hand_in is None:
            raise Refused(f"{learner}'s device was not handed in on {_long(day)}.")
        parent = None
        if collected_by == HandIn.CollectedBy.PARENT_CARER:
            parent = _chosen_parent(request)
        hand_in = services.hand_in_collect(
            hand_in=hand_in, collected_by=collected_by, by=request.user, parent=parent
        )
    except Refused as refused:
        return _row_response(request, learner, day, error=str(refused))
    at = timezone.localtime(hand_in.collected_at).strftime("%H:%M")
    who = f"{parent} ({parent.get_relationship_display().lower()})" if parent else "the learner"
    saved = f"Saved: {learner}'s device collected by {who} at {at}."
    return _row_response(request, learner, day, saved=saved)


@require_POST
def record_exception(request: HttpRequest, pk: int) -> HttpResponse:
    """An exception for one learner that day, of the kinds the school's approach has."""
    learner = _learner_for(request.user, pk)
    try:
        day = _posted_day(request)
    except BadDay as bad:
        return _bad_date(bad)
    form = HandInExceptionForm(request.POST, kinds=tuple(HandInException.Kind.values))
    typed = Typed(
        learner.pk,
        kind=request.POST.get("kind", "")[:40],
        details=request.POST.get("details", "")[:300],
    )
    try:
        _require_on_roll(learner, day)
        if not form.is_valid():
            problems = [str(e) for errors in form.errors.values() for e in errors]
            raise Refused("Say what happened. " + " ".join(problems))
        exception = services.hand_in_exception_record(
            learner=learner,
            day=day,
            kind=form.cleaned_data["kind"],
            details=form.cleaned_data["details"],
            by=request.user,
        )
    except Refused as refused:
        return _row_response(request, learner, day, error=str(refused), typed=typed)
    saved = f"Saved: exception for {learner}: {exception.get_kind_display().lower()}."
    return _row_response(request, learner, day, saved=saved)


@require_POST
def withdraw_exception(request: HttpRequest, pk: int) -> HttpResponse:
    """An exception recorded in error. The history keeps that it was recorded."""
    try:
        exception = (
            HandInException.objects.select_related("learner__form_class")
            .filter(learner__form_class__in=register_classes_for(request.user))
            .get(pk=pk)
        )
    except HandInException.DoesNotExist:
        raise Http404("No such exception.") from None
    learner, day = exception.learner, exception.day
    try:
        services.hand_in_exception_withdraw(exception=exception, by=request.user)
    except Refused as refused:
        return _row_response(request, learner, day, error=str(refused))
    saved = f"Withdrawn: the exception for {learner} ({exception.get_kind_display().lower()})."
    return _row_response(request, learner, day, saved=saved)


@require_GET
def row_actions(request: HttpRequest, pk: int) -> HttpResponse:
    """A row's folded actions (record an exception, undo, correct "switched off"), fetched
    when the fold is opened (htmx); without script, the register with them open. For a
    learner on roll that day in a class whose register this user keeps."""
    learner = _learner_for(request.user, pk)
    try:
        day = _parse_day(request.GET.get("date"))
        _require_on_roll(learner, day)
    except BadDay as bad:
        return _bad_date(bad)
    except Refused as refused:
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    if not request.htmx:
        return redirect(_register_url(learner.form_class_id, day, open_pk=learner.pk))
    register = _register(learner.form_class, day, with_parents=False, only=learner.pk)
    approach = _approach_context(request)
    _prepare(register.rows, day, approach, open_pk=learner.pk)
    context = {
        "row": register.rows[0],
        "day_iso": day.isoformat(),
        "csrf_input": csrf_input(request),
        **approach,
    }
    return render(request, "devices/handin_row_more.html", context)


@require_POST
def mark_class(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the chosen learners' devices (those not yet recorded when the page was drawn)
    handed in and switched off, in a constant number of queries."""
    form_class = get_register_class(request.user, pk)
    try:
        day = _posted_day(request)
    except BadDay as bad:
        return _bad_date(bad)
    chosen = [key for key in map(key_from, request.POST.getlist("learner")) if key is not None]
    learners = form_class.learners.filter(_on_roll(day), pk__in=chosen).order_by()
    saved = error = ""
    try:
        if not chosen:
            raise Refused("No learners were chosen: every learner is already recorded.")
        marked = services.hand_in_mark_class(
            form_class=form_class, day=day, by=request.user, learners=learners
        )
    except Refused as refused:
        error = str(refused)
    else:
        if marked:
            n = len(marked)
            saved = (
                f"Saved: {n} device{'' if n == 1 else 's'} handed in and switched off "
                f"in {form_class}."
            )
        else:
            saved = "Nothing to save: those learners were already recorded."
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, saved)
        url = reverse("devices:handin_class", args=[form_class.pk])
        return redirect(_with_date(url, day))
    register = _register(form_class, day, with_parents=True)
    context = {
        **_day_context(day),
        **_register_context(request, register),
        "oob": True,
        "saved": saved,
        "error": error,
    }
    return render(request, "devices/handin_register_response.html", context)


# Lists: the classes, the whole school, the uncollected devices ------------------------


def _page_day(request: HttpRequest) -> tuple[datetime.date | None, dict]:
    raw = request.GET.get("date", "")
    try:
        day = _parse_day(raw)
    except BadDay as bad:
        return None, _day_context(None, raw, str(bad))
    return day, _day_context(day)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The classes whose register this user keeps, with the day's counts."""
    classes = register_classes_for(request.user)
    day, context = _page_day(request)
    context["policy_rule"] = POLICY_RULES["hand_in"]
    context["may_see_whole_school"] = may_see_whole_school_register(request.user)
    if day is None:
        return render(request, "devices/handin_index.html", context, status=400)
    context["class_days"] = _class_days(classes, day)
    context.update(_approach_context(request))
    return render(request, "devices/handin_index.html", context)


@require_GET
def school_day(request: HttpRequest) -> HttpResponse:
    """The whole school on one day: each class's counts and the totals."""
    if not may_see_whole_school_register(request.user):
        raise PermissionDenied(
            "The whole school's register is for the office, the DSL team and the headteacher."
        )
    day, context = _page_day(request)
    context["policy_rule"] = POLICY_RULES["hand_in"]
    if day is None:
        return render(request, "devices/handin_school.html", context, status=400)
    rows = _class_days(FormClass.objects.all(), day)
    context["class_days"] = rows
    context["totals"] = _totals(rows)
    context.update(_approach_context(request))
    return render(request, "devices/handin_school.html", context)


@require_GET
def uncollected(request: HttpRequest) -> HttpResponse:
    """Devices handed in on a day and not collected: the teacher's classes; the whole school
    for the office, the DSL team and the headteacher. Printable."""
    if not may_see_uncollected(request.user):
        raise PermissionDenied("Your role does not see the hand-in register.")
    classes = register_classes_for(request.user)
    day, context = _page_day(request)
    context["policy_rule"] = POLICY_RULES["hand_in"]
    context["whole_school"] = may_see_whole_school_register(request.user)
    if day is None:
        return render(request, "devices/handin_uncollected.html", context, status=400)
    context["hand_ins"] = list(
        HandIn.objects.filter(day=day, collected_at__isnull=True, learner__form_class__in=classes)
        .select_related("learner", "learner__form_class", "received_by")
        .order_by(
            "learner__form_class__year_group",
            "learner__form_class__name",
            "learner__last_name",
            "learner__first_name",
            "pk",
        )
    )
    return render(request, "devices/handin_uncollected.html", context)


urlpatterns = [
    path("handin/", index, name="handin_index"),
    path("handin/school/", school_day, name="handin_school"),
    path("handin/uncollected/", uncollected, name="handin_uncollected"),
    path("handin/classes/<int:pk>/", class_register, name="handin_class"),
    path("handin/classes/<int:pk>/hand-in-all/", mark_class, name="handin_mark_class"),
    path("handin/learners/<int:pk>/hand-in/", mark, name="handin_mark"),
    path("handin/learners/<int:pk>/undo/", undo, name="handin_undo"),
    path("handin/learners/<int:pk>/collect/", collect, name="handin_collect"),
    path("handin/learners/<int:pk>/exception/", record_exception, name="handin_exception"),
    path("handin/learners/<int:pk>/actions/", row_actions, name="handin_actions"),
    path(
        "handin/exceptions/<int:pk>/withdraw/",
        withdraw_exception,
        name="handin_exception_withdraw",
    ),
]


# Dashboard panels --------------------------------------------------------------------


def _today_panel_context(request: HttpRequest) -> dict:
    """The classes this member of staff teaches, with today's counts."""
    staff = staff_member_of(request.user)
    classes = FormClass.objects.filter(teachers=staff) if staff else FormClass.objects.none()
    return {
        "class_days": _class_days(classes, timezone.localdate()),
        "index_url": reverse("devices:handin_index"),
        "uncollected_url": reverse("devices:handin_uncollected"),
        "hand_in_approach": _approach_context(request)["hand_in_approach"],
    }


def _uncollected_panel_context(request: HttpRequest) -> dict:
    return {
        "count": HandIn.objects.filter(day=timezone.localdate(), collected_at__isnull=True).count(),
        "uncollected_url": reverse("devices:handin_uncollected"),
        "school_url": reverse("devices:handin_school"),
    }


def register_panels() -> None:
    """Dashboard panels of this area (called from DevicesConfig.ready)."""
    register_panel(
        Panel(
            key="handin_today",
            title="Today's hand-in register",
            template="devices/handin_panel_today.html",
            visible=lambda user: has_role(user, Role.STAFF),
            context=_today_panel_context,
            order=10,
        )
    )
    register_panel(
        Panel(
            key="handin_uncollected",
            title="Uncollected devices today",
            template="devices/handin_panel_uncollected.html",
            visible=lambda user: has_role(user, *SENIOR, Role.OFFICE),
            context=_uncollected_panel_context,
            reads=(HandIn,),
            order=15,
        )
    )
