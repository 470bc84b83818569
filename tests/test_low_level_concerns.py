"""Low-level concerns about staff (KCSIE 2022 onwards; issue 9, item 3).

Any member of staff raises one and sees only that it was received; the log is read by the
DSL and the headteacher alone (role-based: a deputy DSL is refused, the `headteacher`
fixture is head and deputy and reads it as head), never a concern about oneself. The
staff member's response comes before the outcome; escalation makes exactly one allegation
(an incident on the LADO route) and only once; an escalated concern is read-only. Every
opening is logged; emails carry a reference and a link only. Each rule both ways.
"""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from compliance.concurrency import StaleEdit
from compliance.models import RecordAccess
from compliance.roles import Role
from compliance.transitions import Refused
from incidents import access, concerns, retention, services
from incidents.models import Category, Incident, Involvement, LowLevelConcern, Note
from tests import factories

pytestmark = pytest.mark.django_db

ACCOUNT = "Saw Mr Quillfeather photograph children in the hall on his own phone during assembly."
REFUSED_READERS = ["anonymous", "outsider", "governor", "staff", "office", "deputy_dsl"]
READERS = ["dsl", "headteacher"]
RAISERS = ["staff", "office", "deputy_dsl", "headteacher", "dsl"]


@pytest.fixture
def hall(db):
    return factories.LocationFactory(name="Hall", restricted=False)


@pytest.fixture
def colleague(db):
    """The member of staff the concerns are about (a login with the staff role)."""
    user = factories.UserFactory(username="jones", roles=[Role.STAFF], email="jones@school.test")
    return factories.StaffMemberFactory(user=user, first_name="Gareth", last_name="Quillfeather")


def raise_concern(by, staff, location, *, account=ACCOUNT, days_ago=0) -> LowLevelConcern:
    return concerns.concern_raise(
        staff=staff,
        occurred_at=timezone.now() - datetime.timedelta(days=days_ago, minutes=5),
        location=location,
        account=account,
        by=by,
    )


@pytest.fixture
def concern(users, colleague, hall):
    return raise_concern(users["staff"], colleague, hall)


def client_as(client, users, role):
    if role != "anonymous":
        client.force_login(users[role])
    return client


# Raising -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", RAISERS)
def test_any_member_of_staff_raises_a_concern_and_sees_only_its_receipt(
    client, users, colleague, hall, role, django_capture_on_commit_callbacks
):
    client.force_login(users[role])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("incidents:concern_raise"),
            {
                "staff": colleague.pk,
                "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                "location": hall.pk,
                "account": ACCOUNT,
            },
        )
    concern = LowLevelConcern.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incidents:concern_received", args=[concern.pk])
    receipt = client.get(response.url)
    assert receipt.status_code == 200
    assert concern.reference in receipt.content.decode()
    # the receipt says it was received, and nothing of the log: not even the account
    assert ACCOUNT not in receipt.content.decode()
    assert concern.raised_by == users[role] and concern.status == LowLevelConcern.Status.OPEN


@pytest.mark.parametrize("role", ["governor", "outsider"])
def test_governors_and_logins_without_a_role_do_not_raise(client, users, colleague, hall, role):
    client.force_login(users[role])
    assert client.get(reverse("incidents:concern_raise")).status_code == 403
    with pytest.raises(Refused):
        raise_concern(users[role], colleague, hall)
    assert not LowLevelConcern.objects.exists()


def test_a_concern_is_about_someone_else(users, hall):
    me = users["staff"].staff_member
    with pytest.raises(Refused, match="yourself"):
        raise_concern(users["staff"], me, hall)


def test_a_concern_about_the_headteacher_goes_to_the_chair_of_governors(users, colleague, hall):
    head = users["headteacher"].staff_member
    with pytest.raises(Refused, match="chair of governors"):
        raise_concern(users["staff"], head, hall)
    # and the form does not offer the headteacher; it offers an ordinary colleague
    from incidents.forms_concerns import ConcernRaiseForm

    offered = dict(ConcernRaiseForm(by=users["staff"]).fields["staff"].choices)
    assert str(head.pk) not in offered
    assert str(colleague.pk) in offered
    assert str(users["staff"].staff_member.pk) not in offered


