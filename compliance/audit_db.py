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
from django.db import connections

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


def _after_migrate(sender, using="default", **kwargs) -> None:
    install_append_only_triggers(using)
