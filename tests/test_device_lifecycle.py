"""Retiring and finding school devices; confiscations only for a teacher's own learners."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from compliance.transitions import Refused
from devices import services
from devices.models import Exemption, SchoolDevice
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "allowed"),
    [("in_store", True), ("lost", True), ("issued", False), ("retired", False)],
)
def test_retire_from_each_status(office, start, allowed):
    device = factories.SchoolDeviceFactory()
    if start == "issued":
        staff = factories.StaffMemberFactory()
        factories.AupAcknowledgementFactory(staff=staff)
        services.device_issue(device=device, staff=staff, by=office)
    elif start == "lost":
        services.device_report_lost(device=device, details="On the bus", by=office)
    elif start == "retired":
        services.device_retire(device=device, reason="Broken screen", by=office)
    if allowed:
        services.device_retire(device=device, reason="Replaced", by=office)
        device.refresh_from_db()
        assert device.status == SchoolDevice.Status.RETIRED
        assert "Retired: Replaced" in device.notes
    else:
        with pytest.raises(Refused):
            services.device_retire(device=device, reason="Replaced", by=office)


def test_a_lost_device_found_goes_back_to_store(office, teacher):
    device = factories.SchoolDeviceFactory()
    with pytest.raises(Refused, match="not lost"):
        services.device_found(device=device, details="In a drawer", by=office)
    services.device_report_lost(device=device, details="Missing after the trip", by=office)
    with pytest.raises(Refused, match="Only the office"):
        services.device_found(device=device, details="In a drawer", by=teacher)
    with pytest.raises(Refused, match="where it was found"):
        services.device_found(device=device, details=" ", by=office)
    services.device_found(device=device, details="In the trip bag", by=office)
    device.refresh_from_db()
    assert device.status == SchoolDevice.Status.IN_STORE


def test_staff_confiscate_only_from_their_own_learners(teacher, office, community):
    category = factories.DeviceCategoryFactory()
    kwargs = {
        "category": category,
        "description": "Phone",
        "reason": "Used in class",
        "stored_where": "Drawer",
        "taken_by": community["staff"],
    }
    with pytest.raises(Refused, match="their own classes"):
        services.confiscation_record(learner=community["other_learner"], by=teacher, **kwargs)
    services.confiscation_record(learner=community["learner"], by=teacher, **kwargs)
    services.confiscation_record(learner=community["other_learner"], by=office, **kwargs)


def test_a_teacher_asks_only_for_their_own_learners_and_themselves(teacher, community):
    category = factories.DeviceCategoryFactory()
    today = timezone.localdate()
    kwargs = {"category": category, "reason": "Medical", "starts": today, "ends": today}
    with pytest.raises(Refused, match="classes you teach"):
        services.exemption_request(
            kind="learner_exceptional", subject=community["other_learner"], by=teacher, **kwargs
        )
    services.exemption_request(
        kind="learner_exceptional",
        subject=community["learner"],
        by=teacher,
        reason_kind="medical",
        review_on=today,
        **kwargs,
    )
    someone_else = factories.StaffMemberFactory()
    with pytest.raises(Refused, match="for themselves"):
        services.exemption_request(
            kind="staff_teaching_time", subject=someone_else, by=teacher, **kwargs
        )
    services.exemption_request(
        kind="staff_teaching_time", subject=community["staff"], by=teacher, **kwargs
    )


def test_the_daily_command_expires_exemptions_past_their_end(headteacher, dsl, community):
    exemption = factories.ExemptionFactory(learner=community["learner"])
    Exemption.objects.filter(pk=exemption.pk).update(
        status=Exemption.Status.ACTIVE,
        decided_by=headteacher,
        decided_at=timezone.now(),
        starts=timezone.localdate() - datetime.timedelta(days=10),
        ends=timezone.localdate() - datetime.timedelta(days=1),
    )
    out = StringIO()
    call_command("expire_exemptions", stdout=out)
    assert out.getvalue().strip() == "1 exemption expired."
    exemption.refresh_from_db()
    assert exemption.status == Exemption.Status.EXPIRED
    assert not exemption.in_force_on(timezone.localdate())
