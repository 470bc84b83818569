"""Query counts that more than one pinned-count test adds up."""

from django.db import connection

# One opening of a confidential record written to the access log with its history row
# (compliance.audit_db.create_with_history, ADR 0015): one statement on PostgreSQL; on
# SQLite the two inserts in a transaction, which inside a test's own transaction is a
# savepoint and its release as well.
ACCESS_LOG = 1 if connection.vendor == "postgresql" else 2 + 2
