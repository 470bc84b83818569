"""The reminders devices and incidents add to `send_reminders`: by count or reference and
link, to the roles that act on them, never a name."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from compliance.models import Acknowledgement, PolicyVersion, StaffMember
from compliance.reminders import send_reminders
from devices import reception, services
from devices.models import Exemption, HandIn
from devices.reception import DeviceUse
from incidents import services as incident_services
from incidents.models import Category, Location
from tests import factories
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _email(settings, users, community):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://school.example"
    for user in users.values():
        user.email = f"{user.username}@school.example"
        user.save()
    # nothing of compliance's own is due: the policy is reviewed and acknowledged
    today = timezone.localdate()
    policy = PolicyVersion.objects.create(
        number="1.0",
        date_written=today - datetime.timedelta(days=30),
        adopted=today - datetime.timedelta(days=30),
        next_review=today + datetime.timedelta(days=300),
    )
    for staff in StaffMember.objects.filter(user__isnull=False):
        for kind in Acknowledgement.Kind.values:
            Acknowledgement.objects.create(
                staff=staff, kind=kind, policy_version=policy, recorded_by=staff.user
            )


def _body(user) -> str:
    return "\n".join(m.body for m in mail.outbox if m.to == [user.email])


def test_an_exemption_ending_and_an_agreement_awaiting_reach_the_head(users, community):
    exemption_in(
        Exemption.Status.AGREEMENT_ISSUED,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )
    active = exemption_in(
        Exemption.Status.ACTIVE,
        learner=community["other_learner"],
        requester=users["dsl"],
        head=users["headteacher"],
    )
    Exemption.objects.filter(pk=active.pk).update(
        ends=timezone.localdate(), review_on=timezone.localdate()
    )
    send_reminders(today=timezone.localdate())
    head = _body(users["headteacher"])
    assert "1 exemption ending within 7 days" in head
    assert "1 exemption agreement awaiting signatures" in head
    assert "https://school.example/devices/exemptions/" in head
    assert "Amira" not in head and "Khan" not in head
    assert "exemption" not in _body(users["staff"])


def test_a_visitor_agreement_never_signed_reaches_the_office(users):
    visitor = factories.VisitorFactory()
    visit = reception.visit_sign_in(
        visitor=visitor,
        host=users["dsl"].staff_member,
        purpose="Meeting",
        use=DeviceUse(briefing_given=True, briefed_by=users["office"].staff_member, use="none"),
        by=users["office"],
    )
    reception.visit_sign_out(visit=visit, by=users["office"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    send_reminders(today=timezone.localdate())
    assert "visitor device agreement" not in _body(users["office"])  # the same day: not yet
    mail.outbox.clear()
    send_reminders(today=tomorrow)
    office = _body(users["office"])
    assert "1 visitor device agreement from earlier visits never signed" in office
    assert visitor.last_name not in office


def test_devices_left_uncollected_reach_the_dsl_and_head(users, community):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    services.hand_in_mark(learner=community["learner"], day=yesterday, by=users["staff"])
    assert HandIn.objects.filter(collected_at__isnull=True).count() == 1
    send_reminders(today=timezone.localdate())
    for role in ("dsl", "headteacher"):
        assert "1 handed-in device not collected" in _body(users[role])
    assert "handed-in" not in _body(users["staff"])


def test_a_late_lado_referral_reaches_the_dsl_and_head_by_reference(users, community):
    incident = incident_services.incident_report(
        occurred_at=timezone.now() - datetime.timedelta(days=10),
        location=Location.objects.order_by("pk").first(),
        category=Category.STAFF_PERSONAL_CONTACT,
        account="A teacher messaged a learner from a personal phone.",
        people=[],
        by=users["staff"],
    )
    type(incident).objects.filter(pk=incident.pk).update(
        staff_allegation=True, reported_at=timezone.now() - datetime.timedelta(days=10)
    )
    send_reminders(today=timezone.localdate())
    body = _body(users["dsl"])
    assert f"LADO referral overdue for {incident.reference}" in body
    assert "personal phone" not in body