def test_a_concern_needs_an_account_and_cannot_be_in_the_future(users, colleague, hall):
    with pytest.raises(Refused, match="what you saw"):
        raise_concern(users["staff"], colleague, hall, account="   ")
    with pytest.raises(Refused, match="future"):
        concerns.concern_raise(
            staff=colleague,
            occurred_at=timezone.now() + datetime.timedelta(days=1),
            location=hall,
            account=ACCOUNT,
            by=users["staff"],
        )
    inactive = factories.StaffMemberFactory(active=False)
    with pytest.raises(Refused, match="current member of staff"):
        raise_concern(users["staff"], inactive, hall)


def test_the_email_goes_to_the_dsl_and_head_with_a_reference_and_link_only(
    users, colleague, hall, django_capture_on_commit_callbacks
):
    for role in ("dsl", "headteacher", "deputy_dsl"):
        users[role].email = f"{role}@school.test"
        users[role].save()
    with django_capture_on_commit_callbacks(execute=True):
        concern = raise_concern(users["staff"], colleague, hall)
    [email] = mail.outbox
    assert sorted(email.to) == ["dsl@school.test", "headteacher@school.test"]
    body = email.subject + email.body
    assert concern.reference in body
    assert reverse("incidents:concern_detail", args=[concern.pk]) in body
    for secret in ("Quillfeather", "Gareth", ACCOUNT, users["staff"].last_name):
        assert secret not in body


def test_a_concern_about_the_dsl_is_not_emailed_to_them(
    users, hall, django_capture_on_commit_callbacks
):
    users["dsl"].email = "dsl@school.test"
    users["dsl"].save()
    users["headteacher"].email = "head@school.test"
    users["headteacher"].save()
    with django_capture_on_commit_callbacks(execute=True):
        raise_concern(users["staff"], users["dsl"].staff_member, hall)
    assert mail.outbox[0].to == ["head@school.test"]


# Reading the log: the DSL and the headteacher alone -----------------------------------------

PAGES = ["incidents:concern_list", "incidents:concern_pattern", "incidents:concern_detail"]


def _url(name, concern):
    return reverse(name, args=[concern.pk]) if name == "incidents:concern_detail" else reverse(name)


@pytest.mark.parametrize("role", READERS)
@pytest.mark.parametrize("name", PAGES)
def test_the_dsl_and_the_headteacher_read_the_log(client, users, concern, role, name):
    response = client_as(client, users, role).get(_url(name, concern))
    assert response.status_code == 200
    assert "Quillfeather" in response.content.decode()


@pytest.mark.parametrize("role", REFUSED_READERS)
@pytest.mark.parametrize("name", PAGES)
def test_everyone_else_is_refused_the_log(client, users, concern, role, name):
    response = client_as(client, users, role).get(_url(name, concern))
    assert response.status_code == (302 if role == "anonymous" else 403)
    if role != "anonymous":
        assert "Quillfeather" not in response.content.decode()


def test_a_deputy_dsl_is_refused_but_a_head_who_is_also_deputy_reads(users, concern):
    assert Role.DEPUTY_DSL in users["headteacher"].roles  # the fixture: head and deputy
    assert access.may_read_concerns(users["headteacher"])
    assert not access.may_read_concerns(users["deputy_dsl"])
    with pytest.raises(Exception, match="DSL and the headteacher"):
        access.concerns_for(users["deputy_dsl"])


