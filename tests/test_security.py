"""Production settings, headers, error pages, the append-only audit, and the access log."""

import ast
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.test import Client, override_settings
from django.urls import reverse

from compliance import audit_db, services
from compliance.models import Learner, RecordAccess, User

ROOT = Path(__file__).resolve().parent.parent
APP_DIRS = ["compliance", "devices", "incidents", "vrps"]


@pytest.mark.django_db
def test_pages_with_personal_data_are_never_stored(client, dsl, community):
    client.force_login(dsl)
    response = client.get(community["learner"].get_absolute_url())
    assert "no-store" in response["Cache-Control"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_no_page_has_inline_script(client, users, community):
    """The content security policy forbids inline script: no template may rely on it."""
    for user in users.values():
        client.force_login(user)
        page = client.get(reverse("dashboard")).content.decode()
        for tag in page.split("<script")[1:]:
            assert tag.lstrip().startswith("src=") or " src=" in tag.split(">")[0], tag[:80]


def test_check_deploy_passes_with_debug_off():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="vrps.example")
    env["DJANGO_SETTINGS_MODULE"] = "vrps.settings"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_a_refusal_says_why_and_is_logged_without_names(client, teacher, community, caplog):
    client.force_login(teacher)
    with caplog.at_level(logging.WARNING, logger="vrps.security"):
        response = client.get(reverse("compliance:staff_list"))
    assert response.status_code == 403
    assert "Your role does not give access" in response.content.decode()
    messages = [r.getMessage() for r in caplog.records if r.name == "vrps.security"]
    assert messages == [f"access refused: user_id={teacher.pk} method=GET path=/community/staff/"]
    assert "Tom" not in messages[0] and "Teacher" not in messages[0]


@pytest.mark.django_db
def test_the_500_page_shows_no_detail(dsl, monkeypatch):
    from compliance.views import dashboard

    def explode(request):
        raise RuntimeError("secret detail: Amira Khan")

    monkeypatch.setattr(dashboard, "panels_for", explode)
    client = Client(raise_request_exception=False)
    client.force_login(dsl)
    with override_settings(DEBUG=False):
        response = client.get(reverse("dashboard"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "secret detail" not in body and "Traceback" not in body


def test_the_admin_holds_logins_only():
    registered = {model._meta.label for model in admin.site._registry}
    assert registered <= {"compliance.User", "auth.Group"}, registered


@pytest.mark.django_db
def test_opening_a_learner_is_logged_and_the_dsl_sees_it(client, office, dsl, community):
    learner = community["learner"]
    client.force_login(office)
    client.get(learner.get_absolute_url())
    entry = RecordAccess.objects.get()
    assert entry.user == office
    assert entry.record == learner
    client.force_login(dsl)
    page = client.get(reverse("compliance:access_log"), {"kind": "learner"}).content.decode()
    assert "Olive Clerk" in page
    assert f"Learner #{learner.pk}" in page
    # opening a list is not a read of one record
    client.get(reverse("compliance:learner_list"))
    assert RecordAccess.objects.filter(user=dsl).count() == 0


@pytest.mark.django_db
def test_audit_tables_are_append_only_in_postgresql(community, dsl):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; CI runs this suite on it")
    learner = community["learner"]
    services.record_access_log(user=dsl, record=learner)
    learner.save()  # a second history row, which outlives the purge below
    assert audit_db.audited_tables()
    record = learner.history.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Learner.history.filter(history_id=record.history_id).update(first_name="Forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Learner.history.filter(history_id=record.history_id).delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM compliance_recordaccess")
    # a DSL-approved disposal may delete history rows within its own transaction only
    with transaction.atomic(), audit_db.history_purge_allowed():
        Learner.history.filter(history_id=record.history_id).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Learner.history.filter(id=learner.pk).delete()
    # and never an update
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        audit_db.history_purge_allowed(),
    ):
        Learner.history.filter(id=learner.pk).update(first_name="Forged")


def _audited_model_names() -> set[str]:
    from django.apps import apps

    return {
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in {"compliance", "devices", "incidents"}
    } | {"User"}


# Writes that skip history. Allowed only where a row here says why.
_ALLOWED: set[tuple[str, str]] = {
    # the ten-year scale generator links many-to-many rows (an automatic through table,
    # which keeps no history of its own) in bulk; every audited row it writes goes through
    # simple_history's bulk helpers, which write the history rows too
    ("incidents/scale_data.py", "bulk_create"),
}


def test_no_code_writes_audited_models_in_bulk_without_history():
    """`bulk_create`, `bulk_update` and `QuerySet.update` skip history: no app code uses them."""
    audited = _audited_model_names()
    offenders = []
    for folder in APP_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                name = node.func.attr
                if name not in {"bulk_create", "bulk_update", "update"}:
                    continue
                receiver = ast.unparse(node.func.value)
                looks_like_queryset = (
                    ".objects" in receiver
                    or ".history" in receiver
                    or receiver.split(".")[0] in audited
                    or any(
                        f".{m}(" in receiver
                        for m in ("filter", "exclude", "all", "select_for_update", "order_by")
                    )
                    or receiver.endswith(("qs", "queryset"))
                )
                if name == "update" and not looks_like_queryset:
                    continue  # dict.update and the like
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                if (str(path.relative_to(ROOT)), name) not in _ALLOWED:
                    offenders.append(f"{where} {receiver}.{name}()")
    assert not offenders, "bulk writes skip history:\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_passwords_are_argon2_and_at_least_12_characters():
    from django.conf import settings
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from vrps import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.AUTH_PASSWORD_VALIDATORS  # the same validators in tests
    user = User(username="someone")
    for bad in ["short-pass", "password1234", "123456789012"]:
        with pytest.raises(ValidationError):
            validate_password(bad, user)
    validate_password("a-much-longer-passphrase", user)
