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


# A new version asks for acknowledgement again only when it is a material change


def _version(number, days_ago, *, material=True):
    today = timezone.localdate()
    return PolicyVersion.objects.create(
        number=number,
        date_written=today - datetime.timedelta(days=days_ago),
        adopted=today - datetime.timedelta(days=days_ago),
        next_review=today + datetime.timedelta(days=300),
        material_change=material,
    )


def _acknowledge(client, user, kind="policy"):
    client.force_login(user)
    return client.post(reverse("compliance:acknowledge"), {"kind": kind})


def _due(client, user) -> dict:
    from compliance.panels import acknowledgement_items

    staff = StaffMember.objects.get(user=user)
    return {item["kind"].value: item["due"] for item in acknowledgement_items(staff)}


def test_a_wording_only_version_does_not_ask_again_and_a_material_one_does(client, teacher, dsl):
    _version("1.0", 100)
    assert _due(client, teacher) == {"policy": True, "aup": True}
    _acknowledge(client, teacher)
    _acknowledge(client, teacher, "aup")
    assert _due(client, teacher) == {"policy": False, "aup": False}

    _version("1.1", 50, material=False)
    assert _due(client, teacher)["policy"] is False
    client.force_login(dsl)
    page = client.get(reverse("compliance:policy_acknowledgements")).content.decode()
    assert "Tom Teacher" not in page  # still counted under 1.1

    _version("2.0", 10)
    assert _due(client, teacher) == {"policy": True, "aup": False}
    client.force_login(teacher)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "a new version" in dashboard
    assert reverse("compliance:policy_read") in dashboard
    client.force_login(dsl)
    page = client.get(reverse("compliance:policy_acknowledgements")).content.decode()
    assert "Tom Teacher" in page
    lead = client.get(reverse("dashboard")).content.decode()
    assert "staff yet to acknowledge the current policy" in lead

    # acknowledging the version in force now counts, and so would a later wording-only one
    _acknowledge(client, teacher)
    assert _due(client, teacher)["policy"] is False
    _version("2.1", 2, material=False)
    assert _due(client, teacher)["policy"] is False


def test_an_acknowledgement_of_an_older_version_after_a_material_change_does_not_count(
    client, teacher, dsl
):
    old = _version("1.0", 100)
    _version("2.0", 10)
    staff = StaffMember.objects.get(user=teacher)
    Acknowledgement.objects.create(
        kind="policy", staff=staff, policy_version=old, recorded_by=teacher
    )
    assert _due(client, teacher)["policy"] is True


def test_the_policy_is_read_where_it_is_acknowledged(client, teacher):
    _version("1.0", 100)
    client.force_login(teacher)
    page = client.get(reverse("compliance:policy_read")).content.decode()
    assert "Staff use of mobile and smart technology" in page
    assert "Never use a personal phone or device to contact learners" in page
    assert "I have read it" in page
    _acknowledge(client, teacher)
    page = client.get(reverse("compliance:policy_read")).content.decode()
    assert "acknowledged" in page and "(Version 1.0)" in page


def test_the_review_form_sets_the_material_change_flag(client, dsl):
    client.force_login(dsl)
    today = timezone.localdate()
    fields = {
        "trigger": "annual",
        "changes": "Typo fixed.",
        "date_written": today.isoformat(),
        "next_review": "",
    }
    client.post(reverse("compliance:review_add"), {**fields, "version_number": "7.1"})
    assert PolicyVersion.objects.get(number="7.1").material_change is False  # unticked
    client.post(
        reverse("compliance:review_add"),
        {**fields, "version_number": "7.2", "material_change": "on"},
    )
    assert PolicyVersion.objects.get(number="7.2").material_change is True
    assert 'name="material_change"' in client.get(reverse("compliance:review_add")).content.decode()


def test_acknowledgement_rates_are_percentages(client, dsl):
    policy = factories.PolicyVersionFactory()
    staff = [factories.StaffMemberFactory(first_name=f"P{i}") for i in range(3)]
    Acknowledgement.objects.create(
        kind="policy", staff=staff[0], policy_version=policy, recorded_by=dsl
    )
    client.force_login(dsl)
    page = client.get(reverse("compliance:policy_acknowledgements")).content.decode()
    active = StaffMember.objects.filter(active=True).count()
    assert f"{round(100 / active)}%</strong> of active staff" in page
    assert f"(1 of {active})" in page


def test_a_report_rate_never_gives_away_a_small_count():
    from compliance import reports

    assert reports.rate(0, 10) == "0%"
    assert reports.rate(10, 10) == "100%"
    assert reports.rate(5, 10) == "50%"
    assert reports.rate(3, 10) == "fewer than 5"  # the part is small
    assert reports.rate(8, 10) == "fewer than 5"  # the rest is small
    assert reports.rate(2, 3) == "fewer than 5"
    assert reports.rate(0, 0) == "none to count"