def test_the_raiser_sees_their_receipt_but_not_anothers(client, users, colleague, hall):
    mine = raise_concern(users["staff"], colleague, hall)
    theirs = raise_concern(users["office"], colleague, hall)
    client.force_login(users["staff"])
    assert client.get(reverse("incidents:concern_received", args=[mine.pk])).status_code == 200
    assert client.get(reverse("incidents:concern_received", args=[theirs.pk])).status_code == 404
    # nor the concern's own page: the raiser does not read the log, even their own entry
    assert client.get(reverse("incidents:concern_detail", args=[mine.pk])).status_code == 403


def test_no_one_reads_a_concern_about_themselves(client, users, hall, colleague):
    about_dsl = raise_concern(users["staff"], users["dsl"].staff_member, hall)
    other = raise_concern(users["staff"], colleague, hall)
    client.force_login(users["dsl"])
    assert client.get(reverse("incidents:concern_detail", args=[about_dsl.pk])).status_code == 404
    listing = client.get(reverse("incidents:concern_list")).content.decode()
    assert about_dsl.reference not in listing and other.reference in listing
    # the headteacher reads it
    client.force_login(users["headteacher"])
    assert client.get(reverse("incidents:concern_detail", args=[about_dsl.pk])).status_code == 200


def test_every_opening_of_a_concern_is_logged(client, users, concern):
    client.force_login(users["dsl"])
    before = RecordAccess.objects.filter(object_id=str(concern.pk)).count()
    client.get(reverse("incidents:concern_detail", args=[concern.pk]))
    client.get(reverse("incidents:concern_detail", args=[concern.pk]))
    logged = RecordAccess.objects.filter(user=users["dsl"], object_id=str(concern.pk))
    assert logged.count() == before + 2
    assert logged.first().content_type.model == "lowlevelconcern"


def test_the_history_page_is_for_the_dsl_and_head_alone(client, users, concern):
    url = reverse("compliance:history", args=["low_level_concern", concern.pk])
    client.force_login(users["headteacher"])
    assert client.get(url).status_code == 200
    client.force_login(users["deputy_dsl"])
    assert client.get(url).status_code == 403
    client.force_login(users["staff"])
    assert client.get(url).status_code == 403


# Response, then outcome ---------------------------------------------------------------------


def test_the_outcome_needs_the_staff_members_response_first(users, concern):
    with pytest.raises(Refused, match="response"):
        concerns.concern_record_outcome(
            concern=concern, outcome="spoken_to", detail="Reminded.", by=users["dsl"]
        )
    concerns.concern_record_response(
        concern=concern, response="Said it was for the newsletter.", by=users["dsl"]
    )
    done = concerns.concern_record_outcome(
        concern=concern,
        outcome=LowLevelConcern.Outcome.SPOKEN_TO,
        detail="Reminded of section 5; photos deleted in front of the head.",
        by=users["headteacher"],
    )
    assert done.status == LowLevelConcern.Status.CLOSED
    assert done.outcome_recorded_by == users["headteacher"]
    # closed: no more responses or outcomes
    with pytest.raises(Refused, match="outcome recorded"):
        concerns.concern_record_response(concern=done, response="More", by=users["dsl"])


@pytest.mark.parametrize("role", ["deputy_dsl", "staff", "office"])
def test_only_the_dsl_or_head_records_response_and_outcome(users, concern, role):
    with pytest.raises(Refused, match="DSL or the headteacher"):
        concerns.concern_record_response(concern=concern, response="x", by=users[role])


def test_the_steps_through_the_page_and_a_stale_copy(client, users, concern):
    client.force_login(users["dsl"])
    url = reverse("incidents:concern_response", args=[concern.pk])
    response = client.post(url, {"version": concern.version, "response": "It was an accident."})
    assert response.status_code == 302
    # a second save from the copy read before the first: refused, both shown (409)
    stale = client.post(url, {"version": concern.version, "response": "My words, typed late"})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "It was an accident." in page and "My words, typed late" in page
    concern.refresh_from_db()
    assert concern.staff_response == "It was an accident."
    with pytest.raises(StaleEdit):
        concerns.concern_record_response(
            concern=concern, response="late", by=users["dsl"], expected_version=1
        )
    outcome = client.post(
        reverse("incidents:concern_outcome", args=[concern.pk]),
        {"version": concern.version, "outcome": "support", "detail": "Training booked."},
    )
    assert outcome.status_code == 302
    concern.refresh_from_db()
    assert concern.status == LowLevelConcern.Status.CLOSED


