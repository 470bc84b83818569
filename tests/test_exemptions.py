"""Exemptions: every transition from every state and by every role, the policy's guards, and
the database constraints that hold when the services are bypassed."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from compliance.transitions import Refused
from devices import services
from devices.models import Agreement, Exemption, RiskAssessment, Signature
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
ROLES = ("dsl", "deputy_dsl", "headteacher", "office", "staff", "governor", "outsider")
SENIOR = {"dsl", "deputy_dsl", "headteacher"}


def _make(status, users, community) -> Exemption:
    return exemption_in(
        status,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )


def _ask(exemption, user):
    return services.exemption_ask_for_risk_assessment(exemption=exemption, by=user)


def _assess(exemption, user):
    return services.risk_assessment_record(
        exemption=exemption, hazards="Photos of others.", controls="Camera app removed.", by=user
    )


def _approve(exemption, user):
    return services.exemption_decide(exemption=exemption, approve=True, reasons="", by=user)


def _refuse(exemption, user):
    return services.exemption_decide(
        exemption=exemption, approve=False, reasons="The nurse can hold it.", by=user
    )


def _issue(exemption, user):
    return services.agreement_issue(exemption=exemption, by=user, **TERMS)


def _revoke(exemption, user):
    return services.exemption_revoke(exemption=exemption, reason="Misused on a trip.", by=user)


# transition: (function, source statuses it accepts, roles that may take it)
TRANSITIONS = {
    "ask_for_risk_assessment": (_ask, {Status.REQUESTED}, {"headteacher"}),
    "risk_assessment_record": (_assess, {Status.REQUESTED}, SENIOR),
    "decide_approve": (_approve, {Status.REQUESTED}, {"headteacher"}),
    "decide_refuse": (_refuse, {Status.REQUESTED}, {"headteacher"}),
    "agreement_issue": (
        _issue,
        {Status.APPROVED, Status.AGREEMENT_ISSUED, Status.ACTIVE},
        {"headteacher"},
    ),
    "revoke": (_revoke, {Status.APPROVED, Status.AGREEMENT_ISSUED, Status.ACTIVE}, {"headteacher"}),
}

FORBIDDEN_SOURCES = [
    (name, status)
    for name, (_, allowed, _) in TRANSITIONS.items()
    for status in Status.values
    if status not in allowed
]
ALLOWED_SOURCES = [
    (name, status)
    for name, (_, allowed, _) in TRANSITIONS.items()
    for status in Status.values
    if status in allowed
]
FORBIDDEN_ROLES = [
    (name, role)
    for name, (_, _, roles) in TRANSITIONS.items()
    for role in ROLES
    if role not in roles
]
ALLOWED_ROLES = [
    (name, role) for name, (_, _, roles) in TRANSITIONS.items() for role in ROLES if role in roles
]


@pytest.mark.parametrize(("name", "status"), FORBIDDEN_SOURCES)
def test_a_transition_from_a_forbidden_status_is_refused(users, community, name, status):
    run, _, _ = TRANSITIONS[name]
    exemption = _make(status, users, community)
    before = Exemption.objects.get(pk=exemption.pk)

    with pytest.raises(Refused):
        run(exemption, users["headteacher"])

    after = Exemption.objects.get(pk=exemption.pk)
    assert (after.status, after.version) == (before.status, before.version)
    assert not RiskAssessment.objects.filter(exemption=exemption).exists()


@pytest.mark.parametrize(("name", "status"), ALLOWED_SOURCES)
def test_a_transition_from_an_allowed_status_goes_through(users, community, name, status):
    run, _, _ = TRANSITIONS[name]
    exemption = _make(status, users, community)
    version = exemption.version
    run(exemption, users["headteacher"])
    exemption.refresh_from_db()
    changed = exemption.version > version
    assert changed or RiskAssessment.objects.filter(exemption=exemption).exists()


@pytest.mark.parametrize(("name", "role"), FORBIDDEN_ROLES)
def test_a_role_without_the_right_is_refused(users, community, name, role):
    run, allowed, _ = TRANSITIONS[name]
    source = Status.REQUESTED if Status.REQUESTED in allowed else Status.APPROVED
    exemption = _make(source, users, community)

    with pytest.raises(Refused):
        run(exemption, users[role])

    exemption.refresh_from_db()
    assert exemption.status == source
    assert not RiskAssessment.objects.filter(exemption=exemption).exists()
    assert not Agreement.objects.filter(exemption=exemption).exists()


@pytest.mark.parametrize(("name", "role"), ALLOWED_ROLES)
def test_a_role_with_the_right_goes_through(users, community, name, role):
    run, allowed, _ = TRANSITIONS[name]
    source = Status.REQUESTED if Status.REQUESTED in allowed else Status.APPROVED
    exemption = _make(source, users, community)
    run(exemption, users[role])


# Asking: who may ask for which kind


REQUEST_ROLES = {
    "learner": {"dsl", "deputy_dsl", "headteacher", "office", "staff"},
    "staff": {"dsl", "deputy_dsl", "headteacher", "office", "staff"},
    "visitor": {"dsl", "deputy_dsl", "headteacher", "office"},
}


def _ask_for(subject_kind: str, community, by) -> Exemption:
    today = timezone.localdate()
    kind, subject = {
        "learner": (Exemption.Kind.LEARNER_EXCEPTIONAL, community["learner"]),
        "staff": (Exemption.Kind.STAFF_TEACHING_TIME, community["staff"]),
        "visitor": (Exemption.Kind.VISITOR_WITH_LEARNERS, community["visitor"]),
    }[subject_kind]
    return services.exemption_request(
        kind=kind,
        subject=subject,
        category=factories.DeviceCategoryFactory(),
        reason="Needed for the work.",
        starts=today,
        ends=today + datetime.timedelta(days=30),
        by=by,
        **(
            {"reason_kind": Exemption.ReasonKind.OTHER, "review_on": today}
            if subject_kind == "learner"
            else {}
        ),
    )


@pytest.mark.parametrize("subject_kind", sorted(REQUEST_ROLES))
@pytest.mark.parametrize("role", ROLES)
def test_who_may_ask_for_each_kind(users, community, subject_kind, role):
    if role in REQUEST_ROLES[subject_kind]:
        exemption = _ask_for(subject_kind, community, users[role])
        assert exemption.status == Status.REQUESTED
        assert exemption.requested_by == users[role]
    else:
        with pytest.raises(Refused, match="may not ask"):
            _ask_for(subject_kind, community, users[role])
        assert not Exemption.objects.exists()


def test_a_request_needs_a_reason_and_sensible_dates(users, community):
    today = timezone.localdate()
    learner, by = community["learner"], users["staff"]
    with pytest.raises(Refused, match="Say why"):
        request_for_learner(learner=learner, by=by, reason="   ")
    with pytest.raises(Refused, match="end on or after"):
        request_for_learner(
            learner=learner, by=by, starts=today, ends=today - datetime.timedelta(days=1)
        )
    with pytest.raises(Refused, match="at most a year"):
        request_for_learner(learner=learner, by=by, ends=today + datetime.timedelta(days=400))
    with pytest.raises(Refused, match="for a learner"):
        request_for_learner(learner=community["staff"], by=by)
    assert not Exemption.objects.exists()


# The policy's guards


def _remote_learning(users, community) -> Exemption:
    today = timezone.localdate()
    return services.exemption_request(
        kind=Exemption.Kind.STAFF_REMOTE_LEARNING,
        subject=community["staff"],
        category=factories.DeviceCategoryFactory(name="Tablet"),
        reason="The school laptop is being repaired.",
        starts=today,
        ends=today + datetime.timedelta(days=14),
        by=users["staff"],
    )


def test_remote_learning_needs_a_risk_assessment_before_approval(users, community):
    exemption = _remote_learning(users, community)
    assert services.risk_assessment_needed(exemption)

    with pytest.raises(Refused, match="risk assessment must be recorded"):
        _approve(exemption, users["headteacher"])
    # refusing does not wait for one
    _assess(exemption, users["dsl"])
    approved = _approve(exemption, users["headteacher"])
    assert approved.status == Status.APPROVED


def test_remote_learning_may_be_refused_without_a_risk_assessment(users, community):
    exemption = _remote_learning(users, community)
    assert _refuse(exemption, users["headteacher"]).status == Status.REFUSED


def test_a_visitor_needs_a_risk_assessment_when_the_head_asks(users, community):
    visitor = _ask_for("visitor", community, users["office"])
    other = _ask_for("visitor", community, users["office"])
    assert not services.risk_assessment_needed(visitor)
    # without the question, no risk assessment is needed
    assert _approve(other, users["headteacher"]).status == Status.APPROVED

    _ask(visitor, users["headteacher"])
    visitor.refresh_from_db()
    assert services.risk_assessment_needed(visitor)
    with pytest.raises(Refused, match="risk assessment must be recorded"):
        _approve(visitor, users["headteacher"])
    _assess(visitor, users["deputy_dsl"])
    assert _approve(visitor, users["headteacher"]).status == Status.APPROVED


def test_only_one_risk_assessment(users, community):
    exemption = _remote_learning(users, community)
    _assess(exemption, users["dsl"])
    with pytest.raises(Refused, match="already recorded"):
        _assess(exemption, users["headteacher"])


def test_a_risk_assessment_lists_risks_and_controls(users, community):
    exemption = _remote_learning(users, community)
    with pytest.raises(Refused, match="risks"):
        services.risk_assessment_record(
            exemption=exemption, hazards=" ", controls="x", by=users["dsl"]
        )
    with pytest.raises(Refused, match="controlled"):
        services.risk_assessment_record(
            exemption=exemption, hazards="x", controls="", by=users["dsl"]
        )


def test_a_refusal_needs_reasons(users, community):
    exemption = _make(Status.REQUESTED, users, community)
    with pytest.raises(Refused, match="reasons for refusing"):
        services.exemption_decide(
            exemption=exemption, approve=False, reasons="  ", by=users["headteacher"]
        )
    exemption.refresh_from_db()
    assert exemption.status == Status.REQUESTED


def test_a_revocation_needs_a_reason(users, community):
    exemption = _make(Status.ACTIVE, users, community)
    with pytest.raises(Refused, match="reason for revoking"):
        services.exemption_revoke(exemption=exemption, reason="", by=users["headteacher"])
    exemption.refresh_from_db()
    assert exemption.status == Status.ACTIVE
    revoked = _revoke(exemption, users["headteacher"])
    assert revoked.status == Status.REVOKED
    assert revoked.close_reason == "Misused on a trip."
    assert not revoked.in_force_on(timezone.localdate())


def test_an_agreement_says_everything_the_policy_asks(users, community):
    exemption = _make(Status.APPROVED, users, community)
    with pytest.raises(Refused, match="sanctions"):
        services.agreement_issue(
            exemption=exemption, by=users["headteacher"], **{**TERMS, "sanctions": " "}
        )


def _signature(agreement, capacity, by, **extra):
    values = {
        "agreement": agreement,
        "capacity": capacity,
        "signer_name": extra.pop("signer_name", "Someone"),
        "method": Signature.Method.DRAWN,
        "drawn_png": signature_png(),
        "by": by,
    }
    values.update(extra)
    return services.signature_record(**values)


def test_a_parent_without_parental_responsibility_is_refused(users, community):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    with pytest.raises(Refused, match="does not hold parental responsibility"):
        _signature(
            agreement,
            Signature.Capacity.PARENT_CARER,
            users["office"],
            parent=community["other_parent"],
        )
    with pytest.raises(Refused, match="Choose the parent"):
        _signature(agreement, Signature.Capacity.PARENT_CARER, users["office"])
    assert not agreement.signatures.exists()
    _signature(
        agreement, Signature.Capacity.PARENT_CARER, users["office"], parent=community["parent"]
    )


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl", "office"])
def test_only_the_headteacher_signs_as_headteacher(users, community, role):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    with pytest.raises(Refused, match="headteacher signs"):
        _signature(agreement, Signature.Capacity.HEADTEACHER, users[role])
    _signature(agreement, Signature.Capacity.HEADTEACHER, users["headteacher"])


SIGNERS = {"dsl", "deputy_dsl", "headteacher", "office"}


@pytest.mark.parametrize("role", ROLES)
def test_who_records_signatures(users, community, role):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    if role in SIGNERS:
        _signature(agreement, Signature.Capacity.LEARNER, users[role], signer_name="Amira Khan")
        assert agreement.signatures.count() == 1
    else:
        with pytest.raises(Refused, match="does not record signatures"):
            _signature(agreement, Signature.Capacity.LEARNER, users[role])
        assert not agreement.signatures.exists()


@pytest.mark.parametrize("agreement_status", ["signed", "superseded"])
def test_a_signed_or_superseded_agreement_takes_no_more_signatures(
    users, community, agreement_status
):
    exemption = _make(Status.ACTIVE, users, community)
    agreement = exemption.agreements.get()
    if agreement_status == "superseded":
        _issue(exemption, users["headteacher"])
    agreement.refresh_from_db()
    assert agreement.status == agreement_status
    with pytest.raises(Refused, match="takes no more signatures"):
        _signature(agreement, Signature.Capacity.LEARNER, users["headteacher"])


def test_a_capacity_signs_once_and_only_the_required_ones(users, community):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    _signature(agreement, Signature.Capacity.LEARNER, users["office"], signer_name="Amira Khan")
    with pytest.raises(Refused, match="already been recorded"):
        _signature(agreement, Signature.Capacity.LEARNER, users["office"])
    with pytest.raises(Refused, match="does not need a signature in that capacity"):
        _signature(agreement, Signature.Capacity.VISITOR, users["office"])


def test_required_capacities_by_subject(users, community):
    cap = Signature.Capacity
    learner = _make(Status.AGREEMENT_ISSUED, users, community).agreements.get()
    assert services.required_capacities(learner) == [cap.LEARNER, cap.PARENT_CARER, cap.HEADTEACHER]
    staff = _ask_for("staff", community, users["staff"])
    approve(staff, users["headteacher"])
    assert services.required_capacities(issue(staff, users["headteacher"])) == [
        cap.STAFF_MEMBER,
        cap.HEADTEACHER,
    ]
    visitor = _ask_for("visitor", community, users["office"])
    approve(visitor, users["headteacher"])
    assert services.required_capacities(issue(visitor, users["headteacher"])) == [
        cap.VISITOR,
        cap.HEADTEACHER,
    ]


def test_use_is_permitted_only_while_active(users, community):
    today = timezone.localdate()
    for status in Status.values:
        exemption = _make(status, users, community)
        assert exemption.in_force_on(today) is (status == Status.ACTIVE), status


def test_the_last_signature_activates_and_freezes(users, community):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    sign_all(agreement, head=users["headteacher"], recorder=users["office"])
    exemption.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED
    assert len(agreement.fingerprint) == 64
    assert agreement.frozen_at is not None
    assert exemption.status == Status.ACTIVE


# A signed agreement's terms never change: a new version is issued instead


def test_the_terms_of_a_signed_agreement_cannot_be_changed(users, community):
    agreement = _make(Status.ACTIVE, users, community).agreements.get()
    agreement.where = "Anywhere at all"
    with pytest.raises(Refused, match="cannot be changed"):
        agreement.save()
    agreement.refresh_from_db()
    assert agreement.where == TERMS["where"]


def test_a_new_version_supersedes_and_stops_use_until_signed(users, community):
    head = users["headteacher"]
    exemption = _make(Status.ACTIVE, users, community)
    first = exemption.agreements.get()
    fingerprint = first.fingerprint
    today = timezone.localdate()
    assert exemption.in_force_on(today)

    second = services.agreement_issue(
        exemption=exemption, by=head, **{**TERMS, "where": "Only in the medical room"}
    )

    first.refresh_from_db()
    exemption.refresh_from_db()
    assert second.number == 2 and second.supersedes == first
    assert first.status == Agreement.Status.SUPERSEDED
    assert first.fingerprint == fingerprint  # the signed version is kept as it was
    assert first.where == TERMS["where"]
    assert exemption.status == Status.AGREEMENT_ISSUED
    assert not exemption.in_force_on(today)

    sign_all(second, head=head)
    exemption.refresh_from_db()
    assert exemption.status == Status.ACTIVE
    assert second.fingerprint != fingerprint


def test_an_unsigned_version_replaced_is_frozen_as_it_was(users, community):
    head = users["headteacher"]
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    first = exemption.agreements.get()
    services.agreement_issue(exemption=exemption, by=head, **{**TERMS, "when": "Mornings"})
    first.refresh_from_db()
    assert first.status == Agreement.Status.SUPERSEDED
    assert first.fingerprint and first.canonical_terms
    assert services.agreement_verify(first.fingerprint) == (first, True)


# Expiry


def test_active_exemptions_expire_after_their_end_date(users, community):
    exemption = _make(Status.ACTIVE, users, community)
    assert services.exemptions_expire(today=exemption.ends) == 0
    exemption.refresh_from_db()
    assert exemption.status == Status.ACTIVE
    assert exemption.in_force_on(exemption.ends)
    assert not exemption.in_force_on(exemption.ends + datetime.timedelta(days=1))

    assert services.exemptions_expire(today=exemption.ends + datetime.timedelta(days=1)) == 1
    exemption.refresh_from_db()
    assert exemption.status == Status.EXPIRED
    assert exemption.closed_at is not None
    assert "Ended on" in exemption.close_reason
    # run again (the daily job): nothing more to do
    assert services.exemptions_expire(today=exemption.ends + datetime.timedelta(days=2)) == 0


def test_only_active_exemptions_expire(users, community):
    waiting = _make(Status.AGREEMENT_ISSUED, users, community)
    assert services.exemptions_expire(today=waiting.ends + datetime.timedelta(days=1)) == 0
    waiting.refresh_from_db()
    assert waiting.status == Status.AGREEMENT_ISSUED


# Constraints that hold when the services are bypassed


def _raw(**overrides) -> dict:
    today = timezone.localdate()
    values = {
        "kind": Exemption.Kind.LEARNER_EXCEPTIONAL,
        "category": factories.DeviceCategoryFactory(),
        "reason": "r",
        "starts": today,
        "ends": today,
        "requested_by": factories.UserFactory(),
    }
    values.update(overrides)
    return values


def _integrity_error(create) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_an_exemption_has_exactly_one_subject(community):
    learner, staff, visitor = community["learner"], community["staff"], community["visitor"]
    _integrity_error(lambda: Exemption.objects.create(**_raw()))
    _integrity_error(lambda: Exemption.objects.create(**_raw(learner=learner, staff=staff)))
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(kind=Exemption.Kind.VISITOR_WITH_LEARNERS, staff=staff, visitor=visitor)
        )
    )
    Exemption.objects.create(**_raw(learner=learner))


def test_an_exemptions_kind_fits_its_subject(community):
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(kind=Exemption.Kind.STAFF_TEACHING_TIME, learner=community["learner"])
        )
    )
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(kind=Exemption.Kind.LEARNER_EXCEPTIONAL, visitor=community["visitor"])
        )
    )
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(kind=Exemption.Kind.VISITOR_WITH_LEARNERS, staff=community["staff"])
        )
    )


# Reasons from the DfE guidance, each with its review date


def test_a_learners_request_names_a_reason_from_the_guidance_and_a_review_date(users, community):
    learner, by = community["learner"], users["staff"]
    with pytest.raises(Refused, match="Choose the reason"):
        request_for_learner(learner=learner, by=by, reason_kind="")
    with pytest.raises(Refused, match="Choose the reason"):
        request_for_learner(learner=learner, by=by, reason_kind="because")
    with pytest.raises(Refused, match="review"):
        request_for_learner(learner=learner, by=by, review_on=None)
    assert not Exemption.objects.exists()
    for reason_kind in Exemption.ReasonKind.values:
        exemption = request_for_learner(learner=learner, by=by, reason_kind=reason_kind)
        assert exemption.reason_kind == reason_kind
        assert exemption.starts <= exemption.review_on <= exemption.ends


@pytest.mark.parametrize("days_from_start", [-1, 91, 400])
def test_a_review_outside_the_exemption_is_refused(users, community, days_from_start):
    today = timezone.localdate()
    with pytest.raises(Refused, match="within the exemption, or be its last day"):
        request_for_learner(
            learner=community["learner"],
            by=users["staff"],
            starts=today,
            ends=today + datetime.timedelta(days=90),
            review_on=today + datetime.timedelta(days=days_from_start),
        )
    assert not Exemption.objects.exists()


def test_a_review_on_the_last_day_is_allowed(users, community):
    today = timezone.localdate()
    ends = today + datetime.timedelta(days=90)
    exemption = request_for_learner(
        learner=community["learner"], by=users["staff"], ends=ends, review_on=ends
    )
    assert exemption.review_on == ends


def test_staff_and_visitors_have_no_reason_kind_and_are_reviewed_at_the_end(users, community):
    staff = _ask_for("staff", community, users["dsl"])
    assert staff.reason_kind == "" and staff.review_on == staff.ends
    with pytest.raises(Refused, match="learners' exemptions only"):
        services.exemption_request(
            kind=Exemption.Kind.STAFF_TEACHING_TIME,
            subject=community["staff"],
            category=factories.DeviceCategoryFactory(),
            reason="An emergency at home.",
            starts=staff.starts,
            ends=staff.ends,
            reason_kind=Exemption.ReasonKind.YOUNG_CARER,
            by=users["dsl"],
        )


def test_the_database_keeps_the_review_within_the_exemption(community):
    today = timezone.localdate()
    learner = community["learner"]
    for review_on in (today - datetime.timedelta(days=1), today + datetime.timedelta(days=400)):
        _integrity_error(
            lambda review_on=review_on: Exemption.objects.create(
                **_raw(learner=learner, review_on=review_on)
            )
        )
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(
                kind=Exemption.Kind.STAFF_TEACHING_TIME,
                staff=community["staff"],
                reason_kind=Exemption.ReasonKind.MEDICAL_PLAN,
            )
        )
    )
    Exemption.objects.create(
        **_raw(learner=learner, review_on=today, reason_kind=Exemption.ReasonKind.YOUNG_CARER)
    )


def test_an_exemption_ends_on_or_after_it_starts(community):
    today = timezone.localdate()
    _integrity_error(
        lambda: Exemption.objects.create(
            **_raw(learner=community["learner"], ends=today - datetime.timedelta(days=1))
        )
    )


def test_decisions_refusals_and_revocations_keep_their_record(users, community):
    exemption = _make(Status.REQUESTED, users, community)
    rows = Exemption.objects.filter(pk=exemption.pk)
    # a decision without who and when
    _integrity_error(lambda: rows.update(status=Status.APPROVED))
    # a refusal without reasons
    _integrity_error(
        lambda: rows.update(
            status=Status.REFUSED, decided_by=users["headteacher"], decided_at=timezone.now()
        )
    )
    # a revocation without a reason
    _integrity_error(
        lambda: rows.update(
            status=Status.REVOKED, decided_by=users["headteacher"], decided_at=timezone.now()
        )
    )


def test_signatures_and_agreements_hold_their_evidence(users, community):
    exemption = _make(Status.AGREEMENT_ISSUED, users, community)
    agreement = exemption.agreements.get()
    common = {"agreement": agreement, "signer_name": "X", "recorded_by": users["office"]}
    # drawn, but no drawing
    _integrity_error(lambda: Signature.objects.create(capacity="learner", method="drawn", **common))
    # on paper, but no scan
    _integrity_error(lambda: Signature.objects.create(capacity="learner", method="paper", **common))
    # a parent's signature that names no parent
    _integrity_error(
        lambda: Signature.objects.create(
            capacity="parent_carer", method="drawn", drawn_png="iVBOR", **common
        )
    )
    Signature.objects.create(capacity="learner", method="drawn", drawn_png="iVBOR", **common)
    # the same capacity twice
    _integrity_error(
        lambda: Signature.objects.create(
            capacity="learner", method="drawn", drawn_png="iVBOR", **common
        )
    )
    # signed without being frozen
    _integrity_error(lambda: Agreement.objects.filter(pk=agreement.pk).update(status="signed"))
    # two agreements with the same version number for one exemption
    _integrity_error(
        lambda: Agreement.objects.create(
            exemption=exemption, number=1, issued_by=users["headteacher"], **TERMS
        )
    )


def test_a_headteacher_never_decides_their_own_exemption(users):
    from compliance.roles import Role

    head = users["headteacher"]
    today = timezone.localdate()
    own = services.exemption_request(
        kind=Exemption.Kind.STAFF_TEACHING_TIME,
        subject=head.staff_member,
        category=factories.DeviceCategoryFactory(),
        reason="A family emergency this week.",
        starts=today,
        ends=today + datetime.timedelta(days=5),
        by=head,
    )
    with pytest.raises(Refused, match="never by you"):
        services.exemption_decide(exemption=own, approve=True, reasons="", by=head)
    co_head = factories.UserFactory(username="co-head", roles=[Role.HEADTEACHER])
    decided = services.exemption_decide(exemption=own, approve=True, reasons="Agreed.", by=co_head)
    assert decided.status == Exemption.Status.APPROVED and decided.decided_by == co_head
