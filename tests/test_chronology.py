"""A learner's chronology: every incident, search, exemption, confiscation and uncollected
device on one page, newest first, for the DSL and the deputies; a fixed number of queries
however many records there are; every opening logged."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import PhoneApproach, RecordAccess
from compliance.roles import Role
from devices import services as device_services
from devices.models import CallHome, HandIn, HandInException
from incidents import services
from incidents.models import Involvement
from incidents.views import chronology as chronology_view
from tests import factories
from tests.counts import ACCESS_LOG

pytestmark = pytest.mark.django_db


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def url_for(learner) -> str:
    return reverse("incidents:chronology", args=[learner.pk])


def incident_for(learner, *, reporter, lead, at, part=Involvement.Part.SUBJECT, triage=True):
    incident = services.incident_report(
        occurred_at=at,
        location=factories.LocationFactory(),
        category="cyberbullying",
        account="Unkind messages in a group chat.",
        people=[services.Person(part=part, learner=learner)],
        by=reporter,
    )
    if triage:
        incident = services.incident_triage(incident=incident, by=lead)
    return incident


def search_for(incident, learner, *, lead, at):
    return services.search_record(
        incident=incident,
        learner=learner,
        device="Black phone",
        searched_at=at,
        place="DSL's office",
        led_by=lead,
        no_second_reason="Nobody else was free",
        grounds="Messages reported",
        sought="The messages",
        consent_by="learner",
        consent_how="Said yes",
        outcome="returned",
        by=lead,
    )


def confiscation_for(learner, *, taker, at, by):
    return device_services.confiscation_record(
        learner=learner,
        category=factories.DeviceCategoryFactory(),
        description="Smart watch",
        reason="Used in class",
        stored_where="Office safe",
        taken_by=taker,
        taken_at=at,
        by=by,
    )


def uncollected_for(learner, *, day, by):
    return HandIn.objects.create(
        learner=learner,
        day=day,
        handed_in_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, 45))),
        received_by=by,
    )


@pytest.fixture
def records(community, dsl, teacher):
    """One of each kind for Amira, a day apart, and the same kinds for another learner."""
    amira = community["learner"]
    today = timezone.localdate()
    made = {}
    made["incident"] = incident_for(amira, reporter=teacher, lead=dsl, at=_ago(days=5))
    made["search"] = search_for(made["incident"], amira, lead=dsl, at=_ago(days=4))
    made["exemption"] = factories.ExemptionFactory(learner=amira, requested_at=_ago(days=3))
    made["confiscation"] = confiscation_for(
        amira, taker=community["staff"], at=_ago(days=2), by=dsl
    )
    made["uncollected"] = uncollected_for(amira, day=today - datetime.timedelta(days=1), by=teacher)
    # not in the chronology: collected, or today's (it may still be collected)
    collected = uncollected_for(amira, day=today - datetime.timedelta(days=6), by=teacher)
    device_services.hand_in_collect(hand_in=collected, collected_by="learner", by=teacher)
    uncollected_for(amira, day=today, by=teacher)
    # another learner's records
    other = community["other_learner"]
    theirs = incident_for(other, reporter=teacher, lead=dsl, at=_ago(days=1))
    search_for(theirs, other, lead=dsl, at=_ago(hours=20))
    factories.ExemptionFactory(learner=other)
    confiscation_for(other, taker=community["staff"], at=_ago(hours=10), by=dsl)
    uncollected_for(other, day=today - datetime.timedelta(days=1), by=teacher)
    return made


def test_every_kind_appears_newest_first_with_a_badge_and_link(client, dsl, community, records):
    client.force_login(dsl)
    response = client.get(url_for(community["learner"]))
    assert response.status_code == 200
    entries = response.context["entries"]
    assert [e["kind"] for e in entries] == [
        "Uncollected device",
        "Confiscation",
        "Exemption",
        "Search",
        "Incident",
    ]
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
    urls = [e["url"] for e in entries]
    day = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert urls == [
        f"{reverse('devices:handin_uncollected')}?date={day}",
        reverse("devices:confiscation_detail", args=[records["confiscation"].pk]),
        reverse("devices:exemption_detail", args=[records["exemption"].pk]),
        reverse("incidents:search_detail", args=[records["search"].pk]),
        reverse("incidents:incident_detail", args=[records["incident"].pk]),
    ]
    page = response.content.decode()
    for entry in entries:
        assert f'<span class="badge text-bg-secondary">{entry["kind"]}</span>' in page
    incident = entries[-1]
    assert "Subject (did it, or is alleged to have)" in incident["details"]
    assert incident["status"] == "Triaged"
    assert entries[2]["status"] == "Awaiting the headteacher's decision"
    assert entries[1]["status"] == "Held by the school"
    assert "data-print hidden" in page  # the print button (and the print stylesheet)


def test_other_learners_records_are_absent(client, dsl, community, records):
    client.force_login(dsl)
    response = client.get(url_for(community["learner"]))
    assert len(response.context["entries"]) == 5
    assert "Zed" not in response.content.decode()


def test_every_part_in_an_incident_is_shown_once(client, dsl, teacher, community):
    amira = community["learner"]
    incident = incident_for(amira, reporter=teacher, lead=dsl, at=_ago(days=1))
    services.person_add(
        incident=incident,
        person=services.Person(part=Involvement.Part.WITNESS, learner=amira),
        by=dsl,
    )
    client.force_login(dsl)
    (entry,) = client.get(url_for(amira)).context["entries"]
    parts = "Their part: Subject (did it, or is alleged to have); Witness"
    assert entry["details"].startswith(parts)


def test_a_learner_with_nothing_recorded(client, dsl, community):
    client.force_login(dsl)
    response = client.get(url_for(community["learner"]))
    assert response.context["entries"] == []
    assert "Nothing is recorded for Amira Khan." in response.content.decode()


def test_opening_it_is_logged_for_the_learner(client, deputy_dsl, community):
    client.force_login(deputy_dsl)
    client.get(url_for(community["learner"]))
    (logged,) = RecordAccess.objects.filter(content_type__model="learner")
    assert (logged.user, logged.action, logged.object_id) == (
        deputy_dsl,
        RecordAccess.Action.VIEW,
        str(community["learner"].pk),
    )


ROLES = {
    "outsider": 403,
    "governor": 403,
    "staff": 403,
    "office": 403,
    "deputy_dsl": 200,
    "headteacher": 200,  # the fixture's headteacher is also a deputy DSL
    "dsl": 200,
}


def test_roles(client, users, community):
    url = url_for(community["learner"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    for role, expected in ROLES.items():
        client.force_login(users[role])
        assert client.get(url).status_code == expected, role
    head_only = factories.UserFactory(username="head-only", roles=[Role.HEADTEACHER])
    client.force_login(head_only)
    assert client.get(url).status_code == 403
    # nothing is logged for a refused opening
    assert set(RecordAccess.objects.values_list("user__username", flat=True)) == {
        "deputy",
        "head",
        "dsl",
    }


def test_an_unknown_learner_is_404_for_the_dsl_and_403_for_others(client, dsl, teacher):
    url = reverse("incidents:chronology", args=[999999])
    client.force_login(dsl)
    assert client.get(url).status_code == 404
    client.force_login(teacher)
    assert client.get(url).status_code == 403


# Speed -------------------------------------------------------------------------------------


def _grow(community, dsl, teacher, n: int, *, start: int) -> None:
    """`n` more of every kind for Amira (all seven), each a day further back."""
    amira = community["learner"]
    today = timezone.localdate()
    for i in range(start, start + n):
        at = _ago(days=i + 1)
        incident = incident_for(amira, reporter=teacher, lead=dsl, at=at)
        search_for(incident, amira, lead=dsl, at=at + datetime.timedelta(hours=1))
        factories.ExemptionFactory(learner=amira, requested_at=at)
        confiscation_for(amira, taker=community["staff"], at=at, by=dsl)
        uncollected_for(amira, day=today - datetime.timedelta(days=i + 1), by=teacher)
        CallHome.objects.create(
            learner=amira,
            direction=CallHome.Direction.TO_HOME,
            caller=community["staff"],
            contact=community["parent"],
            reason="Unwell",
            outcome=CallHome.Outcome.SPOKE,
            called_at=at,
            recorded_by=teacher,
        )
        HandInException.objects.create(
            learner=amira,
            day=today - datetime.timedelta(days=i + 1),
            kind=HandInException.Kind.SEEN_OR_USED,
            approach=PhoneApproach.KEPT_UNSEEN,
            recorded_by=teacher,
        )


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again (idle timeout slides): savepoint, update, release.
_EVERY_PAGE = 3 + 2 + 3


def test_a_fixed_number_of_queries_for_10_or_100_records_of_each_kind(
    client, dsl, teacher, community
):
    client.force_login(dsl)
    url = url_for(community["learner"])
    _grow(community, dsl, teacher, 10, start=0)
    client.get(url)  # the content type of the access log is cached after the first
    small = _count(client, url)
    _grow(community, dsl, teacher, 90, start=10)
    large = _count(client, url)
    kinds = {e["kind"] for e in client.get(url).context["entries"]}
    assert len(kinds) == len(chronology_view.KINDS)
    # the learner; the access log with its history row; which kinds the learner has (one
    # query); one query per kind (7)
    assert small == large == _EVERY_PAGE + 1 + ACCESS_LOG + 1 + 7


def test_only_the_kinds_the_learner_has_are_read(client, dsl, teacher, community):
    client.force_login(dsl)
    amira = community["learner"]
    url = url_for(amira)
    client.get(url)  # the content type of the access log is cached after the first
    # nothing recorded: the learner, the access log, and which kinds they have
    assert _count(client, url) == _EVERY_PAGE + 1 + ACCESS_LOG + 1
    incident_for(amira, reporter=teacher, lead=dsl, at=_ago(days=2))
    today = timezone.localdate()
    # neither is shown (collected, or today's), so neither kind is read
    uncollected_for(amira, day=today, by=teacher)
    collected = uncollected_for(amira, day=today - datetime.timedelta(days=3), by=teacher)
    device_services.hand_in_collect(hand_in=collected, collected_by="learner", by=teacher)
    assert _count(client, url) == _EVERY_PAGE + 1 + ACCESS_LOG + 1 + 1
    uncollected_for(amira, day=today - datetime.timedelta(days=1), by=teacher)
    response = client.get(url)
    assert [e["kind"] for e in response.context["entries"]] == ["Uncollected device", "Incident"]
    assert _count(client, url) == _EVERY_PAGE + 1 + ACCESS_LOG + 1 + 2


def test_a_register_exception_is_shown_with_a_link_to_the_register(client, dsl, teacher, community):
    amira = community["learner"]
    day = timezone.localdate() - datetime.timedelta(days=2)
    HandInException.objects.create(
        learner=amira,
        day=day,
        kind=HandInException.Kind.SEEN_OR_USED,
        approach=PhoneApproach.KEPT_UNSEEN,
        details="Seen at lunch",
        recorded_by=teacher,
    )
    client.force_login(dsl)
    (entry,) = client.get(url_for(amira)).context["entries"]
    assert entry["kind"] == "Register exception"
    assert entry["details"] == "Seen at lunch"
    assert entry["title"] == HandInException.Kind.SEEN_OR_USED.label
    register = reverse("devices:handin_class", args=[amira.form_class_id])
    assert entry["url"] == f"{register}?date={day.isoformat()}"


def test_each_kind_is_capped_and_the_page_says_from_when_it_is_complete(
    client, dsl, teacher, community, monkeypatch
):
    monkeypatch.setattr(chronology_view, "PER_KIND", 3)
    amira = community["learner"]
    today = timezone.localdate()
    for days in range(1, 6):
        uncollected_for(amira, day=today - datetime.timedelta(days=days), by=teacher)
    incident_for(amira, reporter=teacher, lead=dsl, at=_ago(days=30))
    client.force_login(dsl)
    response = client.get(url_for(amira))
    kinds = [e["kind"] for e in response.context["entries"]]
    assert kinds == ["Uncollected device"] * 3 + ["Incident"]
    (cut,) = response.context["truncated"]
    assert cut.kind == "Uncollected devices"
    assert timezone.localtime(
        response.context["complete_from"]
    ).date() == today - datetime.timedelta(days=3)
    assert 'data-testid="truncated"' in response.content.decode()
