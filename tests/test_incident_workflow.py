"""The incident workflow (policy sections 5, 6 and 9): every transition from every status,
every role that may not take it, and every guard on closing tried, refused with its reason,
then satisfied until the incident closes.

reported -> triaged -> investigating -> awaiting debrief -> closed; each step one function in
`incidents.services`, which is the only place that sets `status`.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance.models import ActionPlanItem, LinkedPolicy
from compliance.roles import Role
from compliance.transitions import Refused
from devices import services as device_services
from incidents import services
from incidents.models import Category, Incident, Involvement, Referral, Search
from incidents.services import Person
from tests import factories

pytestmark = pytest.mark.django_db

Status = Incident.Status
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
ONLY_HANDLERS = re.escape(
    "Only the DSL or a deputy (or the headteacher, for a matter involving staff or a visitor)"
)


# Making incidents through the services -----------------------------------------------


def make_pure_headteacher():
    """A headteacher who is not also a deputy DSL (the `headteacher` fixture is both)."""
    user = factories.UserFactory(
        username="purehead", roles=[Role.HEADTEACHER], first_name="Hana", last_name="Head"
    )
    factories.StaffMemberFactory(user=user, first_name="Hana", last_name="Head")
    return user


def linked_policies() -> None:
    """The data migration's linked policies; transactional tests flush them."""
    for name in (services.CHILD_PROTECTION_POLICY, services.CODE_OF_CONDUCT_POLICY):
        LinkedPolicy.objects.get_or_create(name=name)


def report(
    by,
    *,
    learner=None,
    staff=None,
    category: str = Category.UNAUTHORISED_RECORDING,
    account: str = "A phone was used to photograph pupils in the classroom.",
    part: str = Involvement.Part.SUBJECT,
    occurred_at: datetime.datetime | None = None,
) -> Incident:
    people = []
    if learner is not None:
        people.append(Person(part=part, learner=learner))
    if staff is not None:
        people.append(Person(part=Involvement.Part.SUBJECT, staff=staff))
    return services.incident_report(
        occurred_at=occurred_at or timezone.now() - datetime.timedelta(hours=1),
        location=factories.LocationFactory(),
        category=category,
        account=account,
        people=people,
        by=by,
    )


def advance(incident: Incident, to: str, dsl, *, parents: str = "not told") -> Incident:
    """Move an incident on through the services to `to`. Closing needs what closing needs:
    here, the reason parents were not told (or nothing, if `parents` is "told") and the
    debrief."""

    def close(incident):
        if parents == "not told":
            services.parents_not_told(
                incident=incident, reason="Telling them would put the child at risk.", by=dsl
            )
        record_debrief(incident, dsl)
        services.incident_close(incident=incident, by=dsl)

    step = {
        Status.REPORTED: lambda i: services.incident_triage(incident=i, by=dsl),
        Status.TRIAGED: lambda i: services.incident_start_investigation(incident=i, by=dsl),
        Status.INVESTIGATING: lambda i: services.incident_ready_for_debrief(incident=i, by=dsl),
        Status.AWAITING_DEBRIEF: close,
    }
    order = list(Status.values)
    incident.refresh_from_db()
    while order.index(incident.status) < order.index(to):
        step[incident.status](incident)
        incident.refresh_from_db()
    assert incident.status == to
    return incident


def record_debrief(incident: Incident, by, **overrides):
    attendee = getattr(by, "staff_member", None) or factories.StaffMemberFactory()
    kwargs = {
        "incident": incident,
        "held_on": timezone.localdate(),
        "attendees": [attendee],
        "lessons": "Phones stay in the office from the start of the day.",
        "by": by,
    }
    kwargs.update(overrides)
    return services.debrief_record(**kwargs)


@pytest.fixture
def incident(users, community):
    """A teacher's report: a pupil photographed others in class with a phone."""
    return report(users["staff"], learner=community["learner"])


# The transition table ------------------------------------------------------------------

OPEN = {Status.TRIAGED, Status.INVESTIGATING, Status.AWAITING_DEBRIEF}
ALL = set(Status.values)


def _triage(incident, dsl, community):
    services.incident_triage(incident=incident, by=dsl)


