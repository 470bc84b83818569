"""The demo school shows devices working: every kind of record in every state."""

import pytest

from devices import services
from devices.models import Agreement, Confiscation, Exemption, HandIn, SchoolDevice
from tests.test_seed_demo import seed


@pytest.mark.django_db
def test_devices_demo_covers_every_state_once():
    out = seed()
    assert "Devices demo:" in out

    assert set(SchoolDevice.objects.values_list("status", flat=True)) == {
        SchoolDevice.Status.IN_STORE,
        SchoolDevice.Status.ISSUED,
        SchoolDevice.Status.LOST_OR_STOLEN,
    }
    assert SchoolDevice.objects.filter(passcode_set=False, status="in_store").exists()
    assert set(Confiscation.objects.values_list("status", flat=True)) == set(
        Confiscation.Status.values
    )
    statuses = set(Exemption.objects.values_list("status", flat=True))
    assert {"requested", "refused", "issued", "active", "revoked"} <= statuses
    signed = Agreement.objects.filter(status=Agreement.Status.SIGNED)
    assert signed.count() >= 2
    for agreement in signed:
        assert services.agreement_verify(agreement.fingerprint) == (agreement, True)
    assert HandIn.objects.filter(collected_at__isnull=True).exists()  # one left overnight
    # history names the people who acted, not "the system"
    medical = Exemption.objects.filter(status="active", learner__isnull=False).first()
    assert medical.history.earliest().history_user.username == "teacher"
    assert medical.history.latest().history_user is not None

    counts = {m: m.objects.count() for m in (SchoolDevice, Confiscation, Exemption, HandIn)}
    again = seed()
    assert "0 acknowledgements, 0 school devices, 0 hand-ins" in again
    assert {m: m.objects.count() for m in counts} == counts
