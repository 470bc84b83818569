"""`send_reminders`: each login gets what needs them, once a day, with links and no names."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from compliance import relationship_services as rel
from compliance import reminders
from compliance import review_services as rs
from compliance.models import (
    Acknowledgement,
    LinkedPolicy,
    PolicyVersion,
    ReminderSent,
    StaffMember,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://school.example"


def run() -> str:
    out = StringIO()
    call_command("send_reminders", stdout=out)
    return out.getvalue()


def to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def _policy(today, *, next_review, number="1.0", material=True):
    return PolicyVersion.objects.create(
        number=number,
        date_written=today - datetime.timedelta(days=300),
        adopted=today - datetime.timedelta(days=300),
        next_review=next_review,
        material_change=material,
    )


def _acknowledge_everything(policy):
    for staff in StaffMember.objects.filter(user__isnull=False):
        for kind in Acknowledgement.Kind.values:
            Acknowledgement.objects.create(
                staff=staff, kind=kind, policy_version=policy, recorded_by=staff.user
            )


@pytest.fixture
def everyone(users, community):
    for user in users.values():
        user.email = f"{user.username}@school.example"
        user.save()
    return users


def test_nothing_due_sends_nothing(everyone):
    today = timezone.localdate()
    _acknowledge_everything(_policy(today, next_review=today + datetime.timedelta(days=200)))
    assert not LinkedPolicy.objects.filter(next_review__isnull=False).exists()
    out = run()
    assert mail.outbox == []
    assert "0 emails sent" in out


def test_an_overdue_review_reaches_the_dsl_head_and_governors_not_staff(everyone):
    today = timezone.localdate()
    policy = _policy(today, next_review=today - datetime.timedelta(days=1))
    _acknowledge_everything(policy)
    run()
    for role in ("dsl", "headteacher", "governor"):
        (message,) = to(everyone[role])
        assert "The policy review was due" in message.body
        assert "https://school.example/" in message.body
    for role in ("staff", "office", "deputy_dsl", "outsider"):
        assert not any("policy review" in m.body for m in to(everyone[role])), role


def test_a_review_due_soon_reaches_the_dsl_and_head_but_not_yet_governors(everyone):
    today = timezone.localdate()
    _acknowledge_everything(_policy(today, next_review=today + datetime.timedelta(days=10)))
    run()
    assert "The policy review is due" in to(everyone["dsl"])[0].body
    assert not to(everyone["governor"])


def test_overdue_actions_reach_the_leads_and_their_owner(everyone, community):
    today = timezone.localdate()
    _acknowledge_everything(_policy(today, next_review=today + datetime.timedelta(days=200)))
    owner = community["staff"]  # the teacher
    for due in (today - datetime.timedelta(days=2), today - datetime.timedelta(days=9), today):
        rs.action_create(
            by=everyone["dsl"], source="review", description="Update posters", owner=owner, due=due
        )
    run()
    assert "2 actions on the action plan overdue" in to(everyone["deputy_dsl"])[0].body
    assert "2 actions you own on the action plan overdue" in to(everyone["staff"])[0].body
    assert not to(everyone["office"])


def test_staff_who_have_not_acknowledged_are_reminded_and_a_material_change_asks_again(
    everyone,
):
    today = timezone.localdate()
    first = _policy(today, next_review=today + datetime.timedelta(days=200))
    _acknowledge_everything(first)
    # a wording-only version does not ask again
    PolicyVersion.objects.create(
        number="1.1",
        date_written=today - datetime.timedelta(days=10),
        adopted=today - datetime.timedelta(days=10),
        next_review=today + datetime.timedelta(days=300),
        material_change=False,
    )
    run()
    assert not any("acknowledge" in m.body for m in mail.outbox)
    # a material one does, for everyone with a staff record and a login
    mail.outbox.clear()
    PolicyVersion.objects.create(
        number="2.0",
        date_written=today - datetime.timedelta(days=5),
        adopted=today - datetime.timedelta(days=5),
        next_review=today + datetime.timedelta(days=300),
    )
    run()
    body = to(everyone["staff"])[0].body
    assert "Please read and acknowledge the Mobile and Smart Technology Policy" in body
    assert "acceptable use policy" not in body  # the AUP acknowledgement still stands
    assert "/policy/read/" in body


def test_relationship_declarations_awaiting_discussion_and_to_confirm(everyone):
    today = timezone.localdate()
    _acknowledge_everything(_policy(today, next_review=today + datetime.timedelta(days=200)))
    rel.declaration_create(
        by=everyone["staff"],
        relationship_with="learner",
        kind="relative",
        who="Amira Khan, 3A",
        nature="My niece.",
    )
    rs.review_record(
        by=everyone["dsl"],
        trigger="annual",
        changes="None",
        version_number="3.0",
        date_written=today,
        material_change=False,
    )
    run()
    assert "1 pre-existing relationship declaration awaiting discussion" in (
        to(everyone["headteacher"])[0].body
    )
    assert "to confirm since the policy was reviewed" in to(everyone["staff"])[0].body
    assert (
        not to(everyone["deputy_dsl"]) or "relationship" not in to(everyone["deputy_dsl"])[0].body
    )


def test_a_second_run_the_same_day_sends_nothing_again(everyone):
    today = timezone.localdate()
    _policy(today, next_review=today - datetime.timedelta(days=1))
    run()
    sent = len(mail.outbox)
    assert sent > 0
    out = run()
    assert len(mail.outbox) == sent
    assert "0 emails sent" in out and "already sent today" in out
    # one email per login, holding every reminder for them
    assert len({tuple(m.to) for m in mail.outbox}) == sent


def test_a_new_reminder_later_the_same_day_is_sent_alone(everyone):
    today = timezone.localdate()
    _acknowledge_everything(_policy(today, next_review=today - datetime.timedelta(days=1)))
    run()
    mail.outbox.clear()
    rs.action_create(
        by=everyone["dsl"],
        source="review",
        description="Check filtering",
        owner=everyone["dsl"].staff_member,
        due=today - datetime.timedelta(days=1),
    )
    run()
    (message,) = to(everyone["dsl"])
    assert "action plan overdue" in message.body
    assert "policy review" not in message.body


def test_a_failed_send_is_not_recorded_so_the_next_run_tries_again(everyone, monkeypatch):
    today = timezone.localdate()
    _policy(today, next_review=today - datetime.timedelta(days=1))

    def broken(*args, **kwargs):
        raise ConnectionError("mail server down")

    monkeypatch.setattr(reminders, "send_mail", broken)
    with pytest.raises(ConnectionError):
        run()
    assert not ReminderSent.objects.exists()
    monkeypatch.undo()
    run()
    assert mail.outbox


def test_no_email_names_a_person(everyone, community):
    today = timezone.localdate()
    _policy(today, next_review=today - datetime.timedelta(days=1))
    rs.action_create(
        by=everyone["dsl"],
        source="debrief",
        source_reference="INC-2026-0001",
        description="Speak to Amira Khan's parents",
        owner=community["staff"],
        due=today - datetime.timedelta(days=1),
    )
    rel.declaration_create(
        by=everyone["staff"],
        relationship_with="learner",
        kind="relative",
        who="Amira Khan, 3A",
        nature="My niece Amira.",
    )
    run()
    names = {"Amira", "Khan", "Hana", "Zed", "Tom Teacher", "Alice", "Hawksley", "Barbara"}
    for message in mail.outbox:
        text = message.subject + message.body
        assert not [n for n in names if n in text], text


def test_logins_without_an_email_or_inactive_are_skipped(everyone):
    today = timezone.localdate()
    _policy(today, next_review=today - datetime.timedelta(days=1))
    everyone["dsl"].email = ""
    everyone["dsl"].save()
    everyone["headteacher"].is_active = False
    everyone["headteacher"].save()
    out = run()
    assert not to(everyone["headteacher"])
    assert "with reminders but no email address" in out


def test_the_dry_run_sends_and_records_nothing(everyone):
    today = timezone.localdate()
    _policy(today, next_review=today - datetime.timedelta(days=1))
    out = StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert mail.outbox == []
    assert not ReminderSent.objects.exists()
    assert "would send to login #" in out.getvalue()


def test_a_registered_reminder_from_another_app_is_sent(everyone):
    reminders.register_reminder(
        reminders.Reminder(
            "test_extra",
            "From another app",
            lambda today: {everyone["office"].pk: ["3 agreements awaiting signatures: link"]},
        )
    )
    try:
        run()
        assert "3 agreements awaiting signatures" in to(everyone["office"])[0].body
    finally:
        reminders._REMINDERS.pop("test_extra")
