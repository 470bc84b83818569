"""Filtering and monitoring (KCSIE 2023; the DfE's filtering and monitoring standards).

Each rule both ways: who records and sees reviews, decisions and alerts; a decision needs a
reason and is never changed (a reversal is a new decision); an alert is reviewed by the DSL
or a deputy acting for them, never by the headteacher alone; whom an alert is about is shown
only to them, on its own page, and that opening is logged; the annual review's actions are on
the action plan; the dashboard nudges; the governors' report counts, naming no one.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from compliance import filtering as fm
from compliance import reports
from compliance.demo import DemoContext
from compliance.models import (
    ActionPlanItem,
    FilterDecision,
    FilteringReview,
    MonitoringAlert,
    RecordAccess,
    StaffType,
)
from compliance.review_services import a_year_on
from compliance.roles import Role
from compliance.transitions import Refused
from tests import factories

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def head_only(db):
    """A headteacher who is not also a deputy DSL."""
    user = factories.UserFactory(username="head-only", roles=[str(Role.HEADTEACHER)])
    factories.StaffMemberFactory(user=user, staff_type=StaffType.LEADERSHIP)
    return user


def _review(by, **kwargs) -> FilteringReview:
    if "participants" not in kwargs:
        kwargs["participants"] = [by.staff_member]
    defaults = {
        "reviewed_on": TODAY() - datetime.timedelta(days=3),
        "what_tested": "Test sites on a pupil tablet",
        "findings": "Guest wifi lets a proxy through",
    }
    return fm.filtering_review_record(by=by, **{**defaults, **kwargs})


def _decision(by, **kwargs) -> FilterDecision:
    if "decided_by" not in kwargs:
        kwargs["decided_by"] = by.staff_member
    defaults = {
        "target": "site",
        "what": "https://proxy.example",
        "action": "block",
        "reason": "A proxy that gets round the filter",
        "decided_on": TODAY(),
    }
    return fm.filter_decision_record(by=by, **{**defaults, **kwargs})


def _alert(by, learner=None, **kwargs) -> MonitoringAlert:
    defaults = {
        "raised_at": timezone.now() - datetime.timedelta(hours=2),
        "system": "Smoothwall Monitor",
        "kind": "self_harm",
        "subject": "learner" if learner else "unknown",
        "learner": learner,
        "device": "TAB-007",
        "summary": "Searched for ways to get hurt",
    }
    return fm.alert_record(by=by, **{**defaults, **kwargs})


# The annual review and the action plan


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl", "headteacher"])
def test_the_leads_record_the_annual_review(users, role):
    review = _review(users[role])
    assert review.reference == f"FMR-{review.pk:04d}"
    assert review.next_review == a_year_on(review.reviewed_on)


@pytest.mark.parametrize("role", ["staff", "office", "governor", "outsider"])
def test_no_one_else_records_the_annual_review(users, dsl, role):
    with pytest.raises(Refused, match="annual review"):
        _review(users[role], participants=[dsl.staff_member])


def test_the_reviews_actions_are_on_the_action_plan(dsl, teacher, client):
    client.force_login(dsl)
    due = TODAY() + datetime.timedelta(days=30)
    response = client.post(
        reverse("compliance:filtering_review_add"),
        {
            "reviewed_on": TODAY().isoformat(),
            "participants": [dsl.staff_member.pk, teacher.staff_member.pk],
            "other_participants": "The IT provider",
            "what_tested": "Test sites on each device",
            "findings": "The guest wifi lets proxies through",
            "action_1_description": "Block proxies on the guest wifi",
            "action_1_owner": teacher.staff_member.pk,
            "action_1_due": due.isoformat(),
        },
    )
    review = FilteringReview.objects.get()
    assert response.status_code == 302
    assert response["Location"] == review.get_absolute_url()
    action = ActionPlanItem.objects.get()
    assert (action.source, action.source_reference) == ("filtering", review.reference)
    assert (action.owner, action.due, action.status) == (teacher.staff_member, due, "open")
    assert action.created_by == dsl
    # shown on the action plan and on the review's page
    assert (
        "Block proxies on the guest wifi"
        in client.get(reverse("compliance:actions_list")).content.decode()
    )
    page = client.get(review.get_absolute_url()).content.decode()
    assert "Block proxies on the guest wifi" in page
    assert review.next_review == a_year_on(TODAY())


def test_an_action_row_half_filled_is_refused_and_nothing_is_saved(dsl, client):
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:filtering_review_add"),
        {
            "reviewed_on": TODAY().isoformat(),
            "participants": [dsl.staff_member.pk],
            "what_tested": "Test sites",
            "findings": "Fine",
            "action_1_description": "Block proxies",
        },
    )
    assert response.status_code == 200
    assert (
        "Each action needs what is to be done, an owner and a due date."
        in response.content.decode()
    )
    assert "Block proxies" in response.content.decode()
    assert not FilteringReview.objects.exists() and not ActionPlanItem.objects.exists()


def test_a_review_needs_who_took_part_and_is_not_in_the_future(dsl):
    with pytest.raises(Refused, match="who took part"):
        _review(dsl, participants=[])
    with pytest.raises(Refused, match="future"):
        _review(dsl, reviewed_on=TODAY() + datetime.timedelta(days=1))
    with pytest.raises(Refused, match="within a year"):
        _review(dsl, next_review=TODAY() + datetime.timedelta(days=400))


def test_the_review_is_overdue_with_none_or_a_year_after_the_last(dsl):
    assert fm.filtering_review_due()["overdue"] and fm.filtering_review_due()["never"]
    _review(dsl, reviewed_on=TODAY() - datetime.timedelta(days=370))
    due = fm.filtering_review_due()
    assert due["overdue"] and not due["never"]
    _review(dsl, reviewed_on=TODAY() - datetime.timedelta(days=10))
    assert not fm.filtering_review_due()["overdue"]


# Decisions to block or allow


@pytest.mark.parametrize("action", ["block", "allow"])
def test_a_decision_needs_a_reason(dsl, action):
    with pytest.raises(Refused, match=f"decision to {action} needs the reason"):
        _decision(dsl, action=action, reason="   ")
    assert not FilterDecision.objects.exists()


def test_a_decision_without_a_reason_cannot_reach_the_database(dsl):
    with pytest.raises(IntegrityError), transaction.atomic():
        FilterDecision.objects.create(
            target="site",
            what="x",
            action="block",
            reason="",
            decided_by=dsl.staff_member,
            decided_on=TODAY(),
            recorded_by=dsl,
        )


def test_a_block_with_its_reason_is_recorded_with_who_and_when(dsl, headteacher):
    decision = _decision(dsl, decided_by=headteacher.staff_member)
    assert (decision.action, decision.decided_by, decision.recorded_by) == (
        "block",
        headteacher.staff_member,
        dsl,
    )
    assert fm.decision_in_force(decision)


def test_the_decision_form_shows_the_missing_reason_and_keeps_what_was_typed(dsl, client):
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:filter_decision_add"),
        {
            "target": "site",
            "what": "https://games.example",
            "action": "block",
            "reason": "",
            "decided_by": dsl.staff_member.pk,
            "decided_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "https://games.example" in response.content.decode()
    assert response.context["form"].errors["reason"]
    assert not FilterDecision.objects.exists()


def test_reversing_is_a_new_decision_and_the_first_is_kept(dsl, client):
    blocked = _decision(dsl)
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:filter_decision_add") + f"?reverses={blocked.pk}",
        {
            "reverses": blocked.pk,
            "action": "allow",
            "reason": "Needed for lessons",
            "decided_by": dsl.staff_member.pk,
            "decided_on": TODAY().isoformat(),
        },
    )
    assert response.status_code == 302
    allowed = FilterDecision.objects.exclude(pk=blocked.pk).get()
    assert (allowed.action, allowed.what, allowed.reverses) == ("allow", blocked.what, blocked)
    blocked.refresh_from_db()
    assert blocked.action == "block" and blocked.reason == "A proxy that gets round the filter"
    assert not fm.decision_in_force(blocked) and fm.decision_in_force(allowed)
    assert blocked.history.count() == 1  # never changed
    page = client.get(blocked.get_absolute_url()).content.decode()
    assert "reversed by" in page and allowed.reference in page
    with pytest.raises(Refused, match="already been reversed"):
        _decision(dsl, action="allow", reverses=blocked)
    with pytest.raises(Refused, match="already says allow"):
        _decision(dsl, action="allow", reverses=allowed)


def test_decisions_are_never_edited_or_deleted_through_the_app():
    from tests.authz import matrix

    decision_urls = [name for name in matrix() if "filter_decision" in name]
    assert sorted(decision_urls) == [
        "compliance:filter_decision_add",
        "compliance:filter_decision_detail",
        "compliance:filter_decision_list",
    ]


@pytest.mark.parametrize("role", ["staff", "office", "governor"])
def test_no_one_else_records_a_decision(users, role):
    with pytest.raises(Refused):
        _decision(users[role], decided_by=users["dsl"].staff_member)


# Monitoring alerts


def test_an_alert_lists_no_name_and_its_page_names_the_learner_to_the_dsl(dsl, community, client):
    learner = community["learner"]
    alert = _alert(dsl, learner=learner)
    client.force_login(dsl)
    listing = client.get(reverse("compliance:alert_list")).content.decode()
    assert alert.reference in listing and "A learner" in listing
    assert learner.last_name not in listing and learner.first_name not in listing
    page = client.get(alert.get_absolute_url()).content.decode()
    assert escape(learner.full_name) in page
    assert RecordAccess.objects.filter(user=dsl, object_id=str(alert.pk)).count() == 1


def test_the_headteacher_alone_sees_the_alert_but_not_whom_it_is_about(
    dsl, head_only, community, client
):
    learner = community["learner"]
    alert = _alert(dsl, learner=learner)
    client.force_login(head_only)
    response = client.get(alert.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert learner.last_name not in page and "named to the DSL" in page
    assert "Review this alert" not in page
    assert client.get(reverse("compliance:alert_review", args=[alert.pk])).status_code == 403
    assert (
        client.post(
            reverse("compliance:alert_review", args=[alert.pk]), {"outcome": "no_action"}
        ).status_code
        == 403
    )
    with pytest.raises(Refused, match="Only the DSL, or a deputy"):
        fm.alert_review(alert=alert, by=head_only, outcome="no_action")
    history = client.get(reverse("compliance:history", args=["alert", alert.pk]))
    assert history.status_code == 403
    assert not RecordAccess.objects.filter(user=head_only).exists()


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl"])
def test_the_dsl_or_a_deputy_reviews_an_alert(users, role, client):
    alert = _alert(users["dsl"])
    client.force_login(users[role])
    response = client.post(
        reverse("compliance:alert_review", args=[alert.pk]),
        {"outcome": "spoke_to", "note": "Spoke to the pupil with the class teacher."},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.reviewed_by) == ("reviewed", "spoke_to", users[role])
    with pytest.raises(Refused, match="already been reviewed"):
        fm.alert_review(alert=alert, by=users["dsl"], outcome="no_action")


@pytest.mark.parametrize("role", ["staff", "office", "governor", "outsider"])
def test_no_one_else_reviews_an_alert(users, role):
    alert = _alert(users["dsl"])
    with pytest.raises(Refused):
        fm.alert_review(alert=alert, by=users[role], outcome="no_action")


def test_an_incident_raised_needs_the_incidents_reference(dsl):
    alert = _alert(dsl)
    with pytest.raises(Refused, match="reference of the incident"):
        fm.alert_review(alert=alert, by=dsl, outcome="incident")
    with pytest.raises(Refused, match="reference of the incident"):
        fm.alert_review(alert=alert, by=dsl, outcome="incident", incident_reference="Amira K")
    with pytest.raises(Refused, match="only"):
        fm.alert_review(
            alert=alert, by=dsl, outcome="no_action", incident_reference="INC-2026-AB12CD"
        )
    reviewed = fm.alert_review(
        alert=alert, by=dsl, outcome="incident", incident_reference="inc-2026-ab12cd"
    )
    assert reviewed.incident_reference == "INC-2026-AB12CD"


def test_spoke_to_says_what_was_said(dsl):
    with pytest.raises(Refused, match="what was agreed"):
        fm.alert_review(alert=_alert(dsl), by=dsl, outcome="spoke_to")


def test_a_learner_is_named_only_on_an_alert_about_a_learner(dsl, community):
    with pytest.raises(Refused, match="only for an alert about a learner"):
        _alert(dsl, learner=community["learner"], subject="guest")
    with pytest.raises(IntegrityError), transaction.atomic():
        MonitoringAlert.objects.create(
            raised_at=timezone.now(),
            system="x",
            kind="other",
            subject="staff",
            learner=community["learner"],
            summary="x",
            recorded_by=dsl,
        )


def test_a_review_without_who_cannot_reach_the_database(dsl):
    alert = _alert(dsl)
    alert.status = "reviewed"
    alert.outcome = "no_action"
    with pytest.raises(IntegrityError), transaction.atomic():
        alert.save()


# The dashboard


def test_the_dashboard_nudges_the_dsl(dsl, school, client):
    _alert(dsl)
    client.force_login(dsl)
    page = client.get(reverse("dashboard")).content.decode()
    assert "No annual review of filtering and monitoring has been recorded." in page
    assert "1 monitoring alert awaiting your review" in page
    assert "Name the senior leader and the governor" in page
    _review(dsl)
    fm.alert_review(alert=MonitoringAlert.objects.get(), by=dsl, outcome="no_action")
    school.filtering_senior_leader = dsl.staff_member
    school.filtering_governor = factories.StaffMemberFactory(staff_type=StaffType.GOVERNOR)
    school.save()
    page = client.get(reverse("dashboard")).content.decode()
    assert "filtering and monitoring has been recorded" not in page
    assert "overdue" not in page.split("Filtering and monitoring", 1)[1][:600]
    assert "No monitoring alerts awaiting review" in page


@pytest.mark.parametrize("role", ["staff", "office", "governor"])
def test_the_panel_is_not_shown_to_others(users, role, client):
    client.force_login(users[role])
    assert "monitoring alert" not in client.get(reverse("dashboard")).content.decode()


# The governors' report


def test_the_report_counts_decisions_and_alerts_and_names_no_one(
    dsl, headteacher, community, school
):
    learner = community["learner"]
    school.filtering_senior_leader = headteacher.staff_member
    school.filtering_governor = factories.StaffMemberFactory(
        staff_type=StaffType.GOVERNOR, first_name="Gordon", last_name="Governance"
    )
    school.save()
    year = reports.school_year(TODAY().year if TODAY().month >= 9 else TODAY().year - 1)[0].year
    _review(
        dsl,
        participants=[dsl.staff_member, headteacher.staff_member, school.filtering_governor],
        other_participants="Acme IT (Jo Bloggs)",
    )
    for n in range(6):
        _decision(dsl, what=f"https://site{n}.example")
    _decision(dsl, target="category", what="Games", action="allow", reason="Lessons")
    for _ in range(5):
        fm.alert_review(alert=_alert(dsl, learner=learner), by=dsl, outcome="no_action")
    _alert(dsl, learner=learner)
    section = next(s for s in reports.report_for(year) if s.key == "filtering")
    figures = dict(section.figures)
    assert figures["Senior leader responsible named"] == "yes"
    assert figures["Governor responsible named"] == "yes"
    assert figures["Last review"] == f"{TODAY() - datetime.timedelta(days=3):%d/%m/%Y}"
    assert figures["Who took part in the last review"] == (
        "the DSL, the senior leader responsible, the governor responsible, "
        "people from outside the school"
    )
    decisions = {row[0]: row[1:] for row in section.tables[0]["rows"]}
    assert decisions == {"Block": [6, 0, 6], "Allow": [0, "fewer than 5", "fewer than 5"]}
    alerts = {row[0]: row[1] for row in section.tables[1]["rows"]}
    assert alerts == {
        "No further action": 5,
        "Spoke to the person": 0,
        "Incident raised": 0,
        "Awaiting review": "fewer than 5",
    }
    csv_text = reports.report_csv(year)
    for name in (
        learner.first_name,
        learner.last_name,
        "Hawksley",
        "Davis",
        "Governance",
        "Bloggs",
        "Acme",
        "proxy",
        "site0",
    ):
        assert name not in csv_text, name
    # the review's action (none here) and the source row appear in the action plan section
    assert "Filtering and monitoring review" in csv_text


def test_governors_reach_the_review_only_through_their_report(governor, dsl, client):
    review = _review(dsl)
    client.force_login(governor)
    assert client.get(review.get_absolute_url()).status_code == 403
    year = TODAY().year if TODAY().month >= 9 else TODAY().year - 1
    page = client.get(reverse("compliance:report_detail", args=[year])).content.decode()
    assert "Filtering and monitoring" in page and "Last review" in page


# The demo


def test_the_demo_seeder_makes_every_state_and_runs_again(users, community, school):
    from compliance import demo_filtering

    ctx = DemoContext(
        today=TODAY(),
        now=timezone.now(),
        users={"dsl": users["dsl"], "head": users["headteacher"]},
    )
    factories.StaffMemberFactory(staff_type=StaffType.GOVERNOR)
    first = demo_filtering.seed(ctx)
    assert "annual review" in first and "alerts" in first
    assert ActionPlanItem.objects.filter(source="filtering").count() == 2
    assert FilterDecision.objects.filter(reversed_by__isnull=False).count() == 1
    statuses = set(MonitoringAlert.objects.values_list("status", flat=True))
    assert statuses == {"awaiting", "reviewed"}
    outcomes = set(MonitoringAlert.objects.exclude(outcome="").values_list("outcome", flat=True))
    assert outcomes == set(MonitoringAlert.Outcome.values)
    counts = (FilteringReview.objects.count(), MonitoringAlert.objects.count())
    assert demo_filtering.seed(ctx) == "Filtering demo: already there."
    assert (FilteringReview.objects.count(), MonitoringAlert.objects.count()) == counts


# Query counts: the lists run a fixed number of queries, however many rows

# session, user, roles; the layout's school and policy; the session saved (3)
_EVERY_PAGE = 8
LIST_QUERIES = {
    # the last review (the due date), count, rows, who took part (prefetched)
    "compliance:filtering_review_list": _EVERY_PAGE + 4,
    # count, rows (with who decided and any reversal joined)
    "compliance:filter_decision_list": _EVERY_PAGE + 2,
    # count, rows (no person read)
    "compliance:alert_list": _EVERY_PAGE + 2,
}


@pytest.mark.parametrize("name", sorted(LIST_QUERIES))
def test_the_lists_do_not_run_a_query_per_row(dsl, community, client, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(dsl)

    def grow(n):
        for _ in range(n):
            _review(dsl, participants=[dsl.staff_member, community["staff"]])
            fm.alert_review(
                alert=_decision(dsl, action="allow", reverses=_decision(dsl))
                and _alert(dsl, learner=community["learner"]),
                by=dsl,
                outcome="no_action",
            )

    counts = []
    for n in (2, 12):
        grow(n)
        client.get(reverse(name))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(name)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts == [LIST_QUERIES[name]] * 2, counts