def test_a_refused_step_comes_back_with_what_was_typed(client, users, concern):
    client.force_login(users["dsl"])
    response = client.post(
        reverse("incidents:concern_outcome", args=[concern.pk]),
        {"version": concern.version, "outcome": "no_action", "detail": "Nothing in it."},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "before the outcome" in page and "Nothing in it." in page


# Escalation to an allegation ----------------------------------------------------------------


def test_escalation_makes_exactly_one_allegation_and_only_once(
    users, concern, colleague, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = concerns.concern_escalate(
            concern=concern,
            category=Category.UNAUTHORISED_RECORDING,
            reason="A third concern: the photos were shared outside school.",
            by=users["headteacher"],
        )
    assert Incident.objects.count() == 1
    assert incident.staff_allegation
    assert incident.status == Incident.Status.TRIAGED
    assert services.lado_referral_due(incident) is not None
    [person] = incident.people.all()
    assert person.staff == colleague and person.part == Involvement.Part.SUBJECT
    assert Note.objects.filter(incident=incident, text__contains=concern.reference).exists()
    concern.refresh_from_db()
    assert concern.status == LowLevelConcern.Status.ESCALATED
    assert concern.incident == incident and concern.escalated_by == users["headteacher"]
    # no second allegation from the same concern
    with pytest.raises(Refused, match="already escalated"):
        concerns.concern_escalate(
            concern=concern, category=Category.OTHER, reason="Again", by=users["dsl"]
        )
    assert Incident.objects.count() == 1
    # and it is read-only now
    with pytest.raises(Refused, match="read-only"):
        concerns.concern_record_response(concern=concern, response="x", by=users["dsl"])
    # emails name no one
    for email in mail.outbox:
        assert "Quillfeather" not in email.body and ACCOUNT not in email.body


def test_escalation_through_the_page(client, users, concern):
    client.force_login(users["dsl"])
    url = reverse("incidents:concern_escalate", args=[concern.pk])
    data = {"version": concern.version, "category": "staff_personal_contact", "reason": "Harm."}
    response = client.post(url, data)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    incident = Incident.objects.get()
    assert 'data-testid="escalated"' in page and incident.reference in page
    assert "Escalate to an allegation</button>" not in page
    # sent twice (a second tab): refused, still one incident
    again = client.post(url, {**data, "version": concern.version + 1})
    assert again.status_code in (200, 409)
    assert Incident.objects.count() == 1


def test_a_closed_concern_may_still_be_escalated_when_a_pattern_emerges(users, concern):
    concerns.concern_record_response(concern=concern, response="Sorry.", by=users["dsl"])
    concerns.concern_record_outcome(
        concern=concern, outcome="spoken_to", detail="Reminded.", by=users["dsl"]
    )
    incident = concerns.concern_escalate(
        concern=concern, category=Category.OTHER, reason="Pattern.", by=users["dsl"]
    )
    assert incident.staff_allegation


@pytest.mark.parametrize("role", ["deputy_dsl", "staff", "office"])
def test_only_the_dsl_or_head_escalates(users, concern, role):
    with pytest.raises(Refused):
        concerns.concern_escalate(
            concern=concern, category=Category.OTHER, reason="x", by=users[role]
        )
    assert not Incident.objects.exists()


def test_escalation_needs_a_reason(users, concern):
    with pytest.raises(Refused, match="harm threshold"):
        concerns.concern_escalate(
            concern=concern, category=Category.OTHER, reason=" ", by=users["dsl"]
        )
    assert not Incident.objects.exists()


# The pattern by member of staff -------------------------------------------------------------


def test_the_pattern_counts_and_dates_per_member_of_staff(client, users, colleague, hall):
    other = factories.StaffMemberFactory(first_name="Pat", last_name="Single")
    for days in (3, 40, 400):
        raise_concern(users["staff"], colleague, hall, days_ago=days)
    raise_concern(users["office"], other, hall, days_ago=10)
    rows = concerns.pattern(users["dsl"])
    assert [r["name"] for r in rows] == ["Gareth Quillfeather", "Pat Single"]
    jones, single = rows
    assert (jones["total"], jones["recent"], jones["repeated"]) == (3, 2, True)
    assert (single["total"], single["recent"], single["repeated"]) == (1, 1, False)
    assert len(jones["concerns"]) == 3
    client.force_login(users["headteacher"])
    page = client.get(reverse("incidents:concern_pattern")).content.decode()
    assert page.count('data-testid="repeated"') == 1


def test_the_pattern_page_does_not_query_per_row(client, users, colleague, hall):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(users["dsl"])
    raise_concern(users["staff"], colleague, hall)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("incidents:concern_pattern"))
        client.get(reverse("incidents:concern_list"))
    for _ in range(5):
        raise_concern(users["staff"], factories.StaffMemberFactory(), hall)
    with CaptureQueriesContext(connection) as large:
        client.get(reverse("incidents:concern_pattern"))
        client.get(reverse("incidents:concern_list"))
    assert len(small.captured_queries) == len(large.captured_queries)


# Retention ---------------------------------------------------------------------------------


def test_kept_while_the_member_of_staff_is_here_then_six_years_from_the_latest(
    users, colleague, hall
):
    old = raise_concern(users["staff"], colleague, hall)
    LowLevelConcern.objects.filter(pk=old.pk).update(
        raised_at=timezone.now() - datetime.timedelta(days=7 * 365)
    )
    today = timezone.localdate()
    assert not retention.low_level_concerns_due_on(today).exists()  # still employed
    colleague.active = False
    colleague.save()
    assert list(retention.low_level_concerns_due_on(today)) == [old]
    # a later concern about the same person keeps the whole pattern
    raise_concern(users["staff"], factories.StaffMemberFactory(), hall)
    recent = raise_concern(users["office"], factories.StaffMemberFactory(), hall)
    LowLevelConcern.objects.filter(pk=recent.pk).update(staff=colleague)
    assert not retention.low_level_concerns_due_on(today).exists()
    assert "Quillfeather" not in retention.describe_concern(old)


def test_an_escalated_concern_goes_with_its_allegation(users, concern, colleague):
    concerns.concern_escalate(
        concern=concern, category=Category.OTHER, reason="Harm.", by=users["dsl"]
    )
    LowLevelConcern.objects.filter(pk=concern.pk).update(
        raised_at=timezone.now() - datetime.timedelta(days=7 * 365)
    )
    colleague.active = False
    colleague.save()
    assert not retention.low_level_concerns_due_on(timezone.localdate()).exists()
    from compliance.retention import _parts_of

    concern.refresh_from_db()
    assert _parts_of(concern.incident) == [concern]


# Demo ----------------------------------------------------------------------------------------


def test_the_demo_has_concerns_in_each_state_and_one_pattern():
    from tests.test_seed_demo import seed

    out = seed()
    assert "Low-level concerns demo: 4 concerns made" in out
    statuses = set(LowLevelConcern.objects.values_list("status", flat=True))
    assert statuses == set(LowLevelConcern.Status.values)
    escalated = LowLevelConcern.objects.get(status=LowLevelConcern.Status.ESCALATED)
    assert escalated.incident.staff_allegation
    assert LowLevelConcern.objects.exclude(staff_response="").count() == 2
    from compliance.models import User

    head = User.objects.get(username="head")
    assert sum(row["repeated"] for row in concerns.pattern(head)) == 1
    assert "Low-level concerns demo: 0 concerns made." in seed()
    assert LowLevelConcern.objects.count() == 4