def _investigate(incident, dsl, community):
    services.incident_start_investigation(incident=incident, by=dsl)


def _ready(incident, dsl, community):
    services.incident_ready_for_debrief(incident=incident, by=dsl)


def _debrief(incident, dsl, community):
    record_debrief(incident, dsl)


def _close(incident, dsl, community):
    services.parents_not_told(incident=incident, reason="Risk to the child.", by=dsl)
    record_debrief(incident, dsl)
    services.incident_close(incident=incident, by=dsl)


def _escalate(incident, dsl, community):
    services.incident_escalate(incident=incident, by=dsl, suspected_illegal=True)


def _referral(incident, dsl, community):
    services.referral_record(
        incident=incident, agency=Referral.Agency.ESS, contact="Duty officer", by=dsl
    )


def _parents_told(incident, dsl, community):
    services.parent_contact_record(
        incident=incident, parent=community["parent"], how="phone", summary="What happened.", by=dsl
    )


def _parents_not_told(incident, dsl, community):
    services.parents_not_told(incident=incident, reason="Risk to the child.", by=dsl)


def _person(incident, dsl, community):
    services.person_add(
        incident=incident,
        person=Person(part=Involvement.Part.WITNESS, learner=community["other_learner"]),
        by=dsl,
    )


def _note(incident, dsl, community):
    services.note_add(incident=incident, text="The phone was handed in at 9am.", by=dsl)


# transition: (what it does, the statuses it may start from, the reason when it may not,
#              by status, or one reason for all)
TABLE = {
    "triage": (_triage, {Status.REPORTED}, "it was already triaged"),
    "start_investigation": (
        _investigate,
        {Status.TRIAGED},
        "Only a triaged incident moves to investigation.",
    ),
    "ready_for_debrief": (
        _ready,
        {Status.INVESTIGATING},
        "Only an incident under investigation moves to debrief.",
    ),
    "debrief": (
        _debrief,
        {Status.AWAITING_DEBRIEF},
        "The debrief comes after the investigation is complete.",
    ),
    "close": (_close, {Status.AWAITING_DEBRIEF}, None),
    "escalate": (
        _escalate,
        OPEN,
        {Status.REPORTED: "Triage the report first.", Status.CLOSED: "The incident is closed."},
    ),
    "referral": (
        _referral,
        OPEN,
        {
            Status.REPORTED: "Triage the report first.",
            Status.CLOSED: "The incident is closed: add a note instead.",
        },
    ),
    "parents_told": (
        _parents_told,
        OPEN,
        {
            Status.REPORTED: "Triage the report first.",
            Status.CLOSED: "The incident is closed: add a note instead.",
        },
    ),
    "parents_not_told": (
        _parents_not_told,
        OPEN,
        {
            Status.REPORTED: "Triage the report first.",
            Status.CLOSED: "The incident is closed: add a note instead.",
        },
    ),
    "person": (_person, ALL - {Status.CLOSED}, "The incident is closed."),
    "note": (_note, ALL, None),
}


@pytest.mark.parametrize("status", Status.values)
@pytest.mark.parametrize("transition", sorted(TABLE))
def test_transition_table(users, community, incident, transition, status):
    """Every transition from every status: allowed where the workflow says, and refused with
    the reason everywhere else (the status does not move)."""
    dsl = users["dsl"]
    run, allowed, reasons = TABLE[transition]
    incident = advance(incident, status, dsl)
    if status in allowed:
        run(incident, dsl, community)
        return
    if transition == "close" and status != Status.AWAITING_DEBRIEF:
        reason = "An incident closes after its debrief."
        with pytest.raises(Refused, match=reason):
            services.incident_close(incident=incident, by=dsl)
    else:
        reason = reasons.get(status) if isinstance(reasons, dict) else reasons
        with pytest.raises(Refused) as refused:
            run(incident, dsl, community)
        assert reason in str(refused.value)
    incident.refresh_from_db()
    assert incident.status == status


