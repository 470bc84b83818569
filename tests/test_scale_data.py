"""generate_scale_data: a year of the school at a fiftieth of the record counts, in seconds.

The full ten years is run by the benchmark (bench/README.md); here the same code runs small
and the properties the benchmark relies on are checked.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F, Q
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.models import Learner, StaffMember, User, Visit
from devices import services as device_services
from devices.models import Agreement, Exemption, HandIn, Signature
from incidents import scale_data
from incidents.models import Incident, Involvement, Search

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 25)  # a Wednesday in term
FACTOR = 0.02


class _Rollback(Exception):
    pass


def _build(seed: int) -> scale_data.ScaleBuilder:
    builder = scale_data.ScaleBuilder(
        years=1, seed=seed, factor=FACTOR, today=TODAY, progress=lambda line: None
    )
    builder.build()
    return builder


def _snapshot() -> dict:
    return {
        "learners": list(
            Learner.objects.order_by("mis_id").values_list(
                "mis_id", "first_name", "last_name", "joined", "left", "year_group"
            )
        ),
        "hand_ins": list(
            HandIn.objects.order_by("day", "learner__mis_id").values_list(
                "learner__mis_id", "day", "handed_in_at", "collected_by"
            )
        ),
        "incidents": list(
            Incident.objects.order_by("reference").values_list(
                "reference", "category", "status", "occurred_at"
            )
        ),
        "exemptions": list(
            Exemption.objects.order_by("requested_at", "kind").values_list(
                "kind", "status", "starts", "ends"
            )
        ),
        "visits": list(
            Visit.objects.order_by("arrived", "purpose").values_list("purpose", "arrived")
        ),
    }


def _snapshot_of(seed: int) -> dict:
    """Build, read, and roll back, so the next build starts from the same empty database."""
    taken = {}
    try:
        with transaction.atomic():
            _build(seed)
            taken.update(_snapshot())
            raise _Rollback
    except _Rollback:
        pass
    return taken


def test_same_seed_same_rows_and_another_seed_others():
    first = _snapshot_of(7)
    assert first["hand_ins"] and first["incidents"]
    assert _snapshot_of(7) == first
    assert _snapshot_of(8) != first


def test_counts_history_and_integrity():
    builder = _build(3)
    expected = {name: builder.target(name) for name in scale_data.TEN_YEAR_COUNTS}
    assert Incident.objects.count() == expected["incidents"]
    assert Exemption.objects.count() == expected["exemptions"]
    assert Visit.objects.count() == expected["visits"]
    assert 0 < Search.objects.count() <= expected["searches"]
    hand_ins = HandIn.objects.count()
    assert abs(hand_ins - expected["hand_ins"]) <= expected["hand_ins"] * 0.15, hand_ins

    # the school: 14 classes of 30 on roll today, about 60 staff
    on_roll = Learner.objects.filter(Q(left__isnull=True) | Q(left__gte=TODAY))
    assert on_roll.count() == 420
    assert on_roll.filter(form_class__isnull=True).count() == 0
    assert 55 <= StaffMember.objects.filter(active=True).count() <= 65

    # every record has its created history row, dated when it was made
    for model in (HandIn, Incident, Exemption, Visit, Signature, Involvement):
        assert model.history.filter(history_type="+").count() == model.objects.count(), model
    first = HandIn.objects.order_by("pk").first()
    assert first.history.get().history_date == first.handed_in_at

    # a hand-in only for a learner on roll that day, never two a day
    assert not HandIn.objects.filter(
        Q(day__lt=F("learner__joined")) | Q(day__gt=F("learner__left"))
    ).exists()
    # today's devices are still in; earlier days' were all collected
    assert HandIn.objects.filter(day=TODAY, collected_at__isnull=True).exists()
    assert not HandIn.objects.filter(day__lt=TODAY, collected_at__isnull=True).exists()

    # every incident has someone involved; signed agreements verify as the service checks
    assert not Incident.objects.filter(people__isnull=True).exists()
    signed = Agreement.objects.filter(status=Agreement.Status.SIGNED)
    assert signed.count() > Exemption.objects.filter(status="active").count()
    assert all(device_services.agreement_verify(a.fingerprint)[1] for a in signed)
    assert Agreement.history.filter(history_type="~").count() == signed.count()


def test_dsl_can_log_in_with_the_seeded_password_and_code():
    _build(4)
    dsl = User.objects.get(username=scale_data.DSL_USERNAME)
    assert dsl.check_password(scale_data.dsl_password(4))
    assert dsl.roles == {"dsl"}
    device = TOTPDevice.objects.get(user=dsl)
    assert device.key == scale_data.dsl_totp_key(4)
    assert device.verify_token(f"{totp(bytes.fromhex(device.key)):06d}")


def test_command_refuses_a_database_with_records_unless_forced(school, teacher):
    with pytest.raises(CommandError, match="already holds"):
        call_command("generate_scale_data", "--years", "1", stdout=StringIO())
    assert not Incident.objects.exists()


def test_command_reports_progress_and_how_to_log_in():
    out = StringIO()
    call_command(
        "generate_scale_data", "--years", "1", "--seed", "2", "--factor", "0.01", stdout=out
    )
    text = out.getvalue()
    assert "hand-in rows:" in text
    assert scale_data.dsl_password(2) in text
    assert scale_data.dsl_totp_key(2) in text
    assert Incident.objects.exists()
