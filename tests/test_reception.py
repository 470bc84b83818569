"""Reception (policy sections 6 and 7): signing visitors in with the briefing and their
device agreement, use with learners under the headteacher's approval, the acceptable use
policy for regular visitors, signing out, the visitor log export and calls home.

Each rule is tried both ways: what the policy allows goes through, and what it forbids is
refused with a reason, at the transition and (where it must never break) in the database.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path

import pypdf
import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import Acknowledgement, RecordAccess, Visit
from compliance.transitions import Refused
from devices import reception, services
from devices.models import (
    Agreement,
    CallHome,
    Exemption,
    Signature,
    VisitorDeviceAgreement,
)
from devices.reception import DeviceUse
from incidents.access import incidents_for
from incidents.models import Category, Incident, Location
from tests import factories
from tests.factories_devices_exemptions import exemption_in, scan_pdf, signature_png

pytestmark = pytest.mark.django_db

NONE = VisitorDeviceAgreement.Use.NONE
AGREED = VisitorDeviceAgreement.Use.AGREED


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk(users):
    return users["office"]


@pytest.fixture
def social_worker(db):
    return factories.VisitorFactory(first_name="Sam", last_name="Hill", organisation="Kent CSC")


@pytest.fixture
def phone(db):
    return factories.DeviceCategoryFactory(name="Mobile phone")


def _no_use(users) -> DeviceUse:
    return DeviceUse(briefing_given=True, briefed_by=users["office"].staff_member, use=NONE)


def _agreed(users, **changes) -> DeviceUse:
    values = {
        "briefing_given": True,
        "briefed_by": users["office"].staff_member,
        "use": AGREED,
        "purpose": "Notes of the meeting on a work phone",
        "where": "Meeting room",
        "when": "10:00 to 11:00",
        "agreed_by": users["dsl"].staff_member,
    }
    return DeviceUse(**{**values, **changes})


def _sign_in(users, visitor, use, by=None) -> Visit:
    return reception.visit_sign_in(
        visitor=visitor,
        host=users["dsl"].staff_member,
        purpose="Child protection meeting",
        use=use,
        by=by or users["office"],
    )


def _approved_exemption(users, visitor, phone) -> Exemption:
    today = timezone.localdate()
    exemption = services.exemption_request(
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
        subject=visitor,
        category=phone,
        reason="Multi-agency work with a learner",
        starts=today,
        ends=today + datetime.timedelta(days=30),
        by=users["office"],
    )
    return services.exemption_decide(
        exemption=exemption, approve=True, reasons="Agreed for the plan", by=users["headteacher"]
    )


def _sign(agreement: Agreement, capacity: str, name: str, by) -> Signature:
    return services.signature_record(
        agreement=agreement,
        capacity=capacity,
        signer_name=name,
        method=Signature.Method.DRAWN,
        drawn_png=signature_png(name),
        by=by,
    )


# Signing in with the briefing and the agreement ------------------------------------------


def test_sign_in_records_the_visit_the_briefing_and_an_agreement(users, social_worker):
    visit = _sign_in(users, social_worker, _no_use(users))
    record = visit.device_agreement
    assert visit.on_site
    assert record.briefing_given and record.briefed_by == users["office"].staff_member
    assert record.use == NONE and record.agreed_by is None
    agreement = record.agreement
    assert agreement.exemption is None
    assert agreement.status == Agreement.Status.AWAITING_SIGNATURES
    assert agreement.permitted_use == reception.NO_USE
    # with no use permitted, the visitor alone signs
    assert services.required_capacities(agreement) == [Signature.Capacity.VISITOR]
    assert record.history.count() == 1
    assert agreement.history.exists() and visit.history.exists()


def test_agreed_use_is_signed_by_the_visitor_and_the_staff_member_who_agreed(users, social_worker):
    visit = _sign_in(users, social_worker, _agreed(users))
    agreement = visit.device_agreement.agreement
    assert services.required_capacities(agreement) == [
        Signature.Capacity.VISITOR,
        Signature.Capacity.STAFF_MEMBER,
    ]
    assert "Agreed by Alice Hawksley" in agreement.permitted_use
    _sign(agreement, Signature.Capacity.VISITOR, "Sam Hill", users["office"])
    _sign(agreement, Signature.Capacity.STAFF_MEMBER, "Alice Hawksley", users["office"])
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED and len(agreement.fingerprint) == 64
    # the frozen content names the visitor, the visit and who agreed
    assert '"name":"Sam Hill"' in agreement.canonical_terms
    assert f'"visit":{visit.pk}' in agreement.canonical_terms
    assert '"agreed_by":"Alice Hawksley"' in agreement.canonical_terms
    found, intact = services.agreement_verify(agreement.fingerprint)
    assert found == agreement and intact


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"briefing_given": False}, "verbal briefing"),
        ({"briefed_by": None}, "who gave the briefing"),
        ({"agreed_by": None}, "agreed by a named member of staff"),
        ({"purpose": "  "}, "what the device may be used for"),
        ({"where": ""}, "where the device"),
        ({"when": ""}, "when the device"),
        ({"use": "anything"}, "device use permitted"),
    ],
)
def test_device_use_without_what_section_7_needs_is_refused(users, social_worker, changes, reason):
    with pytest.raises(Refused, match=reason):
        _sign_in(users, social_worker, _agreed(users, **changes))
    assert not Visit.objects.filter(visitor=social_worker).exists()  # nothing half-written


def test_no_use_cannot_include_work_with_learners(users, social_worker):
    use = DeviceUse(
        briefing_given=True,
        briefed_by=users["office"].staff_member,
        use=NONE,
        with_learners=True,
    )
    with pytest.raises(Refused, match="specific purpose"):
        _sign_in(users, social_worker, use)


@pytest.mark.parametrize("role", ["staff", "governor", "outsider"])
def test_only_the_desk_signs_visitors_in(users, social_worker, role):
    with pytest.raises(Refused, match="office"):
        _sign_in(users, social_worker, _no_use(users), by=users[role])


def test_a_visitor_already_on_site_is_not_signed_in_twice(users, social_worker):
    _sign_in(users, social_worker, _no_use(users))
    with pytest.raises(Refused, match="already signed in"):
        _sign_in(users, social_worker, _no_use(users))


def test_sign_in_refuses_an_arrival_in_the_future(users, social_worker):
    with pytest.raises(Refused, match="future"):
        reception.visit_sign_in(
            visitor=social_worker,
            host=users["dsl"].staff_member,
            purpose="Meeting",
            use=_no_use(users),
            arrived=timezone.now() + datetime.timedelta(hours=1),
            by=users["office"],
        )


# The database keeps the rules even if code forgets them -----------------------------------


def _raw_record(users, visit, **fields) -> None:
    agreement = Agreement.objects.create(
        issued_by=users["office"],
        permitted_use="x",
        where="x",
        when="x",
        expectations="x",
        sanctions="x",
    )
    values = {
        "visit": visit,
        "briefing_given": True,
        "briefed_by": users["office"].staff_member,
        "use": NONE,
        "agreement": agreement,
        "recorded_by": users["office"],
    }
    with transaction.atomic():
        VisitorDeviceAgreement.objects.create(**{**values, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {"briefing_given": False},
        {"use": AGREED, "purpose": "Notes", "where": "Room", "when": "Now"},  # no one agreed
        {"use": AGREED, "where": "Room", "when": "Now", "agreed_by": None},
        {"use": NONE, "purpose": "Sneaked in"},
        {"use": AGREED, "purpose": "P", "where": "W", "when": "T", "with_learners": True},
    ],
)
def test_the_database_refuses_what_section_7_forbids(users, community, fields):
    if fields.get("use") == AGREED and "agreed_by" not in fields and "with_learners" in fields:
        fields["agreed_by"] = users["dsl"].staff_member  # only the missing exemption is wrong
    with pytest.raises(IntegrityError):
        _raw_record(users, community["visit"], **fields)


# Use with learners needs the headteacher ---------------------------------------------------


def test_use_with_learners_rests_on_an_approved_exemption(users, social_worker, phone):
    exemption = _approved_exemption(users, social_worker, phone)
    visit = _sign_in(users, social_worker, _agreed(users, with_learners=True))
    record = visit.device_agreement
    assert record.with_learners and record.exemption == exemption
    assert f"exemption #{exemption.pk}" in record.agreement.permitted_use
    assert reception.signing_blocker(record) == ""
    _sign(record.agreement, Signature.Capacity.VISITOR, "Sam Hill", users["office"])


def test_use_with_learners_without_approval_is_refused_unless_the_head_is_asked(
    users, social_worker, phone
):
    with pytest.raises(Refused, match="headteacher's approval"):
        _sign_in(users, social_worker, _agreed(users, with_learners=True))
    assert not Exemption.objects.filter(visitor=social_worker).exists()


def test_asking_the_head_raises_a_request_and_signing_waits_for_the_decision(
    users, social_worker, phone
):
    visit = _sign_in(
        users,
        social_worker,
        _agreed(users, with_learners=True, ask_headteacher=True, category=phone),
    )
    record = visit.device_agreement
    exemption = record.exemption
    assert exemption.status == Exemption.Status.REQUESTED
    assert exemption.visitor == social_worker and exemption.requested_by == users["office"]
    assert "awaiting the headteacher" in reception.signing_blocker(record).lower()
    with pytest.raises(Refused, match="headteacher's approval"):
        _sign(record.agreement, Signature.Capacity.VISITOR, "Sam Hill", users["office"])
    services.exemption_decide(
        exemption=exemption, approve=True, reasons="Fine", by=users["headteacher"]
    )
    record.refresh_from_db()
    assert reception.signing_blocker(record) == ""
    _sign(record.agreement, Signature.Capacity.VISITOR, "Sam Hill", users["office"])


def test_a_refused_request_leaves_the_visit_to_be_recorded_again_as_no_use(
    users, social_worker, phone
):
    visit = _sign_in(
        users,
        social_worker,
        _agreed(users, with_learners=True, ask_headteacher=True, category=phone),
    )
    exemption = visit.device_agreement.exemption
    services.exemption_decide(
        exemption=exemption, approve=False, reasons="Not needed", by=users["headteacher"]
    )
    record = VisitorDeviceAgreement.objects.get(visit=visit)
    assert "refused" in reception.signing_blocker(record)
    reception.device_agreement_record(visit=visit, use=_no_use(users), by=users["office"])
    record.refresh_from_db()
    assert record.use == NONE and record.exemption is None and not record.with_learners
    assert record.agreement.permitted_use == reception.NO_USE
    # the history keeps what was recorded before
    assert record.history.filter(use=AGREED, with_learners=True).exists()


def test_another_visitors_exemption_cannot_be_used(users, social_worker, phone):
    other = factories.VisitorFactory()
    theirs = _approved_exemption(users, other, phone)
    with pytest.raises(Refused, match="not this visitor's"):
        _sign_in(users, social_worker, _agreed(users, with_learners=True, exemption=theirs))


def test_a_signed_agreement_is_not_recorded_again(users, social_worker):
    visit = _sign_in(users, social_worker, _no_use(users))
    _sign(visit.device_agreement.agreement, Signature.Capacity.VISITOR, "Sam", users["office"])
    with pytest.raises(Refused, match="signed"):
        reception.device_agreement_record(visit=visit, use=_agreed(users), by=users["office"])


# The acceptable use policy for regular visitors -------------------------------------------


def test_a_regular_visitor_acknowledges_the_aup_once_per_material_version(users, school):
    policy = factories.PolicyVersionFactory()
    volunteer = factories.VisitorFactory(regular_or_extended=True, visitor_type="volunteer")
    assert reception.aup_due(volunteer)
    with pytest.raises(Refused, match="acceptable use"):
        _sign_in(users, volunteer, _no_use(users))
    use = DeviceUse(**{**_no_use(users).__dict__, "aup_acknowledged": True})
    visit = _sign_in(users, volunteer, use)
    ack = Acknowledgement.objects.get(visitor=volunteer)
    assert ack.kind == Acknowledgement.Kind.AUP and ack.policy_version == policy
    assert not reception.aup_due(volunteer)
    reception.visit_sign_out(visit=visit, by=users["office"])
    _sign_in(users, volunteer, _no_use(users))  # not asked again

    # a new version that changes no rule does not ask again; a material one does
    factories.PolicyVersionFactory(
        date_written=timezone.localdate() - datetime.timedelta(days=2), material_change=False
    )
    assert not reception.aup_due(volunteer)
    factories.PolicyVersionFactory(
        date_written=timezone.localdate() - datetime.timedelta(days=1), material_change=True
    )
    assert reception.aup_due(volunteer)


def test_an_occasional_visitor_is_not_asked_for_the_aup(users, social_worker, school):
    factories.PolicyVersionFactory()
    assert not reception.aup_due(social_worker)


# Signing out --------------------------------------------------------------------------------


def test_sign_out_once(users, social_worker):
    visit = _sign_in(users, social_worker, _no_use(users))
    reception.visit_sign_out(visit=visit, by=users["office"])
    visit.refresh_from_db()
    assert visit.left is not None and not visit.on_site
    with pytest.raises(Refused, match="already signed out"):
        reception.visit_sign_out(visit=visit, by=users["office"])
    with pytest.raises(Refused, match="visit is over"):
        reception.device_agreement_record(visit=visit, use=_no_use(users), by=users["office"])


def test_a_paper_agreement_missing_from_an_ended_visit_is_entered_with_its_time(users):
    arrived = timezone.now() - datetime.timedelta(hours=5)
    visit = factories.VisitFactory(arrived=arrived, left=arrived + datetime.timedelta(hours=1))
    made = arrived + datetime.timedelta(minutes=2)
    record = reception.device_agreement_record(
        visit=visit, use=_no_use(users), by=users["office"], made_at=made
    )
    assert record.agreement.issued_at == made
    with pytest.raises(Refused, match="before the agreement"):
        services.signature_record(
            agreement=record.agreement,
            capacity=Signature.Capacity.VISITOR,
            signer_name="V",
            method=Signature.Method.DRAWN,
            drawn_png=signature_png(),
            signed_at=made - datetime.timedelta(minutes=1),
            by=users["office"],
        )
    services.signature_record(
        agreement=record.agreement,
        capacity=Signature.Capacity.VISITOR,
        signer_name="V",
        method=Signature.Method.DRAWN,
        drawn_png=signature_png(),
        signed_at=made + datetime.timedelta(minutes=1),
        by=users["office"],
    )
    with pytest.raises(Refused, match="before the visitor arrived"):
        reception.device_agreement_record(
            visit=factories.VisitFactory(),
            use=_no_use(users),
            by=users["office"],
            made_at=timezone.now() - datetime.timedelta(days=1),
        )


def test_staff_cannot_sign_visitors_out(users, social_worker):
    visit = _sign_in(users, social_worker, _no_use(users))
    with pytest.raises(Refused):
        reception.visit_sign_out(visit=visit, by=users["staff"])


# The desk's pages -----------------------------------------------------------------------


def test_the_desk_finds_a_visitor_by_organisation(client, users, social_worker):
    client.force_login(users["office"])
    response = client.get(reverse("devices:reception"), {"q": "kent csc"})
    assert response.status_code == 200
    assert "Sam Hill" in response.content.decode()
    partial = client.get(
        reverse("devices:reception"),
        {"q": "hill"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="found",
    )
    body = partial.content.decode()
    assert "Sam Hill" in body and "<html" not in body


def test_the_sign_in_form_keeps_what_was_typed_and_says_what_is_missing(
    client, users, social_worker
):
    client.force_login(users["office"])
    url = reverse("devices:reception_sign_in", args=[social_worker.pk])
    response = client.post(
        url,
        {
            "host": users["dsl"].staff_member.pk,
            "purpose_of_visit": "Core group meeting",
            "arrived": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "briefed_by": users["office"].staff_member.pk,
            "use": AGREED,
            "purpose": "Recording the meeting notes",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "briefing_given" in form.errors
    assert "agreed_by" in form.errors and "where" in form.errors and "when" in form.errors
    body = response.content.decode()
    assert "Core group meeting" in body and "Recording the meeting notes" in body
    assert not Visit.objects.filter(visitor=social_worker).exists()


def test_sign_in_through_the_page(client, users, social_worker):
    client.force_login(users["office"])
    url = reverse("devices:reception_sign_in", args=[social_worker.pk])
    response = client.post(
        url,
        {
            "host": users["dsl"].staff_member.pk,
            "purpose_of_visit": "Core group meeting",
            "arrived": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "briefing_given": "on",
            "briefed_by": users["office"].staff_member.pk,
            "use": NONE,
        },
    )
    visit = Visit.objects.get(visitor=social_worker)
    assert response.status_code == 302
    assert response["Location"] == reverse("devices:reception_visit", args=[visit.pk])
    page = client.get(response["Location"])
    assert "Awaiting signature" in page.content.decode()
    # every record written is in history with the clerk who wrote it
    for record in (visit, visit.device_agreement, visit.device_agreement.agreement):
        assert record.history.get().history_user == users["office"]


def test_a_teacher_sees_todays_visit_but_not_an_old_one(client, users, social_worker):
    today = _sign_in(users, social_worker, _no_use(users))
    old = factories.VisitFactory(
        arrived=timezone.now() - datetime.timedelta(days=3),
        left=timezone.now() - datetime.timedelta(days=3) + datetime.timedelta(hours=1),
    )
    client.force_login(users["staff"])
    page = client.get(reverse("devices:reception_visit", args=[today.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Report a concern" in body and "Download the agreement" not in body
    assert client.get(reverse("devices:reception_visit", args=[old.pk])).status_code == 404
    assert client.post(reverse("devices:reception_sign_out", args=[today.pk])).status_code == 403


def test_the_desk_query_count_does_not_grow_with_visitors_on_site(client, users):
    client.force_login(users["office"])
    url = reverse("devices:reception")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for _ in range(2):
        _sign_in(users, factories.VisitorFactory(), _no_use(users))
    few = count()
    for _ in range(8):
        _sign_in(users, factories.VisitorFactory(), _agreed(users))
    assert count() == few
    assert few <= 14, few


# The agreement PDF ----------------------------------------------------------------------


def test_the_visitor_agreement_pdf_has_the_same_form_and_fingerprint(client, users, social_worker):
    visit = _sign_in(users, social_worker, _agreed(users))
    agreement = visit.device_agreement.agreement
    services.signature_record(
        agreement=agreement,
        capacity=Signature.Capacity.VISITOR,
        signer_name="Sam Hill",
        method=Signature.Method.PAPER,
        paper_scan=scan_pdf(),
        by=users["office"],
    )
    _sign(agreement, Signature.Capacity.STAFF_MEMBER, "Alice Hawksley", users["office"])
    agreement.refresh_from_db()
    client.force_login(users["office"])
    response = client.get(reverse("devices:agreement_pdf", args=[agreement.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages
    )
    text = " ".join(text.split())
    assert "Agreement for the use of a personal device" in text  # the one form
    assert "Name Sam Hill" in text and "Organisation Kent CSC" in text
    assert "Verbal briefing given by Olive Clerk" in text and "Agreed by Alice Hawksley" in text
    assert agreement.fingerprint[:16] in text.replace(" ", "")


# The visitor log export --------------------------------------------------------------------


def test_the_export_is_a_csv_of_the_dates_asked_for(client, users, social_worker):
    visit = _sign_in(users, social_worker, _agreed(users))
    social_worker.organisation = '=HYPERLINK("http://evil")'
    social_worker.save()
    old = factories.VisitFactory(arrived=timezone.now() - datetime.timedelta(days=40))
    client.force_login(users["office"])
    today = timezone.localdate()
    response = client.get(
        reverse("devices:reception_export"),
        {"start": (today - datetime.timedelta(days=7)).isoformat(), "end": today.isoformat()},
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "Visit"
    ids = [row[0] for row in rows[1:]]
    assert str(visit.pk) in ids and str(old.pk) not in ids
    row = next(r for r in rows[1:] if r[0] == str(visit.pk))
    assert row[2].startswith("'=")  # a spreadsheet will not run it
    assert "Alice Hawksley" in row
    assert RecordAccess.objects.filter(
        user=users["office"], action=RecordAccess.Action.EXPORT
    ).exists()


def test_an_export_range_backwards_is_explained(client, users):
    client.force_login(users["office"])
    response = client.get(
        reverse("devices:reception_export"), {"start": "2026-05-02", "end": "2026-05-01"}
    )
    assert response.status_code == 200
    assert "on or after the first" in response.content.decode()


# Challenge and report -----------------------------------------------------------------------


def test_a_concern_from_the_visit_names_the_visitor_and_goes_to_the_head(
    client, users, social_worker, django_capture_on_commit_callbacks
):
    visit = _sign_in(users, social_worker, _no_use(users))
    client.force_login(users["staff"])
    page = client.get(reverse("devices:reception_visit", args=[visit.pk]))
    report_url = page.context["report_url"]
    form_page = client.get(report_url)
    body = form_page.content.decode()
    assert f'value="visitor-{social_worker.pk}" selected' in body
    assert re.search(rf'value="{Category.VISITOR_MISUSE}"[^>]*checked', body)
    mail.outbox.clear()
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "location": str(Location.objects.order_by("pk").first().pk),
        "category": Category.VISITOR_MISUSE,
        "account": "Photographing the class display with learners in it.",
        "people-TOTAL_FORMS": "5",
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "5",
        "people-0-person": f"visitor-{social_worker.pk}",
        "people-0-part": "subject",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("incidents:report"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    incident = Incident.objects.get(category=Category.VISITOR_MISUSE)
    assert incidents_for(users["headteacher"]).filter(pk=incident.pk).exists()
    recipients = {address for message in mail.outbox for address in message.to}
    assert users["headteacher"].email in recipients and users["dsl"].email in recipients


# Calls home ----------------------------------------------------------------------------


def test_the_office_logs_a_call_and_the_dsl_sees_it_in_the_chronology(client, users, community):
    call = reception.call_home_record(
        learner=community["learner"],
        direction=CallHome.Direction.TO_HOME,
        caller=users["office"].staff_member,
        contact=community["parent"],
        reason="Feeling unwell, to be collected",
        outcome=CallHome.Outcome.SPOKE,
        by=users["office"],
    )
    assert call.whom == "Hana Khan" and call.history.exists()
    client.force_login(users["dsl"])
    page = client.get(reverse("incidents:chronology", args=[community["learner"].pk]))
    body = page.content.decode()
    assert "Call home" in body and "Feeling unwell, to be collected" in body


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"contact": None, "contact_name": ""}, "one of the two"),
        ({"contact_name": "Grandma"}, "one of the two"),
        ({"reason": " "}, "what the call was about"),
        ({"outcome": "lost"}, "outcome"),
        ({"direction": "sideways"}, "who phoned whom"),
    ],
)
def test_a_call_without_what_it_needs_is_refused(users, community, changes, reason):
    values = {
        "learner": community["learner"],
        "direction": CallHome.Direction.FROM_HOME,
        "caller": users["office"].staff_member,
        "contact": community["parent"],
        "reason": "Dentist at 2",
        "outcome": CallHome.Outcome.PASSED_ON,
        "by": users["office"],
    }
    with pytest.raises(Refused, match=reason):
        reception.call_home_record(**{**values, **changes})


def test_a_call_with_someone_elses_parent_is_refused(users, community):
    with pytest.raises(Refused, match="not recorded as a parent"):
        reception.call_home_record(
            learner=community["learner"],
            direction=CallHome.Direction.TO_HOME,
            caller=users["office"].staff_member,
            contact=community["other_parent"],
            reason="Unwell",
            outcome=CallHome.Outcome.SPOKE,
            by=users["office"],
        )


def test_a_teacher_logs_calls_only_for_their_classes(users, community):
    values = {
        "direction": CallHome.Direction.TO_HOME,
        "caller": users["staff"].staff_member,
        "contact_name": "Aunt (emergency contact)",
        "reason": "Forgot PE kit",
        "outcome": CallHome.Outcome.MESSAGE_LEFT,
        "by": users["staff"],
    }
    reception.call_home_record(learner=community["learner"], **values)
    with pytest.raises(Refused, match="classes you teach"):
        reception.call_home_record(learner=community["other_learner"], **values)
    with pytest.raises(Refused):
        reception.call_home_record(
            learner=community["learner"], **{**values, "by": users["governor"]}
        )


def test_the_database_needs_whom_the_call_was_with(users, community):
    with pytest.raises(IntegrityError), transaction.atomic():
        CallHome.objects.create(
            learner=community["learner"],
            direction=CallHome.Direction.TO_HOME,
            caller=users["office"].staff_member,
            reason="x",
            outcome=CallHome.Outcome.SPOKE,
            recorded_by=users["office"],
        )


def test_the_call_form_says_what_is_wrong_next_to_the_field(client, users, community):
    client.force_login(users["office"])
    response = client.post(
        reverse("devices:call_add"),
        {
            "learner": community["learner"].pk,
            "direction": CallHome.Direction.TO_HOME,
            "contact": community["other_parent"].pk,
            "caller": users["office"].staff_member.pk,
            "called_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "reason": "Headache",
            "outcome": CallHome.Outcome.SPOKE,
        },
    )
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert "Headache" in response.content.decode()
    assert not CallHome.objects.exists()


# The demo school -------------------------------------------------------------------------


def test_the_demo_shows_reception_in_every_state(db):
    from tests.test_seed_demo import seed

    seed()
    records = VisitorDeviceAgreement.objects.select_related("agreement", "exemption", "visit")
    states = {(r.use, r.agreement.status, r.with_learners) for r in records}
    assert (NONE, Agreement.Status.SIGNED, False) in states
    assert (AGREED, Agreement.Status.SIGNED, False) in states
    assert (AGREED, Agreement.Status.SIGNED, True) in states  # with learners, approved
    assert (NONE, Agreement.Status.AWAITING_SIGNATURES, False) in states  # at the desk now
    waiting = [r for r in records if r.with_learners and r.exemption.status == "requested"]
    assert waiting and all(r.visit.on_site for r in waiting)
    assert records.filter(visit__left__isnull=False).exists()
    assert Acknowledgement.objects.filter(visitor__isnull=False, kind="aup").exists()
    for record in records.filter(agreement__status=Agreement.Status.SIGNED):
        found, intact = services.agreement_verify(record.agreement.fingerprint)
        assert found == record.agreement and intact
    assert set(CallHome.objects.values_list("direction", flat=True)) == set(
        CallHome.Direction.values
    )
    assert CallHome.objects.filter(contact__isnull=True).exclude(contact_name="").exists()


# The end of the visitor log's retention period ----------------------------------------------


def test_a_visit_is_disposed_of_with_its_agreement_signatures_and_scans(
    users, django_capture_on_commit_callbacks
):
    from compliance import retention

    arrived = timezone.make_aware(datetime.datetime(2017, 2, 3, 9, 30))
    visit = factories.VisitFactory(arrived=arrived, left=arrived + datetime.timedelta(hours=1))
    record = reception.device_agreement_record(
        visit=visit,
        use=_no_use(users),
        by=users["office"],
        made_at=arrived + datetime.timedelta(minutes=1),
    )
    signature = services.signature_record(
        agreement=record.agreement,
        capacity=Signature.Capacity.VISITOR,
        signer_name="V",
        method=Signature.Method.PAPER,
        paper_scan=scan_pdf(),
        signed_at=arrived + datetime.timedelta(minutes=2),
        by=users["office"],
    )
    scan = signature.paper_scan.path
    agreement_pk = record.agreement_id
    assert Path(scan).exists()
    disposal = retention.disposal_request(record=visit, rule_key="visitor_log", by=users["dsl"])
    with django_capture_on_commit_callbacks(execute=True):
        retention.disposal_decide(disposal=disposal, approve=True, note="", by=users["dsl"])
    assert not Visit.objects.filter(pk=visit.pk).exists()
    assert not VisitorDeviceAgreement.objects.filter(pk=record.pk).exists()
    assert not Agreement.objects.filter(pk=agreement_pk).exists()
    assert not Signature.objects.filter(pk=signature.pk).exists()
    assert not Agreement.history.filter(id=agreement_pk).exists()
    assert not Signature.history.filter(id=signature.pk).exists()
    assert not Path(scan).exists()


def test_a_part_that_cannot_go_undoes_the_whole_disposal(users, monkeypatch):
    from compliance import retention

    arrived = timezone.make_aware(datetime.datetime(2017, 2, 3, 9, 30))
    visit = factories.VisitFactory(arrived=arrived, left=arrived + datetime.timedelta(hours=1))
    record = reception.device_agreement_record(
        visit=visit,
        use=_no_use(users),
        by=users["office"],
        made_at=arrived + datetime.timedelta(minutes=1),
    )
    _sign(record.agreement, Signature.Capacity.VISITOR, "V", users["office"])
    # parts listed without the signature, which still refers to the agreement: the device
    # agreement goes first, then the agreement is refused, and the refusal undoes both
    record_pk = record.pk
    monkeypatch.setitem(retention._PARTS, Visit, [lambda v: [record, record.agreement]])
    disposal = retention.disposal_request(record=visit, rule_key="visitor_log", by=users["dsl"])
    with pytest.raises(retention.RetentionRefused, match="still referred to"):
        retention.disposal_decide(disposal=disposal, approve=True, note="", by=users["dsl"])
    assert VisitorDeviceAgreement.objects.filter(pk=record_pk).exists()
    assert Visit.objects.filter(pk=visit.pk).exists()
    disposal.refresh_from_db()
    assert disposal.status == "requested"


# The governors' report ---------------------------------------------------------------------


def test_the_report_counts_visits_agreements_and_calls_in_the_year(users, community, phone):
    from compliance import reports
    from devices.report import build_visitors

    _approved_exemption(users, community["visitor"], phone)
    reception.visit_sign_out(visit=community["visit"], by=users["office"])  # no agreement
    signed = _sign_in(users, factories.VisitorFactory(), _no_use(users))
    _sign(signed.device_agreement.agreement, Signature.Capacity.VISITOR, "V", users["office"])
    reception.visit_sign_out(visit=signed, by=users["office"])
    _sign_in(users, community["visitor"], _agreed(users, with_learners=True))
    last_year = factories.VisitFactory(arrived=timezone.now() - datetime.timedelta(days=400))
    reception.call_home_record(
        learner=community["learner"],
        direction=CallHome.Direction.FROM_HOME,
        caller=users["office"].staff_member,
        contact=community["parent"],
        reason="Dentist",
        outcome=CallHome.Outcome.PASSED_ON,
        by=users["office"],
    )
    today = timezone.localdate()
    built = dict(build_visitors(today - datetime.timedelta(days=30), today)["figures"])
    assert built["Visits"] == 3  # last year's is outside the year asked for
    assert built["Visits with the verbal briefing and a device agreement recorded"] == 2
    assert built["Device agreements signed"] == 1
    assert built["Visits with device use agreed for a specific purpose"] == 1
    assert built["Visits with device use with learners, under the headteacher's approval"] == 1
    assert built["Calls home made for learners"] == 0
    assert built["Calls from home passed on by the office"] == 1
    assert last_year.pk
    assert "visitors" in [s.key for s in reports.report_sections()]


# Parents sign a learner's agreement at the office -------------------------------------------


def test_the_office_captures_a_parents_signature_on_a_learners_agreement(client, users, community):
    exemption = exemption_in(
        Exemption.Status.AGREEMENT_ISSUED,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )
    agreement = exemption.agreements.get()
    client.force_login(users["office"])
    page = client.get(agreement.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert exemption.get_absolute_url() not in body  # the agreement, not the request
    assert client.get(exemption.get_absolute_url()).status_code == 404
    response = client.post(
        reverse("devices:signature_record", args=[agreement.pk]),
        {
            "capacity": Signature.Capacity.PARENT_CARER,
            "parent": community["parent"].pk,
            "signer_name": "Hana Khan",
            "method": Signature.Method.DRAWN,
            "drawn_png": signature_png("Hana Khan"),
        },
    )
    assert response.status_code == 302
    assert agreement.signatures.filter(capacity="parent_carer").exists()
    for capacity, name, by in (
        (Signature.Capacity.LEARNER, "Amira Khan", users["office"]),
        (Signature.Capacity.HEADTEACHER, "Lisa Davis", users["headteacher"]),
    ):
        _sign(agreement, capacity, name, by)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED
    # signed, it is the exemption's business again: not the office's
    assert client.get(agreement.get_absolute_url()).status_code == 404
