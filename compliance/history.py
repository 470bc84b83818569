"""A record's history as people read it: each change with the fields that changed.

Shared by the history pages and the subject access export, so both show the same thing.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from simple_history import utils
from simple_history.models import ModelChange

TYPE_LABEL = {"+": "Created", "~": "Changed", "-": "Deleted"}

# The kinds of record whose history has a page (the slug appears in the URL), each with how
# to fetch a record for a user: it raises PermissionDenied or Http404 as the record's own
# page would. Higher apps register theirs in AppConfig.ready().
HISTORY_KINDS: dict[str, type[Model]] = {}
_FETCHERS: dict[str, Callable[[object, object], Model]] = {}


def register_history_kind(
    slug: str, model: type[Model], fetch: Callable[[object, object], Model]
) -> None:
    HISTORY_KINDS[slug] = model
    _FETCHERS[slug] = fetch


def fetch_for_history(user, slug: str, pk) -> Model:
    return _FETCHERS[slug](user, pk)


def slug_of(model: type[Model] | None) -> str | None:
    for slug, registered in HISTORY_KINDS.items():
        if registered is model:
            return slug
    return None


def history_url(obj: Model) -> str:
    return reverse("compliance:history", args=[slug_of(type(obj)), obj.pk])


def _display(field, value) -> str:
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, list):  # many-to-many: the through rows
        return ", ".join(sorted(str(item) for item in value)) or "(none)"
    choices = getattr(field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def _field(model: type[Model], name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _m2m_links(records: list) -> dict[str, dict[int, list[dict]]]:
    """For each many-to-many field the history tracks: every history row's links, as
    `diff_against` compares them. One query a field for all the rows (`diff_against` asks
    twice for each pair of rows)."""
    if len(records) < 2:
        return {}
    links = {}
    for field in getattr(records[0], "_history_m2m_fields", ()):
        through = getattr(records[0], field.name).model
        # the order and the columns diff_against uses
        order = utils.get_m2m_reverse_field_name(field)
        names = [
            f.name
            for f in through._meta.fields
            if f.editable and f.name not in ("id", "m2m_history_id", "history")
        ]
        by_record: dict[int, list[dict]] = {record.history_id: [] for record in records}
        rows = through.objects.filter(history_id__in=list(by_record)).order_by(order)
        for row in rows.values("history_id", *names):
            by_record[row.pop("history_id")].append(row)
        links[field.name] = by_record
    return links


def _raw_changes(record, previous, links: dict[str, dict[int, list[dict]]]) -> list:
    if previous is None:
        return []
    # many-to-many fields from the links read for every row at once
    diff = record.diff_against(previous, excluded_fields=list(links))
    # the version counter (compliance.concurrency) changes on every save: not news
    changes = [c for c in diff.changes if c.field != "version"]
    for name, by_record in links.items():
        old, new = by_record[previous.history_id], by_record[record.history_id]
        if old != new:
            changes.append(ModelChange(name, old, new))
    # diff_against skips fields that are not editable, which are the ones the transition
    # functions set (status, who decided, when): those matter most in an audit
    seen = {c.field for c in changes}
    for field in record.instance_type._meta.concrete_fields:
        if field.editable or field.primary_key or field.name in seen or field.name == "version":
            continue
        old, new = getattr(previous, field.attname), getattr(record, field.attname)
        if old != new:
            if field.is_relation:
                old, new = getattr(previous, field.name), getattr(record, field.name)
            changes.append(ModelChange(field.name, old, new))
    return changes


def _m2m_ids(model: type[Model], change) -> tuple[type[Model], str, set] | None:
    """For a many-to-many change: the other side's model, its key in the rows, and its ids."""
    field = _field(model, change.field)
    if field is None or not field.many_to_many:
        return None
    key = field.m2m_reverse_field_name()
    ids = {row.get(key) for row in (change.old or []) + (change.new or [])}
    return field.related_model, key, ids


def history_entries(records: list, model: type[Model]) -> list[dict]:
    """History rows oldest first, each with its field-level differences from the one before.

    Names on the other side of many-to-many links are fetched once per kind, not per row.
    """
    raw = []
    previous = None
    links = _m2m_links(records)
    for record in records:
        raw.append((record, _raw_changes(record, previous, links)))
        previous = record
    wanted: dict[type[Model], set] = {}
    for _, changes in raw:
        for change in changes:
            m2m = _m2m_ids(model, change)
            if m2m:
                wanted.setdefault(m2m[0], set()).update(m2m[2])
    names = {related: related.objects.in_bulk(ids) for related, ids in wanted.items()}

    entries = []
    for record, changes in raw:
        rows = []
        for change in changes:
            field = _field(model, change.field)
            label = field.verbose_name if field else change.field
            m2m = _m2m_ids(model, change)
            if m2m:
                related, key, _ = m2m
                old = [
                    str(names[related].get(row.get(key), "(removed)")) for row in change.old or []
                ]
                new = [
                    str(names[related].get(row.get(key), "(removed)")) for row in change.new or []
                ]
                rows.append(
                    {"field": label, "old": _display(None, old), "new": _display(None, new)}
                )
            else:
                rows.append(
                    {
                        "field": label,
                        "old": _display(field, change.old),
                        "new": _display(field, change.new),
                    }
                )
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user,
                "type": TYPE_LABEL.get(record.history_type, record.history_type),
                "reason": record.history_change_reason,
                "changes": rows,
            }
        )
    return entries
