"""Subject access: everything the school's records hold on one person, in one archive.

The export is made of registered sections. Compliance registers what it holds on each
kind of person (the record, classes, parents and carers, history, who opened the record);
a higher app (devices, incidents) registers its own sections in `AppConfig.ready()`, so
compliance gathers what they hold without importing them (DESIGN: layers).

`subject_access_export` renders every section that applies to the person as one PDF
and one CSV each, zips them with a README, and logs the export as a `RecordAccess`.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Model, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import capfirst

from compliance import access

# The history page's diffing (field labels, choices, names across many-to-many links) is
# reused so that the export says exactly what the history page says.
from compliance.history import history_entries
from compliance.models import (
    Learner,
    ParentCarer,
    RecordAccess,
    School,
    StaffMember,
    User,
    Visitor,
)
from compliance.selectors import joined
from compliance.services import record_access_log


class PersonKind(models.TextChoices):
    LEARNER = "learner", "Learner"
    PARENT = "parent", "Parent or carer"
    STAFF = "staff", "Staff member"
    VISITOR = "visitor", "Visitor"


PERSON_MODELS: dict[str, type[Model]] = {
    PersonKind.LEARNER: Learner,
    PersonKind.PARENT: ParentCarer,
    PersonKind.STAFF: StaffMember,
    PersonKind.VISITOR: Visitor,
}
_KIND_OF: dict[type[Model], str] = {model: kind for kind, model in PERSON_MODELS.items()}

Headers = Sequence[str]
Rows = Iterable[Sequence[object]]


@dataclass(frozen=True)
class SubjectSection:
    """One part of a subject access export: a table of what is held on a person.

    `key` names the section's CSV file (`<key>.csv`): lower-case letters, digits and
    hyphens. `rows(person)` returns the column headers and the rows; a cell may be any
    value (dates, times, booleans and None are written out for people to read).
    """

    key: str
    title: str
    applies_to: frozenset[str]
    rows: Callable[[Model], tuple[Headers, Rows]]
    order: int = 100

    def __post_init__(self) -> None:
        object.__setattr__(self, "applies_to", frozenset(self.applies_to))


_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
_SECTIONS: dict[str, SubjectSection] = {}


def register_section(section: SubjectSection) -> None:
    """Add a section; a key already taken by a different section is a programming error.

    A silently replaced section would drop data from every later export.
    """
    if not _KEY.match(section.key):
        raise ValueError(f"Section key {section.key!r}: use lower-case letters, digits, '-'.")
    unknown = section.applies_to - set(PersonKind.values)
    if unknown or not section.applies_to:
        raise ValueError(f"Section {section.key!r} applies to unknown kinds: {sorted(unknown)}")
    existing = _SECTIONS.get(section.key)
    if existing is not None and existing != section:
        raise ValueError(f"A subject access section {section.key!r} is already registered.")
    _SECTIONS[section.key] = section


def sections_for(kind: str) -> list[SubjectSection]:
    found = [s for s in _SECTIONS.values() if kind in s.applies_to]
    return sorted(found, key=lambda s: (s.order, s.key))


def kind_of(person: Model) -> str:
    try:
        return _KIND_OF[type(person)]
    except KeyError:
        raise ValueError(f"{type(person).__name__} is not a kind of person.") from None


may_export = access.may_export_subject_access


_SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    PersonKind.LEARNER: ("first_name", "last_name", "mis_id"),
    PersonKind.PARENT: ("first_name", "last_name", "email"),
    PersonKind.STAFF: ("first_name", "last_name", "mis_id", "email"),
    PersonKind.VISITOR: ("first_name", "last_name", "organisation"),
}
_SEARCH_RELATED: dict[str, dict[str, tuple[str, ...]]] = {
    PersonKind.LEARNER: {"select": ("form_class",)},
    PersonKind.PARENT: {"prefetch": ("learners",)},
    PersonKind.STAFF: {"select": ("user",)},
    PersonKind.VISITOR: {},
}


def people_matching(*, kind: str, text: str) -> QuerySet:
    """The people of one kind whose name (or reference) holds every word typed."""
    model = PERSON_MODELS[kind]
    query = Q()
    for word in text.split()[:5]:
        word_q = Q()
        for field in _SEARCH_FIELDS[kind]:
            word_q |= Q(**{f"{field}__icontains": word})
        query &= word_q
    related = _SEARCH_RELATED[kind]
    return (
        joined(model.objects.filter(query), related.get("select", ()))
        .prefetch_related(*related.get("prefetch", ()))
        .order_by(*model._meta.ordering)
    )


# Cells, for people and for spreadsheets.


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV
# injection); a leading quote makes it text. Tab and carriage return are on OWASP's list too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def section_csv(headers: Headers, rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads accented names correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_safe(h) for h in headers])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


# Compliance's own sections.


def _field_value(obj: Model, field) -> object:
    if field.is_relation:
        related = getattr(obj, field.name)
        if isinstance(related, User):
            return related.username
        return related
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    return getattr(obj, field.attname)


def _record_rows(person: Model) -> tuple[Headers, Rows]:
    # every stored field, so that a field added later is exported without anyone remembering
    rows = [
        (capfirst(field.verbose_name), _field_value(person, field))
        for field in person._meta.concrete_fields
        if field.name != "version"  # the edit counter (compliance.concurrency), not about them
    ]
    return ("Field", "Value"), rows


def _history_rows(history_manager, model: type[Model]) -> list[tuple]:
    records = list(history_manager.select_related("history_user").order_by("history_date", "pk"))
    rows = []
    for entry in history_entries(records, model):
        who = entry["who"] or "the system (no user)"
        changes = entry["changes"] or [{"field": "", "old": "", "new": ""}]
        for change in changes:
            rows.append(
                (
                    entry["when"],
                    who,
                    entry["type"],
                    capfirst(change["field"]),
                    change["old"],
                    change["new"],
                    entry["reason"],
                )
            )
    return rows


_HISTORY_HEADERS = ("When", "Changed by", "Change", "Field", "From", "To", "Reason given")


def _record_history(person: Model) -> tuple[Headers, Rows]:
    return _HISTORY_HEADERS, _history_rows(person.history, type(person))


def _record_access(person: Model) -> tuple[Headers, Rows]:
    entries = RecordAccess.objects.filter(
        content_type=ContentType.objects.get_for_model(type(person)),
        object_id=str(person.pk),
    ).select_related("user")
    rows = [
        (entry.at, f"{entry.user} ({entry.user.username})", entry.get_action_display())
        for entry in entries.order_by("at", "pk")
    ]
    return ("When", "By", "What"), rows


def _learner_class(learner: Learner) -> tuple[Headers, Rows]:
    form_class = learner.form_class
    if form_class is None:
        return ("Class", "Year group", "Class teachers"), []
    teachers = ", ".join(t.full_name for t in form_class.teachers.order_by("last_name"))
    return (
        ("Class", "Year group", "Class teachers"),
        [(form_class.name, form_class.get_year_group_display(), teachers)],
    )


def _learner_parents(learner: Learner) -> tuple[Headers, Rows]:
    rows = [
        (p.full_name, p.get_relationship_display(), p.phone, p.email)
        for p in learner.parents_carers.order_by("last_name", "first_name", "pk")
    ]
    return ("Name", "Relationship", "Phone", "Email"), rows


def _parent_learners(parent: ParentCarer) -> tuple[Headers, Rows]:
    learners = parent.learners.select_related("form_class").order_by("last_name", "first_name")
    rows = [
        (
            learner.full_name,
            learner.date_of_birth,
            learner.get_year_group_display(),
            learner.form_class,
            learner.left,
        )
        for learner in learners
    ]
    return ("Name", "Date of birth", "Year group", "Class", "Left"), rows


def _staff_login(staff: StaffMember) -> tuple[Headers, Rows]:
    # the password hash is never exported: it is not information about the person
    user = staff.user
    if user is None:
        return ("Field", "Value"), []
    rows = [
        ("Username", user.username),
        ("First name", user.first_name),
        ("Last name", user.last_name),
        ("Email", user.email),
        ("Active", user.is_active),
        ("Roles", ", ".join(user.role_labels()) or "none"),
        ("Login created", user.date_joined),
        ("Last login", user.last_login),
    ]
    return ("Field", "Value"), rows


def _staff_classes(staff: StaffMember) -> tuple[Headers, Rows]:
    rows = [
        (form_class.name, form_class.get_year_group_display())
        for form_class in staff.form_classes.order_by("year_group", "name")
    ]
    return ("Class", "Year group"), rows


def _staff_login_history(staff: StaffMember) -> tuple[Headers, Rows]:
    # User's history excludes the password and last login (compliance.models.User)
    if staff.user is None:
        return _HISTORY_HEADERS, []
    return _HISTORY_HEADERS, _history_rows(staff.user.history, User)


def _visitor_visits(visitor: Visitor) -> tuple[Headers, Rows]:
    visits = visitor.visits.select_related("host").order_by("arrived", "pk")
    rows = [(v.arrived, v.left, v.purpose, v.host.full_name) for v in visits]
    return ("Arrived", "Left", "Purpose", "Host"), rows


_EVERYONE = frozenset(PersonKind.values)


def register() -> None:
    for section in (
        SubjectSection("record", "The record held", _EVERYONE, _record_rows, order=10),
        SubjectSection("class", "Class", {PersonKind.LEARNER}, _learner_class, order=20),
        SubjectSection(
            "parents-carers",
            "Parents and carers with parental responsibility",
            {PersonKind.LEARNER},
            _learner_parents,
            order=21,
        ),
        SubjectSection(
            "learners",
            "Learners they hold parental responsibility for",
            {PersonKind.PARENT},
            _parent_learners,
            order=20,
        ),
        SubjectSection("login", "Login and roles", {PersonKind.STAFF}, _staff_login, order=20),
        SubjectSection(
            "classes-taught", "Classes taught", {PersonKind.STAFF}, _staff_classes, order=21
        ),
        SubjectSection("visits", "Visits", {PersonKind.VISITOR}, _visitor_visits, order=20),
        SubjectSection(
            "history", "Change history of the record", _EVERYONE, _record_history, order=80
        ),
        SubjectSection(
            "login-history",
            "Change history of the login",
            {PersonKind.STAFF},
            _staff_login_history,
            order=81,
        ),
        SubjectSection(
            "record-access",
            "Who opened or exported the record",
            _EVERYONE,
            _record_access,
            order=90,
        ),
    ):
        register_section(section)


# The export.


@dataclass(frozen=True)
class _Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]


def _tables(person: Model, kind: str) -> list[_Table]:
    tables = []
    for section in sections_for(kind):
        headers, rows = section.rows(person)
        tables.append(
            _Table(
                key=section.key,
                title=section.title,
                headers=[str(h) for h in headers],
                rows=[[cell_text(value) for value in row] for row in rows],
            )
        )
    return tables


def _pdf(context: dict) -> bytes:
    # imported here: WeasyPrint loads Pango and fonts, which no other request needs
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("compliance/subject_access_pdf.html", context)
    # nothing is fetched: the template is self-contained, and a value that looked like a
    # URL must never make the server open a file or a connection
    fetcher = URLFetcher(allowed_protocols=frozenset())
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


def _readme(*, context: dict, pdf_name: str, tables: list[_Table]) -> bytes:
    at = timezone.localtime(context["at"])
    by = context["by"]
    lines = [
        "Subject access export",
        "=====================",
        "",
        f"School: {context['school'] or '(not recorded)'}",
        f"Person: {context['kind_label']} {context['person_name']} (reference {context['ref']})",
        f"Requested by: {by} ({by.username})",
        f"Exported at: {at:%d/%m/%Y %H:%M:%S} ({at.tzname()})",
        "This export is itself recorded in the record-access log.",
        "",
        "Contents",
        "--------",
        f"{pdf_name}: every section below, as one printable document.",
    ]
    lines += [
        f"{t.key}.csv: {t.title} ({len(t.rows)} row{'' if len(t.rows) == 1 else 's'})"
        for t in tables
    ]
    lines += [
        "README.txt: this file.",
        "",
        "About the CSV files",
        "-------------------",
        "Each is UTF-8 with a byte-order mark, so that Excel shows accented names correctly.",
        "A cell that begins with =, +, -, @, a tab or a carriage return is written with a",
        "single quote (') in front, so that a spreadsheet shows it as text and never runs it",
        "as a formula. Dates are day/month/year; times are UK local time.",
        "",
        "Before anything is disclosed",
        "----------------------------",
        "These files can name other people: parents and carers, class teachers, staff who",
        "changed or opened a record. Review them and redact third-party information before",
        "anything is given to the person who asked.",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


@transaction.atomic
def subject_access_export(*, person: Model, by: User) -> tuple[str, bytes]:
    """Everything held on `person`, as a ZIP (PDF, one CSV per section, README).

    The export is logged in the same transaction: if the archive cannot be made, no
    export is recorded, and no archive leaves without its log entry.
    """
    if not may_export(by):
        raise PermissionDenied("Only the DSL exports everything held on a person.")
    kind = kind_of(person)
    at = timezone.now()
    record_access_log(user=by, record=person, action=RecordAccess.Action.EXPORT)
    tables = _tables(person, kind)
    context = {
        "school": School.current(),
        "by": by,
        "at": at,
        "kind_label": PersonKind(kind).label,
        "person_name": getattr(person, "full_name", str(person)),
        "ref": f"{kind}-{person.pk}",
        "tables": tables,
    }
    stem = f"subject-access-{kind}-{person.pk}"
    pdf_name = f"{stem}.pdf"
    files = {pdf_name: _pdf(context)}
    for table in tables:
        files[f"{table.key}.csv"] = section_csv(table.headers, table.rows)
    files["README.txt"] = _readme(context=context, pdf_name=pdf_name, tables=tables)

    stamp = timezone.localtime(at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return f"{stem}-{stamp:%Y-%m-%d}.zip", buffer.getvalue()