def test_status_moves_only_forward_with_who_and_when(users, community, incident):
    dsl, deputy = users["dsl"], users["deputy_dsl"]
    services.incident_triage(incident=incident, by=deputy)
    incident.refresh_from_db()
    assert (incident.status, incident.triaged_by, incident.assignee) == (
        Status.TRIAGED,
        deputy,
        deputy,
    )
    assert incident.triaged_at is not None
    closed = advance(incident, Status.CLOSED, dsl)
    assert closed.closed_by == dsl and closed.closed_at is not None
    statuses = [r.status for r in closed.history.order_by("history_date", "history_id")]
    assert [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]] == [
        Status.REPORTED,
        Status.TRIAGED,
        Status.INVESTIGATING,
        Status.AWAITING_DEBRIEF,
        Status.CLOSED,
    ]


# Roles --------------------------------------------------------------------------------

STEPS_BY_ROLE = {
    "triage": (Status.REPORTED, _triage),
    "start_investigation": (Status.TRIAGED, _investigate),
    "ready_for_debrief": (Status.INVESTIGATING, _ready),
    "debrief": (Status.AWAITING_DEBRIEF, _debrief),
    "close": (Status.AWAITING_DEBRIEF, _close),
    "escalate": (Status.TRIAGED, _escalate),
    "referral": (Status.TRIAGED, _referral),
    "parents_told": (Status.TRIAGED, _parents_told),
    "parents_not_told": (Status.TRIAGED, _parents_not_told),
}


@pytest.mark.parametrize("role", ["staff", "office", "governor", "outsider"])
@pytest.mark.parametrize("step", sorted(STEPS_BY_ROLE))
def test_only_the_dsl_team_takes_a_step(users, community, incident, role, step):
    """Staff (even the reporter), the office, governors and a login with no role: refused."""
    status, run = STEPS_BY_ROLE[step]
    incident = advance(incident, status, users["dsl"])
    if step == "close":
        record_debrief(incident, users["dsl"])
        run = lambda i, u, c: services.incident_close(incident=i, by=u)  # noqa: E731
    with pytest.raises(Refused, match=ONLY_HANDLERS):
        run(incident, users[role], community)
    incident.refresh_from_db()
    assert incident.status == status


@pytest.mark.parametrize("step", sorted(STEPS_BY_ROLE))
def test_a_deputy_takes_every_step(users, community, incident, step):
    status, run = STEPS_BY_ROLE[step]
    incident = advance(incident, status, users["dsl"])
    run(incident, users["deputy_dsl"], community)


def test_the_headteacher_handles_staff_matters_only(users, community):
    head = make_pure_headteacher()
    pupils = report(users["staff"], learner=community["learner"])
    with pytest.raises(Refused, match=ONLY_HANDLERS):
        services.incident_triage(incident=pupils, by=head)
    colleague = factories.StaffMemberFactory(first_name="Carl", last_name="Colleague")
    staff_matter = report(users["staff"], staff=colleague, category=Category.STAFF_PERSONAL_CONTACT)
    services.incident_triage(incident=staff_matter, by=head)
    services.incident_start_investigation(incident=staff_matter, by=head)
    services.conduct_outcome_record(incident=staff_matter, outcome="Written warning.", by=head)
    staff_matter.refresh_from_db()
    assert staff_matter.status == Status.INVESTIGATING
    assert staff_matter.conduct_outcome == "Written warning."


def test_the_reporter_adds_notes_but_does_not_triage(users, community, incident):
    teacher = users["staff"]
    services.note_add(incident=incident, text="I forgot: it was before lunch.", by=teacher)
    with pytest.raises(Refused, match=ONLY_HANDLERS):
        services.incident_triage(incident=incident, by=teacher)
    other = factories.UserFactory(roles=[Role.STAFF])
    with pytest.raises(Refused, match="Only the reporter or the DSL team adds notes"):
        services.note_add(incident=incident, text="Gossip.", by=other)


def test_the_account_is_never_edited_after_triage(users, incident):
    teacher = users["staff"]
    services.incident_amend_account(
        incident=incident, account="Corrected before triage.", by=teacher
    )
    services.incident_triage(incident=incident, by=users["dsl"])
    with pytest.raises(Refused, match="Add a note instead"):
        services.incident_amend_account(incident=incident, account="Changed later.", by=teacher)
    incident.refresh_from_db()
    assert incident.account == "Corrected before triage."


# Guards -------------------------------------------------------------------------------


