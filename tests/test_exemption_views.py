"""The exemption pages at each role: the queue, the request form, the actions, the
signatures, the dashboard panel, and their pinned query counts."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from compliance.models import RecordAccess, User
from devices import services
from devices.models import Agreement, Exemption, RiskAssessment
from devices.views.exemptions import _panel_context
from tests import factories
from tests.factories_devices_exemptions import (
    TERMS,
    approve,
    exemption_in,
    issue,
    request_for_learner,
    sign_all,
    signature_png,
)

pytestmark = pytest.mark.django_db

Status = Exemption.Status


def _page(response) -> str:
    return " ".join(response.content.decode().split())


@pytest.fixture
def requested(users, community) -> Exemption:
    return request_for_learner(learner=community["learner"], by=users["staff"])


def _in(status, users, community) -> Exemption:
    return exemption_in(
        status, learner=community["learner"], requester=users["staff"], head=users["headteacher"]
    )


# The queue


def test_each_role_sees_the_exemptions_it_may(client, users, community, requested):
    visitor = services.exemption_request(
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
        subject=community["visitor"],
        category=factories.DeviceCategoryFactory(),
        reason="Recording a speech and language session with the parents' consent.",
        starts=timezone.localdate(),
        ends=timezone.localdate() + datetime.timedelta(days=30),
        by=users["dsl"],
    )
    url = reverse("devices:exemption_list")
    visitor_name = community["visitor"].full_name
    expected = {
        "headteacher": {"Amira Khan", visitor_name},
        "dsl": {"Amira Khan", visitor_name},
        "office": {visitor_name},
        "staff": {"Amira Khan"},
    }
    for role, names in expected.items():
        client.force_login(users[role])
        page = _page(client.get(url))
        for name in {"Amira Khan", visitor_name}:
            assert (escape(name) in page) is (name in names), (role, name)
    assert visitor.pk
    for role in ("governor", "outsider"):
        client.force_login(users[role])
        assert client.get(url).status_code == 403


def test_the_queue_counts_filters_and_searches(client, users, community, requested):
    _in(Status.ACTIVE, users, community)
    other = request_for_learner(learner=community["other_learner"], by=users["headteacher"])
    client.force_login(users["headteacher"])
    url = reverse("devices:exemption_list")

    page = _page(client.get(url))
    assert re.search(r"Awaiting decision <span[^>]*>2</span>", page)
    assert re.search(r"Active <span[^>]*>1</span>", page)
    assert re.search(r"All <span[^>]*>3</span>", page)

    page = _page(client.get(url, {"status": Status.REQUESTED}))
    assert "2 found" in page and escape(other.learner.full_name) in page

    page = _page(client.get(url, {"q": "zed oth"}))
    assert "1 found" in page and "Zed Other" in page and "Amira Khan" not in page
    # the tabs count within the search
    assert re.search(r"All <span[^>]*>1</span>", page)

    page = _page(client.get(url, {"kind": Exemption.Kind.STAFF_TEACHING_TIME}))
    assert "0 found" in page and "No exemptions match." in page

    # nonsense in the query string is an empty result or the nearest page, never an error
    assert client.get(url, {"status": "nonsense", "page": "999"}).status_code == 200


# Asking for an exemption


def test_a_teacher_asks_only_for_learners_in_their_class(client, users, community):
    client.force_login(users["staff"])
    url = reverse("devices:exemption_request")
    page = _page(client.get(url))
    assert "Khan, Amira" in page
    assert "Other, Zed" not in page
    assert "A visitor" not in page  # a teacher does not ask for visitors
    response = client.post(
        url,
        {
            "kind": Exemption.Kind.LEARNER_EXCEPTIONAL,
            "learner": community["other_learner"].pk,
            "category": factories.DeviceCategoryFactory().pk,
            "reason": "Epilepsy alert app.",
            "starts": timezone.localdate().isoformat(),
            "ends": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in _page(response)
    assert not Exemption.objects.exists()


def _request_data(**overrides) -> dict:
    today = timezone.localdate()
    data = {
        "kind": Exemption.Kind.LEARNER_EXCEPTIONAL,
        "category": factories.DeviceCategoryFactory().pk,
        "reason": "Type 1 diabetes: glucose alerts on her phone.",
        "starts": today.isoformat(),
        "ends": (today + datetime.timedelta(days=60)).isoformat(),
        "reason_kind": Exemption.ReasonKind.MEDICAL_PLAN,
        "review_on": (today + datetime.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_a_teacher_asks_for_a_learner(client, users, community):
    client.force_login(users["staff"])
    url = reverse("devices:exemption_request")
    response = client.post(url, _request_data(learner=community["learner"].pk))
    exemption = Exemption.objects.get()
    assert response.status_code == 302
    assert response["Location"] == exemption.get_absolute_url()
    assert (exemption.learner, exemption.requested_by) == (community["learner"], users["staff"])
    assert exemption.status == Status.REQUESTED


def test_a_teacher_asks_for_themselves_only(client, users, community):
    someone_else = factories.StaffMemberFactory()
    client.force_login(users["staff"])
    url = f"{reverse('devices:exemption_request')}?for=staff"
    page = _page(client.get(url))
    assert "Members of staff ask for permission for themselves." in page
    response = client.post(
        url,
        _request_data(kind=Exemption.Kind.STAFF_TEACHING_TIME, staff=someone_else.pk),
    )
    assert response.status_code == 302
    # the choice was made for them: it is their own, whatever was sent
    assert Exemption.objects.get().staff == community["staff"]


def test_the_office_asks_for_any_member_of_staff_or_visitor(client, users, community):
    someone = factories.StaffMemberFactory(first_name="Pat", last_name="Supply")
    client.force_login(users["office"])
    url = reverse("devices:exemption_request")
    assert "Supply, Pat" in _page(client.get(f"{url}?for=staff"))
    response = client.post(
        f"{url}?for=visitor",
        _request_data(kind=Exemption.Kind.VISITOR_WITH_LEARNERS, visitor=community["visitor"].pk),
    )
    assert response.status_code == 302
    assert Exemption.objects.get().visitor == community["visitor"]
    assert someone.pk


def test_a_bad_request_keeps_what_was_typed(client, users, community):
    client.force_login(users["staff"])
    url = reverse("devices:exemption_request")
    today = timezone.localdate()
    response = client.post(
        url,
        _request_data(
            learner=community["learner"].pk,
            reason="Heart monitor that reports to the hospital.",
            ends=(today - datetime.timedelta(days=1)).isoformat(),
        ),
    )
    page = _page(response)
    assert response.status_code == 200
    assert "The end date is before the start date." in page
    assert "Heart monitor that reports to the hospital." in page
    # refused by the transition (too long), shown as the form's error
    response = client.post(
        url,
        _request_data(
            learner=community["learner"].pk,
            reason="Heart monitor that reports to the hospital.",
            ends=(today + datetime.timedelta(days=500)).isoformat(),
        ),
    )
    page = _page(response)
    assert "An exemption lasts at most a year" in page
    assert "Heart monitor that reports to the hospital." in page
    assert not Exemption.objects.exists()


def test_a_learners_request_records_the_reason_and_the_review(client, users, community):
    client.force_login(users["staff"])
    url = reverse("devices:exemption_request")
    page = _page(client.get(url))
    for label in Exemption.ReasonKind.labels:
        assert label in page
    assert "Review by" in page
    response = client.post(
        url,
        _request_data(learner=community["learner"].pk, reason_kind="young_carer"),
    )
    exemption = Exemption.objects.get()
    assert response.status_code == 302
    assert exemption.reason_kind == Exemption.ReasonKind.YOUNG_CARER
    assert exemption.review_on == timezone.localdate() + datetime.timedelta(days=30)
    client.force_login(users["headteacher"])
    detail = _page(client.get(exemption.get_absolute_url()))
    assert "A young carer" in detail
    assert "Review by" in detail


def test_a_request_without_a_reason_or_with_a_review_after_the_end_is_shown_again(
    client, users, community
):
    client.force_login(users["staff"])
    url = reverse("devices:exemption_request")
    today = timezone.localdate()
    response = client.post(
        url,
        _request_data(
            learner=community["learner"].pk,
            reason_kind="",
            reason="Sensory needs: noise-cancelling app.",
            review_on=(today + datetime.timedelta(days=90)).isoformat(),
        ),
    )
    page = _page(response)
    assert response.status_code == 200
    assert "This field is required." in page
    assert "within the exemption, or be its last day" in page
    assert "Sensory needs: noise-cancelling app." in page
    assert not Exemption.objects.exists()


def test_the_queue_filters_by_reason(client, users, community):
    head = users["headteacher"]
    medical = request_for_learner(learner=community["learner"], by=head)
    carer = request_for_learner(
        learner=community["learner"], by=head, reason_kind=Exemption.ReasonKind.YOUNG_CARER
    )
    client.force_login(head)
    page = _page(client.get(reverse("devices:exemption_list") + "?reason_kind=young_carer"))
    assert carer.get_absolute_url() in page
    assert medical.get_absolute_url() not in page


def test_a_governor_does_not_ask(client, users):
    client.force_login(users["governor"])
    assert client.get(reverse("devices:exemption_request")).status_code == 403


# Deciding


def test_the_headteacher_sees_the_decision_and_approves(client, users, requested):
    client.force_login(users["headteacher"])
    page = _page(client.get(requested.get_absolute_url()))
    assert "What you can do now" in page
    assert 'value="approve"' in page and 'value="refuse"' in page
    assert "will be discussed with the headteacher prior to use being permitted" in page

    response = client.post(
        reverse("devices:exemption_decide", args=[requested.pk]),
        {"decision": "approve", "reasons": "The nurse's letter is on file."},
    )
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.status == Status.APPROVED
    assert requested.decided_by == users["headteacher"]
    page = _page(client.get(requested.get_absolute_url()))
    assert "Approved. Next, issue the written agreement." in page
    assert "Issue the agreement" in page


def test_a_refusal_without_reasons_is_shown_not_lost(client, users, requested):
    client.force_login(users["headteacher"])
    response = client.post(
        reverse("devices:exemption_decide", args=[requested.pk]),
        {"decision": "refuse", "reasons": "   "},
    )
    assert response.status_code == 200
    assert "Give the reasons for refusing." in _page(response)
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


def test_a_refused_transition_shows_its_reason(client, users, community):
    today = timezone.localdate()
    remote = services.exemption_request(
        kind=Exemption.Kind.STAFF_REMOTE_LEARNING,
        subject=community["staff"],
        category=factories.DeviceCategoryFactory(),
        reason="School laptop in for repair.",
        starts=today,
        ends=today + datetime.timedelta(days=10),
        by=users["staff"],
    )
    client.force_login(users["headteacher"])
    page = _page(client.get(remote.get_absolute_url()))
    assert "A risk assessment must be recorded" in page
    assert "disabled" in page  # the Approve button waits for it
    response = client.post(
        reverse("devices:exemption_decide", args=[remote.pk]),
        {"decision": "approve", "reasons": "Fine once assessed."},
    )
    page = _page(response)
    assert response.status_code == 200
    assert "A risk assessment must be recorded before this exemption can be approved" in page
    assert "Fine once assessed." in page
    remote.refresh_from_db()
    assert remote.status == Status.REQUESTED


def test_deciding_twice_says_it_was_already_decided(client, users, requested):
    approve(requested, users["headteacher"])
    client.force_login(users["headteacher"])
    response = client.post(
        reverse("devices:exemption_decide", args=[requested.pk]),
        {"decision": "refuse", "reasons": "Changed my mind"},
    )
    assert response.status_code == 200
    assert "it was already decided" in _page(response)


@pytest.mark.parametrize("role", ["staff", "dsl", "deputy_dsl"])
def test_only_the_headteacher_decides(client, users, requested, role):
    client.force_login(users[role])
    page = _page(client.get(requested.get_absolute_url()))
    assert 'value="approve"' not in page
    response = client.post(
        reverse("devices:exemption_decide", args=[requested.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    requested.refresh_from_db()
    assert requested.status == Status.REQUESTED


def test_a_record_the_user_may_not_see_is_not_found(client, users, requested):
    client.force_login(users["office"])
    for name in ("devices:exemption_decide", "devices:exemption_revoke"):
        assert client.post(reverse(name, args=[requested.pk]), {}).status_code == 404


def test_asking_for_and_recording_a_risk_assessment(client, users, requested):
    client.force_login(users["headteacher"])
    response = client.post(reverse("devices:exemption_ask_risk_assessment", args=[requested.pk]))
    assert response.status_code == 302
    requested.refresh_from_db()
    assert requested.risk_assessment_required

    client.force_login(users["office"])
    url = reverse("devices:exemption_risk_assessment", args=[requested.pk])
    assert client.post(url, {"hazards": "x", "controls": "y"}).status_code == 404
    client.force_login(users["staff"])
    assert client.post(url, {"hazards": "x", "controls": "y"}).status_code == 403

    client.force_login(users["dsl"])
    page = _page(client.get(requested.get_absolute_url()))
    assert "Record the risk assessment" in page
    response = client.post(url, {"hazards": "Camera use.", "controls": ""})
    assert response.status_code == 200
    assert "Camera use." in _page(response)
    response = client.post(url, {"hazards": "Camera use.", "controls": "Camera disabled."})
    assert response.status_code == 302
    assert RiskAssessment.objects.get(exemption=requested).assessed_by == users["dsl"]
    # asking again after the decision is refused with the reason
    approve(requested, users["headteacher"])
    client.force_login(users["headteacher"])
    response = client.post(
        reverse("devices:exemption_ask_risk_assessment", args=[requested.pk]), follow=True
    )
    assert "only before the decision" in _page(response)


# The agreement


def test_issuing_the_agreement_prefills_the_usual_terms(client, users, community):
    exemption = _in(Status.APPROVED, users, community)
    client.force_login(users["headteacher"])
    page = _page(client.get(exemption.get_absolute_url()))
    assert "Behaviour for Learning and Conduct Policy" in page  # the suggested sanctions
    assert "agreed by the learner and their parents/carers before use is permitted" in page

    url = reverse("devices:agreement_issue", args=[exemption.pk])
    response = client.post(url, {**TERMS, "sanctions": ""})
    assert response.status_code == 200
    assert TERMS["permitted_use"] in _page(response)
    assert not Agreement.objects.exists()

    response = client.post(url, TERMS)
    agreement = Agreement.objects.get()
    assert response["Location"] == agreement.get_absolute_url()
    exemption.refresh_from_db()
    assert exemption.status == Status.AGREEMENT_ISSUED


def test_a_new_version_is_prefilled_from_the_last(client, users, community):
    exemption = _in(Status.ACTIVE, users, community)
    client.force_login(users["headteacher"])
    page = _page(client.get(exemption.get_absolute_url()))
    assert "Change the terms: issue version 2" in page
    assert "use stops until the new version is signed" in page
    assert f"{TERMS['expectations']}</textarea>" in page
    response = client.post(
        reverse("devices:agreement_issue", args=[exemption.pk]),
        {**TERMS, "where": "Medical room only"},
    )
    second = Agreement.objects.get(number=2)
    assert response["Location"] == second.get_absolute_url()
    assert second.where == "Medical room only"
    assert second.supersedes.status == Agreement.Status.SUPERSEDED


def test_the_agreement_page_offers_the_signatures_still_needed(client, users, community):
    agreement = _in(Status.AGREEMENT_ISSUED, users, community).agreements.get()
    url = agreement.get_absolute_url()

    client.force_login(users["headteacher"])
    page = _page(client.get(url))
    assert "Learner: Amira Khan" in page
    assert "Parent or carer with parental responsibility" in page
    assert 'value="headteacher"' in page
    assert 'value="Amira Khan"' in page  # the learner's name, prefilled
    assert "Hana Khan (mother)" in page  # the only parent with parental responsibility
    assert 'enctype="multipart/form-data"' in page
    assert 'role="img" aria-label="Signature box' in page
    assert "signature.js" in page

    client.force_login(users["dsl"])
    page = _page(client.get(url, {"as": "parent_carer"}))
    assert 'value="headteacher"' not in page
    assert "The headteacher signs for the school from their own login." in page
    assert 'value="Hana Khan"' in page  # prefilled for the capacity asked for

    client.force_login(users["staff"])  # may see it, records no signatures
    page = _page(client.get(url))
    assert "Record a signature" not in page


def test_recording_the_signatures_activates_the_exemption(client, users, community):
    exemption = _in(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    url = reverse("devices:signature_record", args=[agreement.pk])
    client.force_login(users["headteacher"])
    drawn = {"method": "drawn", "drawn_png": signature_png()}

    response = client.post(url, {"capacity": "learner", "signer_name": "Amira Khan", **drawn})
    assert response.status_code == 302
    # the parent capacity needs the parent chosen
    response = client.post(url, {"capacity": "parent_carer", "signer_name": "Hana Khan", **drawn})
    assert response.status_code == 200
    assert "Choose the parent or carer who is signing." in _page(response)
    # an empty drawing is refused with what to do
    response = client.post(
        url, {"capacity": "parent_carer", "signer_name": "Hana Khan", "method": "drawn"}
    )
    assert "The signature box is empty" in _page(response)
    parent = community["parent"].pk
    response = client.post(
        url, {"capacity": "parent_carer", "signer_name": "Hana Khan", "parent": parent, **drawn}
    )
    assert response.status_code == 302
    response = client.post(
        url, {"capacity": "headteacher", "signer_name": "Lisa Davis", **drawn}, follow=True
    )
    agreement.refresh_from_db()
    exemption.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED
    assert exemption.status == Status.ACTIVE
    page = _page(response)
    assert f"fingerprint {agreement.fingerprint}" in page
    assert "The exemption is now active." in page
    assert "Record a signature" not in page


def test_a_refused_signature_shows_why(client, users, community):
    agreement = _in(Status.AGREEMENT_ISSUED, users, community).agreements.get()
    url = reverse("devices:signature_record", args=[agreement.pk])
    client.force_login(users["dsl"])
    response = client.post(
        url,
        {
            "capacity": "headteacher",
            "signer_name": "Alice Hawksley",
            "method": "drawn",
            "drawn_png": signature_png(),
        },
    )
    assert response.status_code == 200
    assert "log in as the headteacher to sign" in _page(response)
    assert not agreement.signatures.exists()
    client.force_login(users["staff"])
    assert client.post(url, {"capacity": "learner"}).status_code == 403


def test_a_signed_agreement_takes_no_signature_and_says_so(client, users, community):
    agreement = _in(Status.ACTIVE, users, community).agreements.get()
    client.force_login(users["headteacher"])
    response = client.post(
        reverse("devices:signature_record", args=[agreement.pk]),
        {
            "capacity": "learner",
            "signer_name": "A",
            "method": "drawn",
            "drawn_png": signature_png(),
        },
    )
    assert response.status_code == 200
    assert "it takes no more signatures" in _page(response)


def test_revoking_needs_a_reason(client, users, community):
    exemption = _in(Status.ACTIVE, users, community)
    url = reverse("devices:exemption_revoke", args=[exemption.pk])
    client.force_login(users["headteacher"])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in _page(response)
    response = client.post(url, {"reason": "Photos taken on the school trip."}, follow=True)
    exemption.refresh_from_db()
    assert exemption.status == Status.REVOKED
    page = _page(response)
    assert "Revoked: use is no longer permitted." in page
    assert "Photos taken on the school trip." in page
    assert "Use is not permitted now." in page


def test_the_timeline_tells_the_whole_story(client, users, community):
    exemption = _in(Status.ACTIVE, users, community)
    issue(exemption, users["headteacher"], where="Medical room")
    client.force_login(users["headteacher"])
    page = _page(client.get(exemption.get_absolute_url()))
    for step in (
        "Asked for",
        "Approved by the headteacher",
        "Agreement version 1 issued",
        "Signed by Amira Khan (learner), version 1",
        "Signed by Hana Khan (parent or carer with parental responsibility), version 1",
        "Version 1 signed by everyone: terms fixed",
        "Agreement version 2 issued",
        "Every change to this record",
    ):
        assert step in page, step
    assert "Awaiting the headteacher&#x27;s decision" in page  # the history's first status


# The dashboard panel


def test_the_headteachers_panel(client, users, community):
    asked = request_for_learner(learner=community["learner"], by=users["staff"])
    signing = _in(Status.AGREEMENT_ISSUED, users, community)
    ending = request_for_learner(
        learner=community["other_learner"],
        by=users["headteacher"],
        ends=timezone.localdate() + datetime.timedelta(days=10),
    )
    approve(ending, users["headteacher"])
    sign_all(issue(ending, users["headteacher"]), head=users["headteacher"])
    client.force_login(users["headteacher"])
    page = _page(client.get("/"))
    assert 'data-panel="exemptions"' in page
    for title in (
        "Awaiting your decision",
        "Agreements awaiting signatures",
        "Ending in the next 14 days",
    ):
        assert title in page
    for exemption in (asked, signing, ending):
        assert exemption.get_absolute_url() in page


def test_a_teachers_panel_shows_their_requests(client, users, requested):
    client.force_login(users["staff"])
    page = _page(client.get("/"))
    assert "Your requests" in page
    assert requested.get_absolute_url() in page
    assert "Ask for permission" in page
    assert "Awaiting your decision" not in page


def test_no_panel_for_a_governor(client, users):
    client.force_login(users["governor"])
    assert 'data-panel="exemptions"' not in _page(client.get("/"))


# Pinned query counts


def _grow(users, n: int) -> None:
    """n exemptions of every kind of subject and in several states (made directly: many)."""
    head = users["headteacher"]
    now = timezone.now()
    today = timezone.localdate()
    for i in range(n):
        subject = i % 3
        extra = {}
        if subject == 1:
            extra = {
                "kind": Exemption.Kind.STAFF_TEACHING_TIME,
                "learner": None,
                "staff": factories.StaffMemberFactory(),
            }
        elif subject == 2:
            extra = {
                "kind": Exemption.Kind.VISITOR_WITH_LEARNERS,
                "learner": None,
                "visitor": factories.VisitorFactory(),
            }
        status = (Status.REQUESTED, Status.AGREEMENT_ISSUED, Status.ACTIVE)[i % 3]
        if status != Status.REQUESTED:
            extra.update(status=status, decided_by=head, decided_at=now)
        if status == Status.ACTIVE:
            extra["ends"] = today + datetime.timedelta(days=i % 20)
        factories.ExemptionFactory(requested_by=head, **extra)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again: savepoint, update, release (tests/test_query_counts).
_EVERY_PAGE = 3 + 2 + 3


@pytest.mark.parametrize(
    "query, apart",
    [("", 2), ("?status=requested", 0), ("?q=a&kind=staff_teaching_time", 1)],
)
def test_the_queue_runs_a_fixed_number_of_queries(client, users, query, apart):
    client.force_login(users["headteacher"])
    url = reverse("devices:exemption_list") + query
    _grow(users, 10)
    small = _count(client, url)
    _grow(users, 90)
    large = _count(client, url)
    assert small == large, f"{small} queries with 10 rows, {large} with 100"
    # the count for each status tab (whose sum is the paginator's count: no COUNT of its
    # own), the page of rows (with the learner and class, device and requester joined);
    # then the staff and the visitors on the page, one query each kind the page has
    # (`apart`: a page of staff requests has no visitors; the requests awaiting a
    # decision here are all learners')
    assert large == _EVERY_PAGE + 2 + apart


def test_the_headteachers_panel_runs_a_fixed_number_of_queries(users):
    request = RequestFactory().get("/")
    request.user = users["headteacher"]
    assert request.user.roles  # read once per request, by the layout, before any panel

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            context = _panel_context(request)
            html = render_to_string("devices/panels/exemptions.html", {"panel": context})
        assert "Awaiting your decision" in html
        return len(ctx.captured_queries)

    _grow(users, 10)
    small = count()
    _grow(users, 90)
    large = count()
    assert small == large
    # the three counts in one query; the first rows of each of the three queues
    assert large == 4


def test_a_teachers_panel_runs_a_fixed_number_of_queries(users, community):
    request = RequestFactory().get("/")
    request.user = users["staff"]
    assert request.user.roles
    for _ in range(12):
        request_for_learner(learner=community["learner"], by=users["staff"])
    # a fresh request: nothing of the user cached from the requests made above
    request.user = User.objects.get(pk=users["staff"].pk)
    assert request.user.roles
    with CaptureQueriesContext(connection) as ctx:
        context = _panel_context(request)
        render_to_string("devices/panels/exemptions.html", {"panel": context})
    # their staff record; their latest requests (with the subject joined)
    assert len(ctx.captured_queries) == 2
    assert len(context["mine"]) == 5


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl", "office"])
def test_the_panel_is_free_for_the_dsl_team_and_the_office(users, role):
    """Links only: the DSL's pinned dashboard count (tests/test_query_counts.py) is untouched."""
    request = RequestFactory().get("/")
    request.user = users[role]
    assert request.user.roles
    with CaptureQueriesContext(connection) as ctx:
        context = _panel_context(request)
        html = render_to_string("devices/panels/exemptions.html", {"panel": context})
    assert len(ctx.captured_queries) == 0
    assert "Check an agreement" in html


def test_every_read_of_an_exemption_or_agreement_is_logged(client, users, community):
    exemption = _in(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    client.force_login(users["staff"])
    client.get(exemption.get_absolute_url())
    client.get(agreement.get_absolute_url())
    logged = {
        (row.content_type.model, row.object_id, row.action)
        for row in RecordAccess.objects.filter(user=users["staff"])
    }
    assert logged == {
        ("exemption", str(exemption.pk), RecordAccess.Action.VIEW),
        ("agreement", str(agreement.pk), RecordAccess.Action.VIEW),
    }
