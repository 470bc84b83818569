"""Backups restore into an empty database with every row and every history row.

CI runs the suite on SQLite and on PostgreSQL; each vendor has its own round trip.
The data must be committed for the backup to see it (pg_dump is another process),
hence `transaction=True`.
"""

import json
import sqlite3
import uuid
from contextlib import closing
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from compliance.backups import manifest_path
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite round trip")
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL round trip"
)

# History tables that the school below must fill, so that none is checked empty.
FILLED_HISTORY = [
    "compliance_historicalformclass",
    "compliance_historicalformclass_teachers",
    "compliance_historicallearner",
    "compliance_historicalparentcarer",
    "compliance_historicalparentcarer_learners",
    "compliance_historicalpolicyversion",
    "compliance_historicalschool",
    "compliance_historicalstaffmember",
    "compliance_historicaluser",
    "compliance_historicaluser_groups",
    "compliance_historicalvisit",
    "compliance_historicalvisitor",
]


def _school() -> dict:
    """A small school with a history row in every kind of history table it touches."""
    dsl_group, _ = Group.objects.get_or_create(name="dsl")  # a flush may have removed it
    Group.objects.get_or_create(name="staff")
    dsl = factories.UserFactory(username="dsl", roles=["dsl"])
    teacher = factories.UserFactory(username="teacher", roles=["staff"])
    staff = factories.StaffMemberFactory(user=teacher)
    form = factories.FormClassFactory(name="3A")
    form.teachers.add(staff)
    learners = factories.LearnerFactory.create_batch(3, form_class=form)
    learner = learners[0]
    learner.first_name, learner.last_name = "Amira", "Khan"
    learner._history_user = dsl  # as the history middleware does for a signed-in edit
    learner.save()
    factories.ParentCarerFactory(learners=learners[:2])
    factories.ParentCarerFactory(learners=learners[2:])
    factories.VisitFactory(host=staff)
    factories.SchoolFactory()
    factories.PolicyVersionFactory()
    return {"learner": learner, "dsl": dsl}


def _source_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _check_counts(source: dict[str, int], restored: dict[str, int]) -> None:
    assert restored == source
    for table in FILLED_HISTORY:
        assert source[table] > 0, f"{table} has no rows to check"
    history = [table for table in source if table.startswith("compliance_historical")]
    assert set(FILLED_HISTORY) <= set(history)
    for name in ("django_migrations", "django_content_type", "auth_group"):
        assert source[name] > 0


def _make_backup(destination: Path | None = None) -> tuple[Path, str]:
    out = StringIO()
    if destination is None:
        call_command("backup", stdout=out)
    else:
        call_command("backup", destination=destination, stdout=out)
    made = out.getvalue().strip().rsplit(" to ", 1)[1].rstrip(".")
    return Path(made), out.getvalue()


# SQLite


def _sqlite_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        tables = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        ).fetchall()
        return {
            name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for (name,) in tables
        }


@on_sqlite
def test_sqlite_backup_restores_every_row_and_history_row(tmp_path, monkeypatch):
    people = _school()
    source = _source_counts()
    folder = tmp_path / "private" / "backups"
    monkeypatch.setenv("BACKUP_DIR", str(folder))

    backup, summary = _make_backup()

    assert backup.parent == folder
    assert backup.name.startswith("vrps-") and backup.suffix == ".sqlite3"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert backup.stat().st_mode & 0o777 == 0o600
    assert manifest_path(backup).stat().st_mode & 0o777 == 0o600
    manifest = json.loads(manifest_path(backup).read_text())
    assert manifest["vendor"] == "sqlite"
    assert manifest["tables"] == source
    assert manifest["migrations"]["compliance"].startswith("00")
    assert f"{len(source)} tables" in summary

    target = tmp_path / "restored.sqlite3"
    out = StringIO()
    call_command("restore", str(backup), sqlite_file=target, stdout=out)

    assert "every count matching the manifest" in out.getvalue()
    assert target.stat().st_mode & 0o777 == 0o600
    _check_counts(source, _sqlite_counts(target))
    learner, dsl = people["learner"], people["dsl"]
    with closing(sqlite3.connect(target)) as db:
        assert db.execute(
            "SELECT first_name, last_name FROM compliance_learner WHERE id = ?", [learner.pk]
        ).fetchone() == ("Amira", "Khan")
        assert db.execute(
            "SELECT history_user_id FROM compliance_historicallearner"
            " WHERE id = ? AND history_type = '~'",
            [learner.pk],
        ).fetchone() == (dsl.pk,)