def test_a_child_at_risk_escalates_to_child_protection_and_alerts_the_dsl(
    users, community, incident, django_capture_on_commit_callbacks
):
    linked_policies()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_triage(incident=incident, by=users["deputy_dsl"], child_at_risk=True)
    incident.refresh_from_db()
    assert incident.child_at_risk
    assert services.CHILD_PROTECTION_POLICY in {p.name for p in incident.policies.all()}
    alert = next(m for m in mail.outbox if m.subject.startswith("Child protection"))
    assert alert.to == [users["dsl"].email]
    assert incident.reference in alert.body
    # no child's name and no account in an email
    assert community["learner"].first_name not in alert.body
    assert "photograph" not in alert.body


def test_a_child_at_risk_found_later_escalates_too(
    users, community, incident, django_capture_on_commit_callbacks
):
    linked_policies()
    services.incident_triage(incident=incident, by=users["dsl"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_escalate(incident=incident, by=users["dsl"], child_at_risk=True)
    incident.refresh_from_db()
    assert incident.child_at_risk
    assert services.CHILD_PROTECTION_POLICY in {p.name for p in incident.policies.all()}
    assert [m.subject for m in mail.outbox] == [f"Child protection: {incident.reference}"]


def test_flags_are_never_lowered(users, incident):
    services.incident_triage(incident=incident, by=users["dsl"], suspected_illegal=True)
    services.incident_escalate(incident=incident, by=users["dsl"], suspected_illegal=False)
    incident.refresh_from_db()
    assert incident.suspected_illegal


def _police_handover(community, dsl) -> object:
    confiscation = device_services.confiscation_record(
        learner=community["learner"],
        category=factories.DeviceCategoryFactory(),
        description="Black phone in a red case",
        reason="Suspected illegal images",
        stored_where="Office safe",
        taken_by=dsl.staff_member,
        by=dsl,
    )
    return device_services.confiscation_hand_to_police(
        confiscation=confiscation, officer="PC 1234 Smith", reference="KP/26/0099", by=dsl
    )


def _search(incident, community, dsl, **overrides) -> Search:
    kwargs = {
        "incident": incident,
        "learner": community["learner"],
        "device": "Black phone in a red case",
        "searched_at": timezone.now() - datetime.timedelta(minutes=30),
        "place": "DSL's office",
        "led_by": dsl,
        "second_staff": community["staff"],
        "grounds": "Seen photographing pupils in class",
        "sought": "Photographs of pupils",
        "consent_by": Search.ConsentBy.PARENT_CARER,
        "consent_parent": community["parent"],
        "consent_how": "By phone",
        "found": "Three photographs of pupils",
        "outcome": Search.Outcome.RETURNED,
        "by": dsl,
    }
    kwargs.update(overrides)
    return services.search_record(**kwargs)


def test_suspected_illegal_material_needs_police_referral_and_handover_before_close(
    users, community, incident
):
    dsl = users["dsl"]
    services.incident_triage(incident=incident, by=dsl, suspected_illegal=True)
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    services.parents_not_told(incident=incident, reason="Police asked us not to.", by=dsl)
    record_debrief(incident, dsl)
    with pytest.raises(Refused) as refused:
        services.incident_close(incident=incident, by=dsl)
    assert "record the referral to the police" in str(refused.value)
    assert "record its hand-over to the police" in str(refused.value)

    services.referral_record(
        incident=incident,
        agency=Referral.Agency.POLICE,
        contact="PC Smith",
        reference="KP/26/0099",
        by=dsl,
    )
    with pytest.raises(Refused, match="record its hand-over to the police"):
        services.incident_close(incident=incident, by=dsl)
    # a search that names the police outcome without the custody record is refused
    with pytest.raises(Refused, match="hand-over to the police"):
        _search(incident, community, dsl, outcome=Search.Outcome.POLICE)
    _search(
        incident,
        community,
        dsl,
        outcome=Search.Outcome.POLICE,
        confiscation=_police_handover(community, dsl),
        parents_told_at=timezone.now(),
    )
    incident.refresh_from_db()
    assert services.close_blockers(incident) == []
    closed = services.incident_close(incident=incident, by=dsl)
    assert closed.status == Status.CLOSED


def test_illegal_content_category_is_suspected_illegal_at_triage(users, community):
    incident = report(users["staff"], learner=community["learner"], category="illegal_content")
    services.incident_triage(incident=incident, by=users["dsl"])
    incident.refresh_from_db()
    assert incident.suspected_illegal


def test_an_allegation_against_staff_needs_the_lado_before_close(
    users, community, django_capture_on_commit_callbacks
):
    dsl = users["dsl"]
    colleague = factories.StaffMemberFactory()
    incident = report(
        users["staff"],
        staff=colleague,
        learner=community["learner"],
        part=Involvement.Part.AFFECTED,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_triage(incident=incident, by=dsl, staff_allegation=True)
    assert any(m.subject.startswith("Allegation involving staff") for m in mail.outbox)
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    services.parents_not_told(incident=incident, reason="LADO advised against it.", by=dsl)
    services.conduct_outcome_record(
        incident=incident, outcome="Suspended pending the LADO.", by=users["headteacher"]
    )
    record_debrief(incident, dsl)
    with pytest.raises(Refused, match="record the referral to the LADO"):
        services.incident_close(incident=incident, by=dsl)
    services.referral_record(
        incident=incident, agency=Referral.Agency.LADO, contact="The LADO", by=dsl
    )
    assert services.incident_close(incident=incident, by=dsl).status == Status.CLOSED


def test_illegal_content_on_a_staff_device_is_an_allegation(users):
    colleague = factories.StaffMemberFactory()
    incident = report(users["staff"], staff=colleague)
    services.incident_triage(incident=incident, by=users["dsl"], suspected_illegal=True)
    incident.refresh_from_db()
    assert incident.staff_allegation
    assert services.lado_referral_due(incident) is not None


# a Friday in term; the LADO referral is due by the same time on the Monday
FRIDAY_10AM = datetime.datetime(2025, 1, 10, 10, 0)


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return timezone.make_aware(moment)


def _triaged_on_friday(users) -> Incident:
    colleague = factories.StaffMemberFactory()
    incident = report(users["staff"], staff=colleague)
    services.incident_triage(incident=incident, by=users["dsl"], staff_allegation=True)
    # the test moves the clock back: a queryset update here is the test's, not the app's
    Incident.objects.filter(pk=incident.pk).update(
        reported_at=_aware(FRIDAY_10AM - datetime.timedelta(hours=1)),
        triaged_at=_aware(FRIDAY_10AM),
    )
    incident.refresh_from_db()
    return incident


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (FRIDAY_10AM + datetime.timedelta(hours=5), False),
        (datetime.datetime(2025, 1, 11, 12, 0), False),  # Saturday
        (datetime.datetime(2025, 1, 12, 12, 0), False),  # Sunday
        (datetime.datetime(2025, 1, 13, 9, 59), False),  # Monday, within the working day
        (datetime.datetime(2025, 1, 13, 10, 1), True),  # a working day on
        (datetime.datetime(2025, 1, 14, 9, 0), True),
    ],
)
def test_a_lado_referral_is_due_within_one_working_day(users, now, overdue):
    incident = _triaged_on_friday(users)
    assert services.lado_referral_due(incident) == _aware(datetime.datetime(2025, 1, 13, 10, 0))
    assert services.lado_overdue(incident, now=_aware(now)) is overdue


def test_a_lado_referral_made_late_stays_flagged_and_one_in_time_is_not(users):
    incident = _triaged_on_friday(users)
    services.referral_record(
        incident=incident,
        agency=Referral.Agency.LADO,
        contact="The LADO",
        made_at=_aware(datetime.datetime(2025, 1, 13, 9, 30)),
        by=users["dsl"],
    )
    assert not services.lado_overdue(incident)
    late = _triaged_on_friday(users)
    services.referral_record(
        incident=late,
        agency=Referral.Agency.LADO,
        contact="The LADO",
        made_at=_aware(datetime.datetime(2025, 1, 14, 11, 0)),
        by=users["dsl"],
    )
    assert services.lado_overdue(late)


def test_the_queue_flags_agree_with_the_service(users):
    """The queue computes the LADO state from one annotation; it says what the service says."""
    from incidents.views.queue import lado_overdue_incidents, lado_state, with_first_lado

    waiting = _triaged_on_friday(users)
    in_time = _triaged_on_friday(users)
    services.referral_record(
        incident=in_time,
        agency=Referral.Agency.LADO,
        contact="The LADO",
        made_at=_aware(datetime.datetime(2025, 1, 13, 9, 0)),
        by=users["dsl"],
    )
    now = timezone.now()
    for incident in with_first_lado(Incident.objects.filter(pk__in=[waiting.pk, in_time.pk])):
        state = lado_state(incident, now)
        assert (state in {"overdue", "late"}) is services.lado_overdue(incident, now=now)
    assert [i.pk for i in lado_overdue_incidents(Incident.objects.all())] == [waiting.pk]


def test_a_staff_breach_records_the_code_of_conduct_outcome(users, community):
    dsl, head = users["dsl"], users["headteacher"]
    linked_policies()
    colleague = factories.StaffMemberFactory()
    incident = report(users["staff"], staff=colleague, category=Category.STAFF_PERSONAL_CONTACT)
    services.incident_triage(incident=incident, by=dsl)
    incident.refresh_from_db()
    assert services.CODE_OF_CONDUCT_POLICY in {p.name for p in incident.policies.all()}
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    record_debrief(incident, dsl)
    with pytest.raises(Refused, match="record the outcome under the code of conduct"):
        services.incident_close(incident=incident, by=dsl)
    with pytest.raises(Refused, match="The headteacher records the code of conduct outcome"):
        services.conduct_outcome_record(incident=incident, outcome="Warning.", by=dsl)
    with pytest.raises(Refused, match="Record the outcome"):
        services.conduct_outcome_record(incident=incident, outcome="  ", by=head)
    services.conduct_outcome_record(incident=incident, outcome="Written warning.", by=head)
    assert services.incident_close(incident=incident, by=dsl).status == Status.CLOSED


def test_no_conduct_outcome_without_a_member_of_staff(users, incident):
    services.incident_triage(incident=incident, by=users["dsl"])
    with pytest.raises(Refused, match="No member of staff is involved"):
        services.conduct_outcome_record(
            incident=incident, outcome="Warning.", by=users["headteacher"]
        )


def test_parents_are_told_or_the_reason_recorded(users, community, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    record_debrief(incident, dsl)
    with pytest.raises(Refused, match="Record that parents or carers were told"):
        services.incident_close(incident=incident, by=dsl)
    with pytest.raises(Refused, match="has no parental responsibility"):
        services.parent_contact_record(
            incident=incident,
            parent=community["other_parent"],
            how="phone",
            summary="What happened.",
            by=dsl,
        )
    with pytest.raises(Refused, match="Say what they were told"):
        services.parent_contact_record(
            incident=incident, parent=community["parent"], how="phone", summary=" ", by=dsl
        )
    with pytest.raises(Refused, match="Give the reason parents or carers were not told"):
        services.parents_not_told(incident=incident, reason=" ", by=dsl)
    contact = services.parent_contact_record(
        incident=incident,
        parent=community["parent"],
        how="phone",
        summary="Amira photographed classmates; the phone is in the office.",
        by=dsl,
    )
    assert (contact.told_by, contact.how) == (dsl, "phone")
    assert contact.told_at is not None
    assert services.incident_close(incident=incident, by=dsl).status == Status.CLOSED


def test_parents_not_told_with_a_reason_lets_it_close(users, incident):
    dsl = users["dsl"]
    closed = advance(incident, Status.CLOSED, dsl, parents="not told")
    assert closed.parents_not_told_reason


def test_parents_are_told_of_a_search_before_close(users, community, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.INVESTIGATING, dsl)
    search = _search(incident, community, dsl)
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    services.parents_not_told(incident=incident, reason="Risk to the child.", by=dsl)
    record_debrief(incident, dsl)
    with pytest.raises(Refused, match="Parents have not been told of a search"):
        services.incident_close(incident=incident, by=dsl)
    services.search_parents_told(search=search, by=dsl)
    assert services.incident_close(incident=incident, by=dsl).status == Status.CLOSED


def test_a_search_needs_a_witness_or_a_reason_and_consent(users, community, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.INVESTIGATING, dsl)
    with pytest.raises(Refused, match="Name the second member of staff present"):
        _search(incident, community, dsl, second_staff=None)
    with pytest.raises(Refused, match="consent of the learner or a parent or carer"):
        _search(incident, community, dsl, consent_by="nobody", consent_parent=None)
    with pytest.raises(Refused, match="led by the DSL, a deputy DSL or the headteacher"):
        _search(incident, community, dsl, led_by=users["staff"])


def test_sharing_nudes_accepts_no_file_of_any_kind(users, community, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    dsl = users["dsl"]
    nudes = report(users["staff"], learner=community["learner"], category=Category.NUDES)
    with pytest.raises(Refused, match="No file of any kind is accepted on this incident"):
        services.attachment_add(
            incident=nudes,
            upload=SimpleUploadedFile("screenshot.png", PNG, content_type="image/png"),
            description="Screenshot",
            by=users["staff"],
        )
    assert not nudes.attachments.exists()
    # a report with a file cannot be recategorised as nudes until the DSL removes the file
    other = report(users["staff"], learner=community["learner"])
    attachment = services.attachment_add(
        incident=other,
        upload=SimpleUploadedFile("screenshot.png", PNG, content_type="image/png"),
        description="Screenshot of the group chat",
        by=users["staff"],
    )
    with pytest.raises(Refused, match='must remove them before it is recorded as "Sharing nudes'):
        services.incident_triage(incident=other, by=dsl, category=Category.NUDES)
    with pytest.raises(Refused, match="Only the DSL removes a file"):
        services.attachment_remove(
            attachment=attachment, reason="It is an image of a child.", by=users["deputy_dsl"]
        )
    services.attachment_remove(attachment=attachment, reason="It is an image of a child.", by=dsl)
    attachment.refresh_from_db()
    assert not attachment.file and attachment.removed_by == dsl
    services.incident_triage(incident=other, by=dsl, category=Category.NUDES)
    other.refresh_from_db()
    assert other.category == Category.NUDES


# The debrief ----------------------------------------------------------------------------


def test_the_debrief_is_refused_until_complete(users, community, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    today = timezone.localdate()
    owner = community["staff"]
    refusals = [
        ({"attendees": []}, "Say who attended the debrief."),
        ({"lessons": "  "}, "Record the lessons learnt"),
        ({"held_on": today + datetime.timedelta(days=1)}, "The debrief cannot be in the future."),
        (
            {"policy_changes": "Phones handed in at the gate."},
            "Each policy or curriculum change becomes an action with an owner and a due date.",
        ),
        (
            {
                "curriculum_changes": "A PSHE lesson on consent and images.",
                "actions": [services.Action("Teach it", owner, today - datetime.timedelta(days=1))],
            },
            "An action cannot be due before the debrief.",
        ),
    ]
    for overrides, reason in refusals:
        with pytest.raises(Refused, match=reason):
            record_debrief(incident, dsl, **overrides)
    debrief = record_debrief(
        incident,
        dsl,
        policy_changes="Phones handed in at the gate.",
        curriculum_changes="A PSHE lesson on consent and images.",
        actions=[
            services.Action("Update section 6", owner, today + datetime.timedelta(days=14)),
            services.Action("Plan the PSHE lesson", owner, today + datetime.timedelta(days=30)),
        ],
    )
    items = ActionPlanItem.objects.filter(source_reference=incident.reference).order_by("due")
    assert [(i.description, i.owner, i.source) for i in items] == [
        ("Update section 6", owner, ActionPlanItem.Source.DEBRIEF),
        ("Plan the PSHE lesson", owner, ActionPlanItem.Source.DEBRIEF),
    ]
    assert list(debrief.attendees.all()) == [dsl.staff_member]
    with pytest.raises(Refused, match="The debrief is recorded."):
        record_debrief(incident, dsl)


def test_an_incident_does_not_close_without_its_debrief(users, incident):
    dsl = users["dsl"]
    incident = advance(incident, Status.AWAITING_DEBRIEF, dsl)
    services.parents_not_told(incident=incident, reason="Risk to the child.", by=dsl)
    with pytest.raises(Refused, match=r"The debrief has not been recorded \(section 9\)"):
        services.incident_close(incident=incident, by=dsl)
