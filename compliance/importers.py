"""Load learners (with their class and parents/carers) and staff from a CSV export of the MIS.

Each import has two phases. The first reads every row, builds the records it
would write (unsaved) and checks them with the models' own rules
(`full_clean`), collecting every problem with its line and column. Only if no
row has a problem, and the caller did not ask for a dry run, does the second
phase save them, in one transaction: a file is imported whole or not at all.

Every write is an ordinary `.save()` (or a many-to-many `.add()`), so
simple-history keeps a history row for each change, naming the importing user.
The column reference for people preparing files is `docs/import-format.md`.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, transaction

from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    Relationship,
    StaffMember,
    StaffType,
    User,
    YearGroup,
)

CHANGE_REASON = "Imported from the MIS"

# What the services accept: the file's bytes (UTF-8, a BOM is fine), its decoded text,
# an open file in either mode, or the file's lines.
Source = bytes | str | IO[bytes] | IO[str] | Iterable[str]

LEARNER_REQUIRED = ("upn", "first_name", "last_name", "date_of_birth", "year_group", "class")
CONTACT_FIELDS = ("first_name", "last_name", "relationship", "phone", "email")
CONTACT_SLOTS = (1, 2)
LEARNER_OPTIONAL = ("joined", "left") + tuple(
    f"contact{slot}_{name}" for slot in CONTACT_SLOTS for name in CONTACT_FIELDS
)
STAFF_REQUIRED = ("staff_id", "first_name", "last_name", "staff_type")
STAFF_OPTIONAL = ("email", "job_title", "active")

# Cell values echoed back in error messages are cut short: a stray 100 kB field
# should give a readable message, not fill the page.
_ECHO_LIMIT = 40


class ImportKind(models.TextChoices):
    LEARNERS = "learners", "Learners, their classes and parents/carers"
    STAFF = "staff", "Staff"


@dataclass(frozen=True)
class RowError:
    """One problem: `line` is the physical line in the CSV (the header is line 1);
    `column` is the CSV column it concerns, or "" when it concerns the whole row or file."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    """What an import did, or (dry run, or any error) what it would have done."""

    kind: str
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    classes_created: int = 0
    contacts_created: int = 0
    contacts_updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def saved(self) -> bool:
        return self.ok and not self.dry_run

    @property
    def summary(self) -> str:
        if self.errors:
            lines = len({error.line for error in self.errors})
            return (
                f"{_plural(len(self.errors), 'problem')} on {_plural(lines, 'line')} "
                f"of the {self.kind} file; nothing was saved."
            )
        noun = "learner" if self.kind == ImportKind.LEARNERS else "staff member"
        if self.dry_run:
            text = (
                f"Checked {_plural(self.rows, 'row')}, nothing saved: "
                f"{_plural(self.created, noun)} to create, {self.updated} to update, "
                f"{self.unchanged} unchanged"
            )
            if self.kind == ImportKind.LEARNERS:
                text += (
                    f"; {_plural(self.classes_created, 'new class', 'new classes')}; "
                    f"{_plural(self.contacts_created, 'parent/carer', 'parents/carers')} "
                    f"to add, {self.contacts_updated} to update"
                )
            return text + "."
        text = (
            f"Imported {_plural(self.rows, 'row')}: {_plural(self.created, noun)} created, "
            f"{self.updated} updated, {self.unchanged} unchanged"
        )
        if self.kind == ImportKind.LEARNERS:
            text += (
                f"; {_plural(self.classes_created, 'class', 'classes')} created; "
                f"{_plural(self.contacts_created, 'parent/carer', 'parents/carers')} "
                f"created, {self.contacts_updated} updated"
            )
        return text + "."


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    if count == 1:
        return f"1 {singular}"
    return f"{count} {plural or singular + 's'}"


class _FileProblem(Exception):
    """The file as a whole cannot be read; no row is looked at."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.error = RowError(line=line, column="", message=message)


# Reading the file


