"""Audit tables are append-only in the database itself (PostgreSQL).

A trigger refuses UPDATE and DELETE on every history table and on the record-access
log, whatever code or console sends them. The one lawful exception is disposal at the
end of a retention period, approved by the DSL (compliance.retention), which sets
`vrps.allow_history_purge` for its own transaction only; updates are never allowed.
Triggers are (re)installed after every `migrate`, so the history tables that later apps
add are covered without a migration of their own.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.apps import apps
from django.db import connections, transaction
from django.db.models import Model
from django.utils import timezone

PURGE_SETTING = "vrps.allow_history_purge"

_FUNCTION = f"""
CREATE OR REPLACE FUNCTION vrps_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% on % refused: audit records are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def audited_tables() -> list[str]:
    """The tables that hold history or the record-access log, in every project app."""
    tables = []
    for model in apps.get_models():
        if model._meta.app_label not in {"compliance", "devices", "incidents"}:
            continue
        is_history = model.__name__.startswith("Historical")
        if is_history or model._meta.db_table == "compliance_recordaccess":
            tables.append(model._meta.db_table)
    return sorted(tables)


def install_append_only_triggers(using: str = "default") -> int:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return 0
    tables = audited_tables()
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION)
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"DROP TRIGGER IF EXISTS vrps_append_only ON {quoted}")
            cursor.execute(
                f"CREATE TRIGGER vrps_append_only BEFORE UPDATE OR DELETE ON {quoted} "
                "FOR EACH ROW EXECUTE FUNCTION vrps_refuse_audit_change()"
            )
    return len(tables)


@contextmanager
def history_purge_allowed(using: str = "default"):
    """Within this block only: let a DSL-approved disposal delete history rows.

    Must run inside a transaction. The setting is switched off again on the way out, so it
    never leaks into the rest of an enclosing transaction.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'on'")
    try:
        yield
    finally:
        # after an error the transaction is rolled back, which undoes SET LOCAL as well
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL {PURGE_SETTING} = 'off'")


# The columns simple-history adds to a historical table, besides a copy of the record's own.
_HISTORY_COLUMNS = ("history_id", "history_date", "history_change_reason", "history_type")


def _insert_with_history_sql(model: type[Model], quote) -> str:
    """One statement that inserts a row of `model` and the history row that says it was
    created: the insert's RETURNING feeds the history insert (a data-modifying WITH).
    `quote` is the database's quoting of names."""
    history = model.history.model
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    pk = model._meta.pk.column
    expected = {pk, *columns, *_HISTORY_COLUMNS, "history_user_id"}
    found = {f.column for f in history._meta.concrete_fields}
    if found != expected:  # the history table keeps something this statement would not fill
        raise ValueError(f"{history.__name__} has columns {sorted(found ^ expected)} unknown here")
    copied = ", ".join(quote(c) for c in [pk, *columns])
    added = ", ".join(quote(c) for c in [*_HISTORY_COLUMNS[1:], "history_user_id"])
    # S608: only the models' own table and column names, quoted; values are parameters
    return (
        f"WITH entry AS (INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(c) for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"RETURNING {copied}) "
        f"INSERT INTO {quote(history._meta.db_table)} ({copied}, {added}) "
        f"SELECT {copied}, %s, NULL, '+', %s FROM entry"
    )


# the statement for each model, made on first use (the same for every PostgreSQL connection:
# kept by model alone, not by a connection's quoting method, which would keep every thread's
# connection alive)
_STATEMENTS: dict[type[Model], str] = {}


def create_with_history(obj: Model, *, by, using: str = "default") -> None:
    """Save a new `obj` with its created history row, as `obj.save()` does with
    simple-history, but on PostgreSQL in one statement: one round trip instead of four
    (BEGIN, the two inserts, COMMIT). For append-only rows written on every page view (the
    record-access log, ADR 0015); elsewhere, and on SQLite, it is `save()` in a transaction.
    `obj` is not given its primary key, and on PostgreSQL no signals are sent (Django's
    `pre_save`/`post_save`, simple-history's): nothing may listen for these rows."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            obj._history_user = by
            obj.save(using=using)
        return
    model = type(obj)
    sql = _STATEMENTS.get(model)
    if sql is None:
        sql = _STATEMENTS[model] = _insert_with_history_sql(model, connection.ops.quote_name)
    values = [
        f.get_db_prep_save(f.pre_save(obj, True), connection)
        for f in model._meta.concrete_fields
        if not f.primary_key
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, timezone.now(), by.pk if by is not None else None])


def _after_migrate(sender, using="default", **kwargs) -> None:
    install_append_only_triggers(using)