# Edit pages: linked policies, actions, training and monitoring


def test_the_leads_edit_a_linked_policy_and_a_stale_save_is_refused(client, dsl, deputy_dsl):
    from compliance.models import LinkedPolicy

    linked = LinkedPolicy.objects.order_by("pk").first()
    owner = StaffMember.objects.get(user=dsl)
    url = reverse("compliance:linked_policy_edit", args=[linked.pk])
    client.force_login(deputy_dsl)
    fields = {"name": linked.name, "owner": owner.pk, "next_review": "2027-03-01"}
    response = client.post(url, {**fields, "version": linked.version})
    assert response.status_code == 302
    linked.refresh_from_db()
    assert linked.owner == owner and linked.version == 2
    stale = client.post(url, {**fields, "next_review": "2027-04-01", "version": 1})
    assert stale.status_code == 409
    linked.refresh_from_db()
    assert linked.next_review == datetime.date(2027, 3, 1)
    assert linked.history.first().history_user == deputy_dsl


def test_an_open_action_is_edited_and_a_closed_one_is_not(client, dsl, teacher):
    owner = StaffMember.objects.get(user=teacher)
    action = rs.action_create(
        by=dsl, source="review", description="Posters", owner=owner, due=timezone.localdate()
    )
    client.force_login(dsl)
    url = reverse("compliance:actions_edit", args=[action.pk])
    fields = {
        "source": "review",
        "source_reference": "",
        "description": "Posters in every classroom",
        "owner": owner.pk,
        "due": "2027-01-31",
        "version": action.version,
    }
    assert client.post(url, fields).status_code == 302
    action.refresh_from_db()
    assert action.description == "Posters in every classroom"
    assert action.status == ActionPlanItem.Status.OPEN
    # closing it bumps the version: an edit made from the copy before is refused
    rs.action_close(action=action, by=dsl, status="done")
    response = client.post(url, {**fields, "version": action.version, "description": "Later"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "compliance:actions_list"
    )
    action.refresh_from_db()
    assert action.description == "Posters in every classroom"
    assert action.status == ActionPlanItem.Status.DONE


def test_an_edit_racing_a_close_is_refused(client, dsl, teacher):
    owner = StaffMember.objects.get(user=teacher)
    action = rs.action_create(
        by=dsl, source="review", description="Posters", owner=owner, due=timezone.localdate()
    )
    read_at = action.version
    client.force_login(dsl)
    # someone else edits it first
    action.description = "Changed elsewhere"
    action.version += 1
    action.save()
    response = client.post(
        reverse("compliance:actions_edit", args=[action.pk]),
        {
            "source": "review",
            "description": "Mine",
            "owner": owner.pk,
            "due": "2027-01-31",
            "version": read_at,
        },
    )
    assert response.status_code == 409


def test_training_and_monitoring_are_edited_with_the_add_pages_rules(client, headteacher, teacher):
    owner = StaffMember.objects.get(user=teacher)
    session = rs.training_record(
        by=headteacher, held_on=timezone.localdate(), topic="Induction", attendees=[]
    )
    check = rs.monitoring_record(
        by=headteacher, checked_on=timezone.localdate(), what_checked="Logs", findings="None"
    )
    client.force_login(headteacher)
    future = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()
    url = reverse("compliance:training_edit", args=[session.pk])
    refused = client.post(
        url, {"held_on": future, "topic": "Induction", "attendees": [owner.pk], "version": 1}
    )
    assert refused.status_code == 200 and "once it has been held" in refused.content.decode()
    client.post(
        url,
        {"held_on": "2026-09-04", "topic": "Induction", "attendees": [owner.pk], "version": 1},
    )
    session.refresh_from_db()
    assert list(session.attendees.all()) == [owner] and session.version == 2
    url = reverse("compliance:monitoring_edit", args=[check.pk])
    response = client.post(
        url,
        {
            "checked_on": timezone.localdate().isoformat(),
            "what_checked": "Logs",
            "findings": "Two alerts, both resolved",
            "actions": "Added to the plan",
            "version": 1,
        },
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.findings == "Two alerts, both resolved"
    page = client.get(reverse("compliance:monitoring_list")).content.decode()
    assert reverse("compliance:monitoring_edit", args=[check.pk]) in page


@pytest.mark.parametrize("role", ["staff", "office", "governor"])
def test_others_cannot_edit_plans(client, users, dsl, role):
    check = rs.monitoring_record(
        by=dsl, checked_on=timezone.localdate(), what_checked="Logs", findings="None"
    )
    client.force_login(users[role])
    url = reverse("compliance:monitoring_edit", args=[check.pk])
    assert client.post(url, {"findings": "Forged", "version": 1}).status_code == 403
    check.refresh_from_db()
    assert check.findings == "None"
