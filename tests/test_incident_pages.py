"""The DSL's triage queue and the incident page: at each role, the filters and counts, the
one timeline of everything, the steps (refused with the reason, typed input kept), the
access log, the dashboard panels, and pinned query counts at 10 and 100 rows or events."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from compliance.models import ActionPlanItem, RecordAccess
from compliance.roles import Role
from incidents import services
from incidents.models import Category, Incident, Involvement, Referral, Search
from tests import factories
from tests.counts import ACCESS_LOG
from tests.test_incident_workflow import (
    PNG,
    _police_handover,
    _search,
    _triaged_on_friday,
    advance,
    linked_policies,
    make_pure_headteacher,
    record_debrief,
    report,
)

pytestmark = pytest.mark.django_db

Status = Incident.Status


def access_log_of(client, incident) -> str:
    """The access log part of the page, as the DSL's browser fetches it when opened."""
    url = reverse("incidents:incident_access_log", args=[incident.pk])
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode().split('data-testid="access-log"')[1]


def page_of(client, incident) -> str:
    response = client.get(reverse("incidents:incident_detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post(client, incident, step: str, data: dict | None = None, *, follow: bool = False):
    url = reverse(f"incidents:incident_{step}", args=[incident.pk])
    return client.post(url, data or {}, follow=follow)


def text_of(html: str) -> str:
    """The page as a reader sees it: tags gone, whitespace squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def incident(users, community):
    return report(users["staff"], learner=community["learner"])


# The incident page at each role ----------------------------------------------------------


def test_the_dsl_team_opens_the_incident(client, users, incident):
    for role in ("dsl", "deputy_dsl", "headteacher"):
        client.force_login(users[role])
        page = page_of(client, incident)
        assert incident.reference in page
        assert "A phone was used to photograph pupils in the classroom." in page


def test_the_reporter_is_sent_to_their_own_report(client, users, incident):
    client.force_login(users["staff"])
    response = client.get(reverse("incidents:incident_detail", args=[incident.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:my_report_detail", args=[incident.pk])
    # and cannot take a step here
    response = post(client, incident, "triage", {"category": incident.category})
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED


def test_no_one_else_sees_the_incident(client, users, community, incident):
    other_teacher = factories.UserFactory(roles=[Role.STAFF])
    for user, status in (
        (other_teacher, 404),
        (users["office"], 404),
        (users["governor"], 403),
        (users["outsider"], 403),
        (make_pure_headteacher(), 404),
    ):
        client.force_login(user)
        response = client.get(reverse("incidents:incident_detail", args=[incident.pk]))
        assert response.status_code == status, user
    assert not RecordAccess.objects.exists()


def test_the_headteacher_sees_and_handles_staff_matters(client, users, community):
    head = make_pure_headteacher()
    colleague = factories.StaffMemberFactory(first_name="Carl", last_name="Colleague")
    matter = report(users["staff"], staff=colleague, category=Category.STAFF_PERSONAL_CONTACT)
    client.force_login(head)
    page = page_of(client, matter)
    assert "Carl Colleague" in page
    assert post(client, matter, "triage", {"category": matter.category}).status_code == 302
    assert post(client, matter, "investigate").status_code == 302
    response = post(client, matter, "conduct", {"outcome": "Written warning."}, follow=True)
    assert "Recorded the code of conduct outcome." in response.content.decode()
    matter.refresh_from_db()
    assert (matter.status, matter.conduct_outcome) == (Status.INVESTIGATING, "Written warning.")
    # the queue shows the headteacher their staff matters, not the pupils' incidents
    pupils = report(users["staff"], learner=factories.LearnerFactory())
    queue = client.get(reverse("incidents:queue")).content.decode()
    assert matter.reference in queue and pupils.reference not in queue


# Every open is logged ----------------------------------------------------------------------


def test_every_open_is_logged_and_the_dsl_sees_the_log(client, users, incident):
    client.force_login(users["deputy_dsl"])
    page = page_of(client, incident)
    page_of(client, incident)
    assert 'data-testid="access-log"' not in page  # the DSL only
    opened = RecordAccess.objects.filter(object_id=str(incident.pk))
    assert [(e.user, e.record) for e in opened.all()] == [(users["deputy_dsl"], incident)] * 2
    # a step refused and shown again is an open too
    post(client, incident, "close")
    assert opened.count() == 3
    client.force_login(users["dsl"])
    page = page_of(client, incident)
    assert opened.count() == 4
    # folded on the page, fetched when opened; reading it opens nothing
    assert 'data-testid="access-log"' not in page and 'id="access-log"' in page
    log = access_log_of(client, incident).split("</table>")[0]
    assert opened.count() == 4
    assert log.count("Sue Vincent") == 3
    assert log.count("Alice Hawksley") == 1
    assert "Viewed: This incident" in log


def test_opening_a_search_shows_in_the_incident_log(client, users, community, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.INVESTIGATING, dsl)
    search = _search(incident, community, dsl)
    from compliance.services import record_access_log

    record_access_log(user=users["deputy_dsl"], record=search)
    client.force_login(dsl)
    log = access_log_of(client, incident)
    assert f"Viewed: Search #{search.pk}" in log


# The timeline ------------------------------------------------------------------------------


def test_the_timeline_shows_everything_oldest_first(client, users, community, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    dsl, head = users["dsl"], users["headteacher"]
    linked_policies()
    colleague = factories.StaffMemberFactory(first_name="Carl", last_name="Colleague")
    incident = report(users["staff"], learner=community["learner"])
    attachment = services.attachment_add(
        incident=incident,
        upload=SimpleUploadedFile("chat.png", PNG, content_type="image/png"),
        description="Screenshot of the class chat",
        by=users["staff"],
    )
    services.incident_triage(incident=incident, by=dsl, suspected_illegal=True)
    services.incident_start_investigation(incident=incident, by=dsl)
    services.note_add(incident=incident, text="Correction: it was Tuesday.", by=users["staff"])
    services.person_add(
        incident=incident,
        person=services.Person(part=Involvement.Part.SUBJECT, staff=colleague),
        by=dsl,
    )
    services.incident_escalate(incident=incident, by=dsl, child_at_risk=True)
    search = _search(
        incident,
        community,
        dsl,
        searched_at=timezone.now(),
        outcome=Search.Outcome.POLICE,
        confiscation=_police_handover(community, dsl),
        parents_told_at=timezone.now(),
    )
    services.referral_record(
        incident=incident,
        agency=Referral.Agency.POLICE,
        contact="PC Smith",
        reference="KP/26/0099",
        by=dsl,
    )
    services.referral_record(
        incident=incident,
        agency=Referral.Agency.ESS,
        contact="Education Safeguarding Service duty line",
        advice="Refer to the LADO as well.",
        outcome="Done.",
        by=dsl,
    )
    services.referral_record(
        incident=incident, agency=Referral.Agency.LADO, contact="The LADO", by=dsl
    )
    services.parent_contact_record(
        incident=incident,
        parent=community["parent"],
        how="phone",
        summary="Told of the search and the police.",
        by=dsl,
    )
    services.conduct_outcome_record(incident=incident, outcome="Suspended.", by=head)
    services.attachment_remove(attachment=attachment, reason="It shows a child.", by=dsl)
    services.incident_ready_for_debrief(incident=incident, by=dsl)
    record_debrief(
        incident,
        dsl,
        policy_changes="Phones handed in at the gate.",
        actions=[
            services.Action(
                "Update section 6",
                community["staff"],
                timezone.localdate() + datetime.timedelta(days=14),
            )
        ],
    )
    services.incident_close(incident=incident, by=dsl)

    client.force_login(dsl)
    page = page_of(client, incident)
    timeline = page.split('data-testid="timeline"')[1].split("</ol>")[0]
    kinds = re.findall(r'data-kind="(\w+)"', timeline)
    assert set(kinds) == {
        "status",
        "note",
        "person",
        "search",
        "confiscation",
        "referral",
        "parents",
        "debrief",
        "attachment",
    }
    said = text_of(timeline)
    in_order = [
        "Reported",
        "Amira Khan (subject)",
        "File attached: Screenshot of the class chat",
        "Triaged",
        "Investigation started",
        "Note added",
        "Correction: it was Tuesday.",
        "Carl Colleague (subject)",
        "Flag raised",
        "Device searched: Amira Khan",
        "Second member of staff: Tom Teacher",
        "Consent: Hana Khan (By phone)",
        "Device confiscated: Mobile phone",
        "Officer: PC 1234 Smith",
        "Referral: Police",
        "Advice sought: Education Safeguarding Service (advice)",
        "Advice: Refer to the LADO as well.",
        "Referral: LADO",
        "Parent or carer told: Hana Khan",
        "Code of conduct outcome recorded",
        "File removed: Screenshot of the class chat",
        "Investigation complete: awaiting the debrief",
        "Debrief",
        "Action: Update section 6 (Tom Teacher, due",
        "Closed",
    ]
    positions = [said.find(phrase) for phrase in in_order]
    assert -1 not in positions, [p for p, i in zip(in_order, positions, strict=True) if i < 0]
    assert positions == sorted(positions), said
    assert f'href="{reverse("incidents:search_detail", args=[search.pk])}"' in timeline
    assert f'href="{search.confiscation.get_absolute_url()}"' in timeline
    # the status change shows who and what changed
    assert "Child at risk no yes" in said


def test_the_nudes_instruction_is_shown_and_no_file_is_offered(client, users, community):
    nudes = report(users["staff"], learner=community["learner"], category=Category.NUDES)
    client.force_login(users["dsl"])
    page = page_of(client, nudes)
    guidance = text_of(page.split('data-testid="nudes-guidance"')[1].split("</section>")[0])
    assert "Do not view, copy, print, share, store or ask for the image." in guidance
    assert "Confiscate the device" in guidance
    assert "Tell the DSL" in guidance
    assert "No file of any kind is accepted on this incident." in guidance
    assert 'type="file"' not in page


# Steps through the page --------------------------------------------------------------------


def test_triage_through_the_page(
    client, users, community, incident, django_capture_on_commit_callbacks
):
    linked_policies()
    client.force_login(users["dsl"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("incidents:incident_triage", args=[incident.pk]),
            {
                "category": Category.UNAUTHORISED_RECORDING,
                "child_at_risk": "on",
                "assignee": str(users["deputy_dsl"].pk),
            },
            follow=True,
        )
    page = response.content.decode()
    assert "Escalated under the child protection policy; the DSL has been alerted." in page
    incident.refresh_from_db()
    assert (incident.status, incident.assignee, incident.triaged_by) == (
        Status.TRIAGED,
        users["deputy_dsl"],
        users["dsl"],
    )
    assert incident.child_at_risk


def test_a_refused_step_says_why_and_keeps_what_was_typed(client, users, incident):
    client.force_login(users["dsl"])
    response = post(
        client,
        incident,
        "referral",
        {
            "agency": "police",
            "made_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "contact": "DC Jones of the child exploitation team",
            "reference": "KP/1",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Triage the report first." in page
    assert 'value="DC Jones of the child exploitation team"' in page
    assert not Referral.objects.exists()


def test_a_form_with_errors_is_shown_again(client, users, incident):
    advance(incident, Status.TRIAGED, users["dsl"])
    client.force_login(users["dsl"])
    response = post(client, incident, "parents_not_told", {"reason": ""})
    page = response.content.decode()
    assert "Nothing was recorded: check the form below." in page
    assert "This field is required." in page


def test_close_shows_what_is_still_needed_and_refuses(client, users, incident):
    dsl = users["dsl"]
    advance(incident, Status.AWAITING_DEBRIEF, dsl)
    client.force_login(dsl)
    page = page_of(client, incident)
    blockers = text_of(page.split('data-testid="blockers"')[1].split("</ul>")[0])
    assert "The debrief has not been recorded (section 9)." in blockers
    assert "Record that parents or carers were told" in blockers
    response = post(client, incident, "close")
    assert "It cannot close yet: The debrief has not been recorded" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.AWAITING_DEBRIEF


def test_the_debrief_through_the_page_makes_action_plan_items(client, users, community, incident):
    dsl = users["dsl"]
    advance(incident, Status.AWAITING_DEBRIEF, dsl)
    client.force_login(dsl)
    due = (timezone.localdate() + datetime.timedelta(days=21)).isoformat()
    data = {
        "held_on": timezone.localdate().isoformat(),
        "attendees": [str(dsl.staff_member.pk), str(community["staff"].pk)],
        "lessons": "Phones must be handed in before registration.",
        "curriculum_changes": "A PSHE lesson on taking photographs of others.",
        "action_1_description": "Plan the PSHE lesson",
        "action_1_owner": str(community["staff"].pk),
        "action_2_description": "Half a row",
    }
    response = post(client, incident, "debrief", data)
    page = response.content.decode()
    assert "Each action needs what is to be done, an owner and a due date." in page
    assert 'value="Half a row"' in page
    assert not ActionPlanItem.objects.exists()
    data.update(action_1_due=due, action_2_description="")
    response = post(client, incident, "debrief", data, follow=True)
    assert "Debrief recorded; 1 action added to the action plan." in response.content.decode()
    item = ActionPlanItem.objects.get()
    assert (item.description, item.owner, item.source_reference) == (
        "Plan the PSHE lesson",
        community["staff"],
        incident.reference,
    )


def test_each_step_through_the_page(client, users, community, incident, settings, tmp_path):
    """The page's forms call the transitions: a walk from reported to closed."""
    settings.MEDIA_ROOT = tmp_path
    dsl = users["dsl"]
    attachment = services.attachment_add(
        incident=incident,
        upload=SimpleUploadedFile("chat.png", PNG, content_type="image/png"),
        description="Screenshot",
        by=users["staff"],
    )
    client.force_login(dsl)
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    steps = [
        ("triage", {"category": incident.category}, "Triaged"),
        ("investigate", {}, "The investigation has started."),
        ("note", {"text": "The phone was handed in."}, "Note added."),
        (
            "person",
            {"part": "witness", "learner": str(community["other_learner"].pk)},
            "Added Zed Other (witness).",
        ),
        ("escalate", {"suspected_illegal": "on"}, "Raised: suspected illegal material."),
        (
            "referral",
            {"agency": "police", "made_at": now, "contact": "PC Smith", "reference": "KP/2"},
            "Recorded: Police.",
        ),
        (
            "parents_told",
            {
                "parent": str(community["parent"].pk),
                "told_at": now,
                "how": "phone",
                "summary": "What happened and what the school did.",
            },
            "Recorded that Hana Khan was told (phone call).",
        ),
        ("ready", {}, "The investigation is complete: next, the debrief."),
    ]
    for step, data, said in steps:
        response = post(client, incident, step, data, follow=True)
        assert said in response.content.decode(), step
    response = client.post(
        reverse("incidents:incident_attachment_remove", args=[incident.pk, attachment.pk]),
        {f"remove-{attachment.pk}-reason": "Not to be kept."},
        follow=True,
    )
    assert "The file is removed" in response.content.decode()
    record_debrief(incident, dsl)
    # suspected illegal material on a learner's device: the hand-over is still needed
    response = post(client, incident, "close")
    assert "record its hand-over to the police" in response.content.decode()
    _search(
        incident,
        community,
        dsl,
        outcome=Search.Outcome.POLICE,
        confiscation=_police_handover(community, dsl),
        parents_told_at=timezone.now(),
    )
    response = post(client, incident, "close", follow=True)
    assert f"{incident.reference} is closed." in response.content.decode()


def test_only_the_dsl_removes_a_file(client, users, incident, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = services.attachment_add(
        incident=incident,
        upload=SimpleUploadedFile("chat.png", PNG, content_type="image/png"),
        description="Screenshot",
        by=users["staff"],
    )
    url = reverse("incidents:incident_attachment_remove", args=[incident.pk, attachment.pk])
    client.force_login(users["deputy_dsl"])
    assert "Remove this file" not in page_of(client, incident)
    response = client.post(url, {f"remove-{attachment.pk}-reason": "Not to be kept."})
    assert "Only the DSL removes a file from an incident." in response.content.decode()
    attachment.refresh_from_db()
    assert attachment.removed_at is None


# The queue -----------------------------------------------------------------------------


def _queue(client, **params) -> str:
    response = client.get(reverse("incidents:queue"), params)
    assert response.status_code == 200
    return response.content.decode()


def _references(page: str) -> list[str]:
    return re.findall(r">(INC-[\w-]+)</a></td>", page)


def test_the_queue_counts_filters_and_pages(client, users, community):
    dsl, deputy = users["dsl"], users["deputy_dsl"]
    learner, other = community["learner"], community["other_learner"]
    playground = factories.LocationFactory(name="Playground", restricted=True)
    made = []
    for n in range(30):
        incident = report(
            users["staff"],
            learner=learner if n % 2 else other,
            category=Category.CYBERBULLYING if n % 3 == 0 else Category.UNAUTHORISED_RECORDING,
            occurred_at=timezone.now() - datetime.timedelta(days=n),
        )
        if n % 5 == 0:
            Incident.objects.filter(pk=incident.pk).update(location=playground)
        made.append(incident)
    for incident in made[:4]:
        services.incident_triage(incident=incident, by=dsl, assignee=deputy)
    services.incident_start_investigation(incident=made[0], by=dsl)
    client.force_login(dsl)

    page = _queue(client)
    tabs = text_of(page.split('aria-label="Incidents by status"')[1].split("</nav>")[0])
    assert "All 30" in tabs and "Reported 26" in tabs and "Triaged 3" in tabs
    assert "Investigating 1" in tabs and "Closed 0" in tabs
    assert "30 found" in page
    # newest report first, 25 a page
    assert _references(page) == [i.reference for i in reversed(made)][:25]
    assert _references(_queue(client, page=2)) == [i.reference for i in reversed(made)][25:]

    assert set(_references(_queue(client, status="triaged"))) == {i.reference for i in made[1:4]}
    cyber = {i.reference for n, i in enumerate(made) if n % 3 == 0}
    assert set(_references(_queue(client, category="cyberbullying"))) == cyber
    at_playground = {i.reference for n, i in enumerate(made) if n % 5 == 0}
    assert set(_references(_queue(client, location=playground.pk))) == at_playground
    page = _queue(client, learner="amira KHAN")
    assert "15 found" in page and "Zed Other" not in page.split("<tbody>")[1]
    recent = {i.reference for i in made[:8]}
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert set(_references(_queue(client, occurred_from=since))) == recent
    until = (timezone.localdate() - datetime.timedelta(days=28)).isoformat()
    assert set(_references(_queue(client, occurred_to=until))) == {i.reference for i in made[28:]}
    assert set(_references(_queue(client, assignee=deputy.pk))) == {i.reference for i in made[:4]}
    assert len(_references(_queue(client, assignee="null", page=2))) == 1  # 26 unassigned
    # the counts follow the other filters
    tabs = text_of(
        _queue(client, category="cyberbullying")
        .split('aria-label="Incidents by status"')[1]
        .split("</nav>")[0]
    )
    assert f"All {len(cyber)}" in tabs


def test_the_queue_filters_matters_involving_staff(client, users, community):
    colleague = factories.StaffMemberFactory()
    matter = report(users["staff"], staff=colleague)
    pupils = report(users["staff"], learner=community["learner"])
    client.force_login(users["dsl"])
    assert _references(_queue(client, staff="true")) == [matter.reference]
    assert set(_references(_queue(client))) == {matter.reference, pupils.reference}


def test_the_queue_is_for_the_dsl_team(client, users):
    for role, status in (("staff", 403), ("office", 403), ("governor", 403), ("deputy_dsl", 200)):
        client.force_login(users[role])
        assert client.get(reverse("incidents:queue")).status_code == status, role


def test_a_lado_referral_overdue_is_flagged_in_the_queue_and_on_the_dashboard(client, users):
    overdue = _triaged_on_friday(users)
    client.force_login(users["dsl"])
    page = _queue(client)
    alert = page.split('data-testid="lado-overdue"')[1].split("</div>")[0]
    assert "LADO referral overdue: 1" in alert and overdue.reference in alert
    row = page.split("<tbody>")[1].split(overdue.reference + "</a>")[1].split("</tr>")[0]
    assert "LADO overdue" in row
    dashboard = client.get(reverse("dashboard")).content.decode()
    panel = dashboard.split('data-panel="triage_queue"')[1].split("</section>")[0]
    assert "LADO referral overdue: 1" in panel and overdue.reference in panel
    page = page_of(client, overdue)
    assert "LADO referral overdue." in page
    services.referral_record(
        incident=overdue, agency=Referral.Agency.LADO, contact="The LADO", by=users["dsl"]
    )
    assert 'data-testid="lado-overdue"' not in _queue(client)
    assert "LADO referred late" in _queue(client)


def test_the_dashboard_panels(client, users, community):
    colleague = factories.StaffMemberFactory()
    matter = report(users["staff"], staff=colleague)
    services.incident_triage(incident=matter, by=users["dsl"])
    report(users["staff"], learner=community["learner"])
    client.force_login(users["dsl"])
    page = client.get(reverse("dashboard")).content.decode()
    panel = text_of(page.split('data-panel="triage_queue"')[1].split("</section>")[0])
    assert "1 new report to triage" in panel and "Triaged : 1" in panel
    assert 'data-panel="staff_matters"' not in page
    head = make_pure_headteacher()
    client.force_login(head)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="triage_queue"' not in page
    panel = text_of(page.split('data-panel="staff_matters"')[1].split("</section>")[0])
    assert "0 new reports involving staff" in panel
    assert matter.reference in panel  # its code of conduct outcome is still to record
    client.force_login(users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert "triage_queue" not in page and "staff_matters" not in page


# Query counts --------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; and the session saved again (idle timeout slides): savepoint, update, release.
_EVERY_PAGE = 3 + 2 + 3


def _grow_queue(users, community, n: int) -> None:
    deputy = users["deputy_dsl"]
    for i in range(n):
        incident = report(users["staff"], learner=community["learner"])
        if i % 2:
            services.incident_triage(
                incident=incident, by=users["dsl"], assignee=deputy, staff_allegation=i % 4 == 1
            )
        services.person_add(
            incident=incident,
            person=services.Person(part="witness", learner=community["other_learner"]),
            by=users["dsl"],
        )


# the filter's locations and leads; counts by status (their sum is the page's count); the
# LADO candidates; the page's rows (LADO annotated, location and assignee joined); the
# learners on it
QUEUE_QUERIES = _EVERY_PAGE + 2 + 1 + 1 + 1 + 1


def test_the_queue_runs_a_fixed_number_of_queries(client, users, community):
    client.force_login(users["dsl"])
    url = reverse("incidents:queue")
    _grow_queue(users, community, 10)
    small = _count(client, url)
    _grow_queue(users, community, 90)
    large = _count(client, url)
    assert small == large, f"{small} queries with 10 incidents, {large} with 100"
    assert large == QUEUE_QUERIES, large


def _grow_incident(incident, users, community, n: int) -> None:
    dsl = users["dsl"]
    for i in range(n):
        # the DSL and the deputy by turns: the page reads the logins its records name
        by = users["deputy_dsl"] if i % 2 else dsl
        services.note_add(incident=incident, text=f"Note {i}", by=by)
        learner = factories.LearnerFactory(form_class=community["my_class"])
        services.person_add(
            incident=incident, person=services.Person(part="witness", learner=learner), by=by
        )
        services.referral_record(
            incident=incident, agency=Referral.Agency.ESS, contact=f"Adviser {i}", by=by
        )
        services.parent_contact_record(
            incident=incident,
            parent=community["parent"],
            how="phone",
            summary=f"Call {i}",
            by=by,
        )
        _search(incident, community, dsl, parents_told_at=timezone.now())


# The incident (location, reporter, assignee joined): 1; the access log, its row and its
# history row (tests/counts.py); which kinds of record it has: 1; then one
# query for each kind it has: the people (each with when it was added) and the referrals:
# 2; the debrief, its attendees, its actions: 3; the notes, the searches (their
# confiscations joined), the parent contacts: 3 (it has no files and no linked policies
# here: 0); the incident's history: 1; the logins all these name, other than the
# incident's reporter and lead (here the deputy's): 1; the policies linked at every version
# of it, all versions at once: 1 (compliance.history; simple_history alone diffs
# many-to-many fields two queries for each pair of versions). What stops it closing reads
# what is already loaded: 0. Only the open step's form is made (here "close", which offers
# no choices); a folded step fetches its form when opened, and so does who has opened it: 0.
INCIDENT_QUERIES = _EVERY_PAGE + 1 + ACCESS_LOG + 1 + 2 + 3 + 3 + 1 + 1 + 1


def test_the_incident_page_runs_a_fixed_number_of_queries(client, users, community):
    dsl = users["dsl"]
    incident = report(users["staff"], learner=community["learner"])
    incident = advance(incident, Status.INVESTIGATING, dsl)
    services.incident_ready_for_debrief(incident=incident, by=dsl)
    record_debrief(incident, dsl)
    client.force_login(dsl)
    url = reverse("incidents:incident_detail", args=[incident.pk])
    _grow_incident(incident, users, community, 10)
    client.get(url)  # content types cached, as on any page after the first
    small = _count(client, url)
    _grow_incident(incident, users, community, 90)
    large = _count(client, url)
    assert small == large, f"{small} queries with 10 of each, {large} with 100"
    assert large == INCIDENT_QUERIES, large
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url).content.decode()
    # each kind is read alone: the incident, read once, is joined to none of them (as
    # select_related() given no names would)
    joined = [
        q["sql"][:80] for q in ctx.captured_queries if 'JOIN "incidents_incident"' in q["sql"]
    ]
    assert not joined, joined
    deputy = escape(users["deputy_dsl"].get_full_name())
    assert page.count(deputy) >= 50 * 4  # each of their notes, people, calls, referrals


# Who has opened it, fetched when the DSL opens that part of the page: the incident, the
# numbers of its searches, the latest openings with who opened them; no layout (a part of
# the page), and reading the log is not itself an opening.
ACCESS_LOG_QUERIES = _EVERY_PAGE - 2 + 1 + 1 + 1


def test_who_has_opened_it_runs_a_fixed_number_of_queries(client, users, community):
    from compliance.services import record_access_log

    dsl = users["dsl"]
    incident = advance(report(users["staff"], learner=community["learner"]), Status.TRIAGED, dsl)
    client.force_login(dsl)
    url = reverse("incidents:incident_access_log", args=[incident.pk])
    client.get(url, HTTP_HX_REQUEST="true")  # content types cached, as after the first
    counts = []
    for n in (10, 100):
        while RecordAccess.objects.count() < n:
            record_access_log(user=users["deputy_dsl"], record=incident)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts == [ACCESS_LOG_QUERIES] * 2, counts
