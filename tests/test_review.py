"""The policy review and governor sign-off, the action plan, training, monitoring,
acknowledgement gaps, the dashboard panels, the procedures page and the demo."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance import review_services as rs
from compliance.demo import DemoContext
from compliance.models import (
    Acknowledgement,
    ActionPlanItem,
    AnnualReportSummary,
    MonitoringCheck,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    StaffType,
    TrainingSession,
)
from compliance.selectors import current_policy
from compliance.transitions import Refused
from tests import factories

pytestmark = pytest.mark.django_db


def _record(by, number="2026.1", **kwargs) -> PolicyReview:
    today = timezone.localdate()
    return rs.review_record(
        by=by,
        trigger=kwargs.pop("trigger", "annual"),
        changes=kwargs.pop("changes", "Smart watches added."),
        version_number=number,
        date_written=kwargs.pop("date_written", today - datetime.timedelta(days=7)),
        **kwargs,
    )


# Recording a review


def test_dsl_records_a_review_and_its_version_is_in_force(dsl):
    review = _record(dsl)
    today = timezone.localdate()
    assert review.next_review == rs.a_year_on(today)
    assert review.new_version.next_review == review.next_review
    assert review.new_version.adopted == today
    assert current_policy() == review.new_version
    assert review.history.first().history_type == "+"
    assert not review.signed_off


def test_headteacher_may_record_a_review(headteacher):
    assert _record(headteacher).reviewed_by == headteacher


@pytest.mark.parametrize("role", ["governor", "staff", "office", "deputy_dsl", "outsider"])
def test_only_the_dsl_or_headteacher_records_a_review(users, role):
    with pytest.raises(Refused, match="DSL or the headteacher"):
        _record(users[role])
    assert not PolicyReview.objects.exists()
    assert not PolicyVersion.objects.exists()


def test_a_review_is_refused_with_a_reason(dsl):
    today = timezone.localdate()
    with pytest.raises(Refused, match="at least annually"):
        _record(dsl, next_review=today + datetime.timedelta(days=400))
    with pytest.raises(Refused, match="after the date"):
        _record(dsl, date_written=today, next_review=today)
    with pytest.raises(Refused, match="what changed"):
        _record(dsl, changes="  ")
    _record(dsl, number="3")
    with pytest.raises(Refused, match="already exists"):
        _record(dsl, number="3")


# Sign-off: forbidden roles and states


@pytest.mark.parametrize(
    "role", ["dsl", "headteacher", "deputy_dsl", "staff", "office", "outsider"]
)
def test_only_a_governor_signs_off(users, role):
    review = _record(users["dsl"])
    with pytest.raises(Refused, match="Only a governor"):
        rs.review_sign_off(review=review, by=users[role])
    review.refresh_from_db()
    assert not review.signed_off


def test_a_governor_signs_off_once(dsl, governor):
    review = _record(dsl)
    signed = rs.review_sign_off(review=review, by=governor)
    assert signed.governor_signed_by == governor and signed.governor_signed_at
    with pytest.raises(Refused, match="already been signed off"):
        rs.review_sign_off(review=review, by=governor)


def test_a_sign_off_needs_the_review_recorded(dsl, governor):
    unsaved = PolicyReview(trigger="annual", changes="x", reviewed_by=dsl)
    with pytest.raises(Refused, match="recorded before"):
        rs.review_sign_off(review=unsaved, by=governor)


def test_the_journey_through_the_pages(client, dsl, governor):
    client.force_login(dsl)
    today = timezone.localdate()
    response = client.post(
        reverse("compliance:review_add"),
        {
            "trigger": "guidance",
            "changes": "KCSIE updated.",
            "version_number": "2026.2",
            "date_written": today.isoformat(),
            "next_review": "",
        },
    )
    review = PolicyReview.objects.get()
    assert response.status_code == 302 and response["Location"] == review.get_absolute_url()
    client.force_login(governor)
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Sign off this review" in page
    # governors see what was decided, never who
    assert dsl.last_name not in page.split("<main", 1)[1]
    client.post(reverse("compliance:review_sign_off", args=[review.pk]))
    review.refresh_from_db()
    assert review.governor_signed_by == governor
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Signed off on" in page and "Sign off this review" not in page


def test_a_bad_review_form_keeps_what_was_typed(client, dsl):
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:review_add"),
        {"trigger": "annual", "changes": "Typed text", "version_number": "", "date_written": ""},
    )
    assert response.status_code == 200
    assert "Typed text" in response.content.decode()
    assert not PolicyReview.objects.exists()


def test_a_refused_sign_off_is_a_message_not_a_500(client, dsl, governor):
    review = _record(dsl)
    rs.review_sign_off(review=review, by=governor)
    client.force_login(governor)
    response = client.post(reverse("compliance:review_sign_off", args=[review.pk]), follow=True)
    assert response.status_code == 200
    assert "already been signed off" in response.content.decode()


# Action plan


def test_actions_open_close_and_overdue(client, dsl, teacher):
    today = timezone.localdate()
    owner = StaffMember.objects.get(user=teacher)
    late = rs.action_create(
        by=dsl, source="monitoring", description="Check passcodes", owner=owner, due=today
    )
    ActionPlanItem.objects.filter(pk=late.pk).update(due=today - datetime.timedelta(days=1))
    late.refresh_from_db()
    assert late.overdue
    with pytest.raises(Refused, match="Only the DSL"):
        rs.action_close(action=late, by=teacher, status="done")
    with pytest.raises(Refused, match="Choose"):
        rs.action_close(action=late, by=dsl, status="open")
    client.force_login(dsl)
    page = client.get(reverse("compliance:actions_list")).content.decode()
    assert "1 overdue" in page and "table-danger" in page
    client.post(reverse("compliance:actions_close", args=[late.pk]), {"status": "done"})
    late.refresh_from_db()
    assert late.status == "done" and late.completed_at
    with pytest.raises(Refused, match="already closed"):
        rs.action_close(action=late, by=dsl, status="dropped")


def test_adding_an_action_through_the_page(client, dsl, teacher):
    client.force_login(dsl)
    owner = StaffMember.objects.get(user=teacher)
    response = client.post(
        reverse("compliance:actions_add"),
        {
            "source": "debrief",
            "source_reference": "INC-2026-0001",
            "description": "PSHE lesson on sharing images",
            "owner": owner.pk,
            "due": "2027-01-10",
        },
    )
    assert response.status_code == 302
    action = ActionPlanItem.objects.get()
    assert action.created_by == dsl and action.source == "debrief"


# Training, monitoring, acknowledgement gaps


def test_training_and_monitoring_are_recorded(client, dsl, teacher):
    client.force_login(dsl)
    owner = StaffMember.objects.get(user=teacher)
    client.post(
        reverse("compliance:training_add"),
        {"held_on": "2026-09-04", "topic": "Policy induction", "attendees": [owner.pk]},
    )
    session = TrainingSession.objects.get()
    assert list(session.attendees.all()) == [owner]
    assert session.history.count() >= 1
    client.post(
        reverse("compliance:monitoring_add"),
        {
            "checked_on": "2026-10-01",
            "what_checked": "Filtering logs",
            "findings": "None",
            "actions": "",
        },
    )
    assert MonitoringCheck.objects.get().checked_by == dsl
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("compliance:monitoring_add"),
        {"checked_on": future, "what_checked": "Logs", "findings": "x"},
    )
    assert response.status_code == 200 and MonitoringCheck.objects.count() == 1


def test_the_dsl_sees_who_has_not_acknowledged_by_staff_type(client, dsl):
    policy = factories.PolicyVersionFactory()
    done = factories.StaffMemberFactory(first_name="Dora", last_name="Done")
    missing = factories.StaffMemberFactory(first_name="Mick", last_name="Missing")
    factories.StaffMemberFactory(
        first_name="Gail", last_name="Governor", staff_type=StaffType.GOVERNOR
    )
    Acknowledgement.objects.create(
        kind="policy", staff=done, policy_version=policy, recorded_by=dsl
    )
    client.force_login(dsl)
    page = client.get(reverse("compliance:policy_acknowledgements")).content.decode()
    assert "Mick Missing" in page and "Dora Done" not in page
    assert "Teaching:" in page and "Governor:" in page and "Gail Governor" in page
    assert missing.full_name in page


def test_only_the_dsl_writes_the_summary(client, dsl, headteacher):
    year = rs.school_year_start(timezone.localdate()).year - 1
    with pytest.raises(Refused):
        rs.summary_save(by=headteacher, year_start=datetime.date(year, 9, 1), text="x")
    with pytest.raises(Refused, match="1 September"):
        rs.summary_save(by=dsl, year_start=datetime.date(year, 9, 2), text="x")
    client.force_login(dsl)
    url = reverse("compliance:report_summary", args=[year])
    client.post(url, {"text": "Lessons."})
    client.post(url, {"text": "Lessons, revised."})
    summary = AnnualReportSummary.objects.get()
    assert summary.text == "Lessons, revised." and summary.history.count() == 2


# Pages for every role


def test_governor_sees_the_policy_without_owners(client, dsl, governor):
    from compliance.models import LinkedPolicy

    owner = factories.StaffMemberFactory(first_name="Olwen", last_name="Ownerby")
    LinkedPolicy.objects.update_or_create(name="Anti-bullying policy", defaults={"owner": owner})
    client.force_login(governor)
    page = client.get(reverse("compliance:policy_detail")).content.decode()
    assert "Anti-bullying policy" in page and "Ownerby" not in page
    client.force_login(dsl)
    assert "Ownerby" in client.get(reverse("compliance:policy_detail")).content.decode()


def test_panels_on_the_dashboards(client, users, dsl, governor):
    factories.PolicyVersionFactory(
        date_written=datetime.date(2020, 1, 1), next_review=datetime.date(2021, 1, 1)
    )
    review = _record(dsl)
    client.force_login(governor)
    page = client.get("/").content.decode()
    assert 'data-panel="review_governor"' in page and review.get_absolute_url() in page
    assert 'data-panel="review_lead"' not in page
    for role in ("staff", "office", "governor", "dsl"):
        client.force_login(users[role])
        assert reverse("compliance:procedures") in client.get("/").content.decode(), role
    client.force_login(dsl)
    page = client.get("/").content.decode()
    assert 'data-panel="review_lead"' in page
    assert "awaiting a governor" in page


def test_the_overdue_review_shows_on_the_lead_panel(client, dsl):
    factories.PolicyVersionFactory(
        date_written=datetime.date(2020, 1, 1),
        adopted=datetime.date(2020, 1, 1),
        next_review=datetime.date(2021, 1, 1),
    )
    client.force_login(dsl)
    page = client.get("/").content.decode()
    assert "The policy review is overdue" in page


def test_the_procedures_page(client, teacher, school):
    client.force_login(teacher)
    page = client.get(reverse("compliance:procedures")).content.decode()
    for heading in ("How to report a concern", "Complaints procedure", "Whistleblowing"):
        assert heading in page


# The demo


def test_the_demo_seeder_makes_every_state_once(dsl, headteacher, governor):
    from compliance import demo_review

    today = timezone.localdate()
    last = rs.school_year_start(today).replace(year=rs.school_year_start(today).year - 1)
    for written in (last + datetime.timedelta(days=61), today - datetime.timedelta(days=20)):
        factories.PolicyVersionFactory(
            number=f"demo-{written}", date_written=written, next_review=rs.a_year_on(written)
        )
    context = DemoContext(
        today=today,
        now=timezone.now(),
        users={"dsl": dsl, "head": headteacher, "governor": governor},
    )
    summary = demo_review.seed(context)
    assert "signed" in summary or "review" in summary
    # last year's review is signed off; the latest awaits the governor
    assert [r.signed_off for r in PolicyReview.objects.order_by("reviewed_at")] == [True, False]
    statuses = set(ActionPlanItem.objects.values_list("status", flat=True))
    assert statuses == {"open", "done"}
    assert any(a.overdue for a in ActionPlanItem.objects.all())
    assert AnnualReportSummary.objects.filter(year_start=last).exists()
    counts = (TrainingSession.objects.count(), MonitoringCheck.objects.count())
    assert demo_review.seed(context).endswith("already there.")
    assert (TrainingSession.objects.count(), MonitoringCheck.objects.count()) == counts


def test_review_history_is_for_the_leads_not_governors(client, dsl, governor):
    review = _record(dsl)
    rs.review_sign_off(review=review, by=governor)
    url = reverse("compliance:history", args=["review", review.pk])
    client.force_login(governor)
    assert client.get(url).status_code == 403
    client.force_login(dsl)
    response = client.get(url)
    assert response.status_code == 200
    assert url in client.get(review.get_absolute_url()).content.decode()