def _text_of(source: Source) -> str:
    if hasattr(source, "read"):
        source = source.read()
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode(bytes(source))
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    # lines, as iterating over a text file gives them (with or without their line endings)
    return "\n".join(line.rstrip("\r\n") for line in source).removeprefix("\ufeff")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _FileProblem(
            1,
            "The file is saved as UTF-16 (Excel's 'Unicode text'). "
            "Save it as 'CSV UTF-8 (comma delimited)' and try again.",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _FileProblem(
            line,
            f"The file is not UTF-8 text (the first character that is not is on line {line}). "
            "Save it as 'CSV UTF-8 (comma delimited)' and try again.",
        ) from None


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _records(
    source: Source, *, required: tuple[str, ...], optional: tuple[str, ...]
) -> tuple[set[str], list[tuple[int, dict[str, str]]]]:
    """The columns present and the data rows, each with the line it starts on.

    Only the columns we know are kept, stripped of surrounding spaces; blank rows
    (spreadsheets export trailing ",,,,") are skipped but still counted as lines.
    """
    text = _text_of(source)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise _FileProblem(
            line, f"Line {line} contains a NUL character: this does not look like a CSV file."
        )
    if not text.strip():
        raise _FileProblem(1, "The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    known = set(required) | set(optional)
    columns: dict[str, int] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    last_line = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if not columns and not rows:
                columns = _header(record, start=start, known=known, required=required)
                continue
            rows.append(
                (
                    start,
                    {
                        name: record[index].strip() if index < len(record) else ""
                        for name, index in columns.items()
                    },
                )
            )
    except csv.Error as exc:
        raise _FileProblem(
            last_line + 1, f"The CSV cannot be read from line {last_line + 1}: {exc}."
        ) from None
    if not rows:
        raise _FileProblem(1, "The file has a header row but no data rows.")
    return set(columns), rows


def _header(
    record: list[str], *, start: int, known: set[str], required: tuple[str, ...]
) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(record):
        name = _normalise_header(cell)
        if name not in known:
            continue
        if name in columns:
            raise _FileProblem(start, f"The column {name} appears twice in the header row.")
        columns[name] = index
    missing = [name for name in required if name not in columns]
    if missing:
        raise _FileProblem(
            start,
            f"The header row (line {start}) lacks the column(s) {', '.join(missing)}. "
            f"It must have {', '.join(required)}.",
        )
    return columns


# Reading cells


def _echo(value: str) -> str:
    if len(value) > _ECHO_LIMIT:
        return f"“{value[:_ECHO_LIMIT]}…”"
    return f"“{value}”"


def _squash(value: str) -> str:
    return re.sub(r"[\s\-_]+", "", value.lower())


def _date(value: str) -> datetime.date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{_echo(value)} is not a date; use DD/MM/YYYY or YYYY-MM-DD.")


def _choice_lookup(
    choices: type[models.TextChoices], aliases: dict[str, str] | None = None
) -> dict[str, str]:
    lookup = {}
    for value, label in choices.choices:
        lookup[_squash(value)] = value
        lookup[_squash(str(label))] = value
    for alias, value in (aliases or {}).items():
        lookup[_squash(alias)] = value
    return lookup


_YEAR_GROUPS = _choice_lookup(
    YearGroup,
    {"rec": "R", "yr": "R", "year r": "R"}
    | {f"{prefix}{n}": str(n) for prefix in ("y", "yr") for n in range(1, 7)},
)
_RELATIONSHIPS = _choice_lookup(
    Relationship,
    {
        "mum": Relationship.MOTHER,
        "dad": Relationship.FATHER,
        "step mother": Relationship.STEP_PARENT,
        "step father": Relationship.STEP_PARENT,
        "grandmother": Relationship.GRANDPARENT,
        "grandfather": Relationship.GRANDPARENT,
    },
)
_STAFF_TYPES = _choice_lookup(StaffType)
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def _choice(value: str, lookup: dict[str, str], what: str, allowed: str) -> str:
    try:
        return lookup[_squash(value)]
    except KeyError:
        raise ValueError(f"{_echo(value)} is not {what}; use {allowed}.") from None


def _labels(choices: type[models.TextChoices]) -> str:
    return ", ".join(str(label) for label in choices.labels)


class _Row:
    """Collects one row's problems and the model fields that already failed to parse,
    so `full_clean` is not asked about them again."""

    def __init__(self, line: int, errors: list[RowError]):
        self.line = line
        self.errors = errors
        self.count_before = len(errors)
        self.bad_fields: set[str] = set()

    @property
    def failed(self) -> bool:
        return len(self.errors) > self.count_before

    def error(self, column: str, message: str, *, model_field: str | None = None) -> None:
        self.errors.append(RowError(self.line, column, message))
        if model_field:
            self.bad_fields.add(model_field)

    def parse(self, column: str, model_field: str, parser: Callable[[], object]) -> object:
        try:
            return parser()
        except ValueError as exc:
            self.error(column, str(exc), model_field=model_field)
            return None

    def clean(self, instance: models.Model, columns: dict[str, str]) -> None:
        """The model's own rules; `columns` names the CSV column for each model field."""
        try:
            instance.full_clean(exclude=self.bad_fields)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                column = "" if name == NON_FIELD_ERRORS else columns.get(name, name)
                for message in messages:
                    self.error(column, message)


def _snapshot(instance: models.Model) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def _save(instance: models.Model, user: User | None) -> None:
    # simple-history takes the user from the instance before the request, so the
    # command (no request) names the importer too
    instance._history_user = user
    instance._change_reason = CHANGE_REASON
    instance.save()


def _key(row: _Row, value: str, column: str, seen: dict[str, int]) -> bool:
    """Whether this row's key is given and not on an earlier line."""
    label = {"upn": "UPN", "staff_id": "staff ID"}[column]
    if not value:
        row.error(column, f"The {label} is required: it is how rows are matched to records.")
        return False
    if value in seen:
        row.error(column, f"{_echo(value)} is also on line {seen[value]}; each row needs its own.")
        return False
    seen[value] = row.line
    return True


# Learners


@dataclass
class _ContactPlan:
    parent: ParentCarer
    created: bool
    changed: bool


@dataclass
class _LearnerPlan:
    learner: Learner
    created: bool
    changed: bool
    new_class: FormClass | None = None
    contacts: list[_ContactPlan] = field(default_factory=list)


_LEARNER_COLUMNS = {
    "mis_id": "upn",
    "first_name": "first_name",
    "last_name": "last_name",
    "date_of_birth": "date_of_birth",
    "year_group": "year_group",
    "form_class": "class",
    "joined": "joined",
    "left": "left",
}


class _Classes:
    """The classes rows refer to: existing ones, and those this file would create."""

    def __init__(self):
        self.by_name = {c.name: c for c in FormClass.objects.all()}
        self.by_lower: dict[str, list[FormClass]] = {}
        for form_class in self.by_name.values():
            self.by_lower.setdefault(form_class.name.lower(), []).append(form_class)
        self.new: dict[str, tuple[FormClass, int]] = {}

    def resolve(
        self, row: _Row, name: str, year_group: str | None
    ) -> tuple[FormClass | None, bool]:
        """The class named on this row, and whether this import creates it."""
        if not year_group:
            # the year group's own error explains the row; the class cannot be checked
            row.bad_fields.add("form_class")
            return None, False
        existing = self.by_name.get(name)
        if existing is None and len(self.by_lower.get(name.lower(), [])) == 1:
            existing = self.by_lower[name.lower()][0]
        if existing is not None:
            if existing.year_group != year_group:
                row.error(
                    "class",
                    f"Class {existing.name} is a {existing.get_year_group_display()} class, "
                    f"but this row is {YearGroup(year_group).label}.",
                    model_field="form_class",
                )
                return None, False
            return existing, False
        if name in self.new:
            planned, first_line = self.new[name]
            if planned.year_group != year_group:
                row.error(
                    "class",
                    f"Class {name} is new, and line {first_line} puts it in "
                    f"{planned.get_year_group_display()}, but this row is "
                    f"{YearGroup(year_group).label}.",
                    model_field="form_class",
                )
                return None, False
            return planned, True
        planned = FormClass(name=name, year_group=year_group)
        class_row = _Row(row.line, [])
        class_row.clean(planned, {"name": "class", "year_group": "year_group"})
        for error in class_row.errors:
            row.error(error.column, f"New class: {error.message}", model_field="form_class")
        if class_row.errors:
            return None, False
        self.new[name] = (planned, row.line)
        return planned, True


def _learner_row(
    row: _Row,
    cells: dict[str, str],
    columns: set[str],
    *,
    learners: dict[str, Learner],
    classes: _Classes,
    seen: dict[str, int],
) -> _LearnerPlan:
    upn = cells["upn"]
    unique = _key(row, upn, "upn", seen)
    learner = learners.get(upn) if unique else None
    created = learner is None
    if learner is None:
        learner = Learner(mis_id=upn)
    before = _snapshot(learner)

    learner.first_name = cells["first_name"]
    learner.last_name = cells["last_name"]
    if cells["date_of_birth"]:
        learner.date_of_birth = row.parse(
            "date_of_birth", "date_of_birth", lambda: _date(cells["date_of_birth"])
        )
    else:
        row.error("date_of_birth", "A date of birth is required.", model_field="date_of_birth")
    year_group = None
    if cells["year_group"]:
        year_group = row.parse(
            "year_group",
            "year_group",
            lambda: _choice(cells["year_group"], _YEAR_GROUPS, "a year group", "R or 1 to 6"),
        )
        if year_group:
            learner.year_group = year_group
    else:
        learner.year_group = ""
    if "joined" in columns and cells["joined"]:
        # an empty cell leaves an existing learner's date alone; a new one joins today
        learner.joined = row.parse("joined", "joined", lambda: _date(cells["joined"]))
    if "left" in columns:
        learner.left = (
            row.parse("left", "left", lambda: _date(cells["left"])) if cells["left"] else None
        )

    new_class = None
    if cells["class"]:
        form_class, is_new = classes.resolve(row, cells["class"], year_group)
        if form_class is not None:
            learner.form_class = form_class
            new_class = form_class if is_new else None
    else:
        learner.form_class = None

    row.clean(learner, _LEARNER_COLUMNS)
    changed = not created and (_snapshot(learner) != before or new_class is not None)
    plan = _LearnerPlan(learner=learner, created=created, changed=changed, new_class=new_class)
    plan.contacts = _contacts(row, cells, columns, learner=learner, created=created)
    return plan


def _contacts(
    row: _Row, cells: dict[str, str], columns: set[str], *, learner: Learner, created: bool
) -> list[_ContactPlan]:
    existing = {}
    if not created:
        existing = {
            (p.first_name.casefold(), p.last_name.casefold()): p
            for p in learner.parents_carers.all()
        }
    plans: list[_ContactPlan] = []
    names_on_row: dict[tuple[str, str], int] = {}
    for slot in CONTACT_SLOTS:
        prefix = f"contact{slot}_"
        given = {name: cells.get(prefix + name, "") for name in CONTACT_FIELDS}
        if not any(given.values()):
            continue
        contact_row = _Row(row.line, row.errors)
        for name in ("first_name", "last_name"):
            if not given[name]:
                contact_row.error(
                    prefix + name, "A contact needs a first and last name.", model_field=name
                )
        if not given["phone"] and not given["email"]:
            contact_row.error(
                prefix + "phone", "Give a phone number or an email address for this contact."
            )
        relationship = None
        if given["relationship"]:
            relationship = contact_row.parse(
                prefix + "relationship",
                "relationship",
                lambda v=given["relationship"]: _choice(
                    v, _RELATIONSHIPS, "a relationship", _labels(Relationship)
                ),
            )
        else:
            contact_row.error(
                prefix + "relationship",
                f"Give the contact's relationship to the learner: {_labels(Relationship)}.",
                model_field="relationship",
            )
        name_key = (given["first_name"].casefold(), given["last_name"].casefold())
        if name_key in names_on_row and all(name_key):
            contact_row.error(
                prefix + "first_name",
                f"contact{names_on_row[name_key]} on this row has the same name.",
            )
            continue
        names_on_row[name_key] = slot

        parent = existing.get(name_key)
        is_new = parent is None
        if parent is None:
            parent = ParentCarer(first_name=given["first_name"], last_name=given["last_name"])
        before = _snapshot(parent)
        if relationship:
            parent.relationship = relationship
        # contacts need only one of phone or email: an empty cell is "not given", not "remove"
        if given["phone"]:
            parent.phone = given["phone"]
        if given["email"]:
            parent.email = given["email"]
        contact_row.clean(parent, {name: prefix + name for name in CONTACT_FIELDS})
        plans.append(
            _ContactPlan(
                parent=parent,
                created=is_new,
                changed=not is_new and _snapshot(parent) != before,
            )
        )
    return plans


def _write_learner(plan: _LearnerPlan, user: User | None) -> None:
    if plan.new_class is not None:
        if plan.new_class.pk is None:
            _save(plan.new_class, user)
        # assigned again now the class has a primary key
        plan.learner.form_class = plan.new_class
    if plan.created or plan.changed:
        _save(plan.learner, user)
    for contact in plan.contacts:
        if contact.created or contact.changed:
            _save(contact.parent, user)
        if contact.created:
            # from the parent's side, because only ParentCarer's history tracks the link
            contact.parent._history_user = user
            contact.parent._change_reason = CHANGE_REASON
            contact.parent.learners.add(plan.learner)


def import_learners(
    *, rows_or_file: Source, dry_run: bool, user: User | None = None
) -> ImportResult:
    """Create or update learners, keyed on their UPN, with their class and up to two
    parents/carers each; classes named in the file but not yet known are created.

    Nothing is saved when `dry_run` is set or when any row has a problem.
    """
    return _run(
        kind=ImportKind.LEARNERS,
        rows_or_file=rows_or_file,
        dry_run=dry_run,
        user=user,
        required=LEARNER_REQUIRED,
        optional=LEARNER_OPTIONAL,
        plan_rows=_plan_learners,
        write=_write_learner,
    )


def _plan_learners(
    rows: list[tuple[int, dict[str, str]]], columns: set[str], errors: list[RowError]
) -> list[_LearnerPlan]:
    learners = {
        learner.mis_id: learner
        for learner in Learner.objects.exclude(mis_id="")
        .select_related("form_class")
        .prefetch_related("parents_carers")
    }
    classes = _Classes()
    seen: dict[str, int] = {}
    plans = []
    for line, cells in rows:
        row = _Row(line, errors)
        plan = _learner_row(row, cells, columns, learners=learners, classes=classes, seen=seen)
        if not row.failed:
            plans.append(plan)
    return plans


# Staff


@dataclass
class _StaffPlan:
    staff: StaffMember
    created: bool
    changed: bool
    new_class: None = None
    contacts: tuple = ()


_STAFF_COLUMNS = {
    "mis_id": "staff_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "staff_type": "staff_type",
    "job_title": "job_title",
    "active": "active",
}


def _staff_row(
    row: _Row,
    cells: dict[str, str],
    columns: set[str],
    *,
    staff: dict[str, StaffMember],
    seen: dict[str, int],
) -> _StaffPlan:
    staff_id = cells["staff_id"]
    unique = _key(row, staff_id, "staff_id", seen)
    member = staff.get(staff_id) if unique else None
    created = member is None
    if member is None:
        member = StaffMember(mis_id=staff_id)
    before = _snapshot(member)

    member.first_name = cells["first_name"]
    member.last_name = cells["last_name"]
    if cells["staff_type"]:
        staff_type = row.parse(
            "staff_type",
            "staff_type",
            lambda: _choice(cells["staff_type"], _STAFF_TYPES, "a staff type", _labels(StaffType)),
        )
        if staff_type:
            member.staff_type = staff_type
    else:
        member.staff_type = ""
    for name in ("email", "job_title"):
        if name in columns:
            setattr(member, name, cells[name])
    if "active" in columns:
        member.active = row.parse("active", "active", lambda: _yes_no(cells["active"]))

    row.clean(member, _STAFF_COLUMNS)
    return _StaffPlan(
        staff=member, created=created, changed=not created and _snapshot(member) != before
    )


def _yes_no(value: str) -> bool:
    if not value or value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise ValueError(f"{_echo(value)} is not yes or no.")


def _plan_staff(
    rows: list[tuple[int, dict[str, str]]], columns: set[str], errors: list[RowError]
) -> list[_StaffPlan]:
    staff = {member.mis_id: member for member in StaffMember.objects.exclude(mis_id="")}
    seen: dict[str, int] = {}
    plans = []
    for line, cells in rows:
        row = _Row(line, errors)
        plan = _staff_row(row, cells, columns, staff=staff, seen=seen)
        if not row.failed:
            plans.append(plan)
    return plans


def _write_staff(plan: _StaffPlan, user: User | None) -> None:
    # only the staff record: logins are given by the DSL or headteacher, never by an import
    if plan.created or plan.changed:
        _save(plan.staff, user)


def import_staff(*, rows_or_file: Source, dry_run: bool, user: User | None = None) -> ImportResult:
    """Create or update staff members, keyed on their MIS staff ID. No logins are made.

    Nothing is saved when `dry_run` is set or when any row has a problem.
    """
    return _run(
        kind=ImportKind.STAFF,
        rows_or_file=rows_or_file,
        dry_run=dry_run,
        user=user,
        required=STAFF_REQUIRED,
        optional=STAFF_OPTIONAL,
        plan_rows=_plan_staff,
        write=_write_staff,
    )


def run_import(
    *, kind: str, rows_or_file: Source, dry_run: bool, user: User | None = None
) -> ImportResult:
    """The import for `kind` (an `ImportKind` value)."""
    service = {ImportKind.LEARNERS: import_learners, ImportKind.STAFF: import_staff}[
        ImportKind(kind)
    ]
    return service(rows_or_file=rows_or_file, dry_run=dry_run, user=user)


# The two phases


def _run(
    *,
    kind: ImportKind,
    rows_or_file: Source,
    dry_run: bool,
    user: User | None,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    plan_rows: Callable,
    write: Callable,
) -> ImportResult:
    result = ImportResult(kind=str(kind), dry_run=dry_run)
    try:
        columns, rows = _records(rows_or_file, required=required, optional=optional)
    except _FileProblem as problem:
        result.errors.append(problem.error)
        return result
    result.rows = len(rows)
    try:
        # checking inside the transaction means the rows written are the rows checked
        with transaction.atomic():
            plans = plan_rows(rows, columns, result.errors)
            for plan in plans:
                if plan.created:
                    result.created += 1
                elif plan.changed:
                    result.updated += 1
                else:
                    result.unchanged += 1
                for contact in plan.contacts:
                    result.contacts_created += contact.created
                    result.contacts_updated += contact.changed
            result.classes_created = len({id(p.new_class) for p in plans if p.new_class})
            if result.errors or dry_run:
                return result
            for plan in plans:
                write(plan, user)
    except IntegrityError:
        # someone else saved a clashing record between our check and our write
        result.errors.append(
            RowError(
                1,
                "",
                "The records changed while importing, so nothing was saved. Check the file again.",
            )
        )
    return result