@on_sqlite
def test_sqlite_restore_refuses_a_file_that_holds_a_database(tmp_path):
    _school()
    backup, _ = _make_backup(tmp_path / "backups")
    target = tmp_path / "live.sqlite3"
    with closing(sqlite3.connect(target)) as db:
        db.execute("CREATE TABLE keep_me (id integer)")

    with pytest.raises(CommandError, match="already holds a database.*--force"):
        call_command("restore", str(backup), sqlite_file=target, stdout=StringIO())
    assert _sqlite_counts(target) == {"keep_me": 0}

    call_command("restore", str(backup), sqlite_file=target, force=True, stdout=StringIO())
    assert _sqlite_counts(target) == _source_counts()


@on_sqlite
def test_restore_stops_when_a_count_differs_from_the_manifest(tmp_path):
    _school()
    backup, _ = _make_backup(tmp_path / "backups")
    manifest = json.loads(manifest_path(backup).read_text())
    manifest["tables"]["compliance_historicallearner"] += 1
    manifest_path(backup).write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match="compliance_historicallearner: .* rows, the manifest"):
        call_command("restore", str(backup), sqlite_file=tmp_path / "new.sqlite3")


@on_sqlite
def test_restore_refuses_a_damaged_backup(tmp_path):
    _school()
    backup, _ = _make_backup(tmp_path / "backups")
    with backup.open("ab") as data:
        data.write(b"\0")

    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("restore", str(backup), sqlite_file=tmp_path / "new.sqlite3")
    assert not (tmp_path / "new.sqlite3").exists()


@on_sqlite
def test_restore_needs_the_manifest_and_the_right_kind_of_database(tmp_path):
    _school()
    backup, _ = _make_backup(tmp_path / "backups")

    with pytest.raises(CommandError, match="SQLite backup.*not PostgreSQL"):
        call_command("restore", str(backup), database_url="postgres://nowhere.invalid/vrps")
    manifest_path(backup).unlink()
    with pytest.raises(CommandError, match="no manifest"):
        call_command("restore", str(backup), sqlite_file=tmp_path / "new.sqlite3")


def test_restore_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no backup file at"):
        call_command("restore", str(tmp_path / "nothing.dump"))


# PostgreSQL


def _pg_params(name: str) -> dict:
    settings = connection.settings_dict
    params = {
        "dbname": name,
        "user": settings["USER"],
        "password": settings["PASSWORD"],
        "host": settings["HOST"],
        "port": settings["PORT"],
    }
    return {key: str(value) for key, value in params.items() if value}


def _pg_url(name: str) -> str:
    settings = connection.settings_dict
    login = quote(settings["USER"], safe="")
    if settings["PASSWORD"]:
        login += ":" + quote(settings["PASSWORD"], safe="")
    host = settings["HOST"] + (f":{settings['PORT']}" if settings["PORT"] else "")
    return f"postgres://{login}@{host}/{name}" if login else f"postgres://{host}/{name}"


@pytest.fixture
def empty_pg_database():
    """A new, empty database on the test server, dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"vrps_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(**_pg_params("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**_pg_params("postgres"), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _pg_counts(name: str) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(**_pg_params(name)) as db:
        tables = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        return {
            table: db.execute(
                sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for (table,) in tables
        }


@on_postgresql
def test_postgresql_backup_restores_every_row_and_history_row(
    tmp_path, monkeypatch, empty_pg_database
):
    import psycopg

    people = _school()
    source = _source_counts()
    folder = tmp_path / "backups"
    monkeypatch.setenv("BACKUP_DIR", str(folder))

    backup, summary = _make_backup()

    assert backup.name.startswith("vrps-") and backup.suffix == ".dump"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert backup.stat().st_mode & 0o777 == 0o600
    manifest = json.loads(manifest_path(backup).read_text())
    assert manifest["vendor"] == "postgresql"
    assert manifest["tables"] == source
    assert f"{len(source)} tables" in summary

    out = StringIO()
    call_command("restore", str(backup), database_url=_pg_url(empty_pg_database), stdout=out)

    assert "every count matching the manifest" in out.getvalue()
    _check_counts(source, _pg_counts(empty_pg_database))
    learner, dsl = people["learner"], people["dsl"]
    with psycopg.connect(**_pg_params(empty_pg_database)) as db:
        assert db.execute(
            "SELECT first_name, last_name FROM compliance_learner WHERE id = %s", [learner.pk]
        ).fetchone() == ("Amira", "Khan")
        assert db.execute(
            "SELECT history_user_id FROM compliance_historicallearner"
            " WHERE id = %s AND history_type = '~'",
            [learner.pk],
        ).fetchone() == (dsl.pk,)


@on_postgresql
def test_postgresql_restore_refuses_a_database_with_tables(tmp_path):
    _school()
    backup, _ = _make_backup(tmp_path / "backups")
    before = _source_counts()

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(backup), database_url=_pg_url(connection.settings_dict["NAME"]))
    assert _source_counts() == before


@on_postgresql
def test_postgresql_backup_names_a_missing_pg_dump(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(CommandError, match="pg_dump was not found"):
        call_command("backup", destination=tmp_path / "backups")
    assert list((tmp_path / "backups").iterdir()) == []
