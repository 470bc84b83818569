"""compliance.audit_db.create_with_history: a record-access entry and its history row in one
statement on PostgreSQL (ADR 0015), the same rows as simple-history writes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Manager
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords
from simple_history.signals import (
    post_create_historical_record,
    pre_create_historical_record,
)

from compliance import audit_db, services
from compliance.models import RecordAccess

pytestmark = pytest.mark.django_db

_OWN = ("user_id", "at", "action", "content_type_id", "object_id")


def test_an_access_entry_and_its_history_row_are_written_together(community, dsl):
    learner = community["learner"]
    services.record_access_log(user=dsl, record=learner, action=RecordAccess.Action.EXPORT)
    entry = RecordAccess.objects.get()
    assert (entry.user, entry.record, entry.action) == (dsl, learner, "export")
    created = entry.history.get()
    assert created.history_type == "+"
    assert created.history_user == dsl
    assert created.history_change_reason is None
    assert created.id == entry.pk
    assert {f: getattr(created, f) for f in _OWN} == {f: getattr(entry, f) for f in _OWN}
    assert created.history_date >= entry.at


def test_the_rows_are_those_simple_history_writes_itself(community, dsl):
    learner = community["learner"]
    kind = ContentType.objects.get_for_model(type(learner))
    saved = RecordAccess(user=dsl, content_type=kind, object_id=str(learner.pk))
    saved._history_user = dsl
    saved.save()
    audit_db.create_with_history(
        RecordAccess(user=dsl, content_type=kind, object_id=str(learner.pk)), by=dsl
    )
    first, second = RecordAccess.history.order_by("history_id")
    differ = {"history_id", "history_date", "id", "at"}
    fields = [f.attname for f in RecordAccess.history.model._meta.concrete_fields]
    assert {f: getattr(first, f) for f in fields if f not in differ} == {
        f: getattr(second, f) for f in fields if f not in differ
    }


def test_on_postgresql_it_is_one_statement(community, dsl):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite writes the two rows in a transaction (no round trips to save)")
    with CaptureQueriesContext(connection) as queries:
        services.record_access_log(user=dsl, record=community["learner"])
    assert len(queries) == 1
    assert queries[0]["sql"].startswith('WITH entry AS (INSERT INTO "compliance_recordaccess"')
    assert RecordAccess.objects.count() == RecordAccess.history.count() == 1


def test_the_statement_fills_every_column_of_a_history_table_or_is_refused():
    """Made from each model's fields: for every model kept with history, the statement fills
    each column of its history table, or is refused where the two differ (the logins' history
    leaves out the password) rather than writing a wrong row."""
    quote = connection.ops.quote_name
    kept = [m for m in apps.get_models() if isinstance(getattr(m, "history", None), Manager)]
    built, refused = [], []
    for model in kept:
        history = model.history.model
        try:
            sql = audit_db._insert_with_history_sql(model, quote)
        except ValueError:
            refused.append(model.__name__)
            continue
        built.append(model.__name__)
        for field in history._meta.concrete_fields:
            if field.column != "history_id":
                assert quote(field.column) in sql, (model, field.column)
    assert "RecordAccess" in built and len(built) > 40
    assert refused == ["User"]


def test_a_history_table_with_a_column_it_does_not_know_is_refused():
    def column(name, primary_key=False):
        return SimpleNamespace(column=name, primary_key=primary_key)

    own = [column("id", primary_key=True), column("user_id")]
    history_columns = ["id", "user_id", "history_id", "history_date", "history_change_reason"]
    history_columns += ["history_type", "history_user_id", "history_ip_address"]
    history = type("HistoricalThing", (), {})
    history._meta = SimpleNamespace(
        concrete_fields=[column(c) for c in history_columns], db_table="thing_history"
    )
    model = SimpleNamespace(
        _meta=SimpleNamespace(concrete_fields=own, pk=own[0], db_table="thing"),
        history=SimpleNamespace(model=history),
    )
    make = audit_db._insert_with_history_sql
    with pytest.raises(ValueError, match="history_ip_address"):
        make(model, connection.ops.quote_name)
    history._meta.concrete_fields.pop()
    assert 'INSERT INTO "thing" ("user_id")' in make(model, connection.ops.quote_name)


def test_nothing_listens_for_access_entries_being_made():
    """The one statement sends no signals (ADR 0015): nothing may rely on them."""
    assert not pre_create_historical_record.receivers
    assert not post_create_historical_record.receivers
    assert not pre_save.has_listeners(RecordAccess)
    # after saving, only simple-history itself, whose history row the statement writes
    sync, asynchronous = post_save._live_receivers(RecordAccess)
    assert [r.__func__ for r in sync] == [HistoricalRecords.post_save] and not asynchronous
