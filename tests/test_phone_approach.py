"""The school's approach to pupils' phones (DfE "Mobile phones in schools", January 2026),
and the daily register that follows it: hand-ins where phones are handed in, the day's
exceptions everywhere (and nothing else with lockers, pouches, no phones, or phones kept
unseen), learners with an exemption in force shown as exempt, not missing.

Every rule is tried from the side that would break it.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.models import PhoneApproach, School
from compliance.transitions import Refused
from devices import report, services
from devices.models import EXCEPTION_KINDS, Exemption, HandIn, HandInException
from tests import factories
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.django_db

Kind = HandInException.Kind
EXCEPTIONS_ONLY = [
    PhoneApproach.LOCKER,
    PhoneApproach.POUCH,
    PhoneApproach.NOT_ALLOWED,
    PhoneApproach.KEPT_UNSEEN,
]


def _today() -> datetime.date:
    return timezone.localdate()


def _approach(value: str) -> None:
    School.objects.update(phone_approach=value)


def _register(client, form_class) -> str:
    response = client.get(reverse("devices:handin_class", args=[form_class.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _folded_actions(client, learner) -> str:
    """A row's folded actions, as the register fetches them when the fold is opened."""
    response = client.get(
        reverse("devices:handin_actions", args=[learner.pk]),
        {"date": _today().isoformat()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    return response.content.decode()


# The setting: the headteacher (and the DSL) choose it on the school's details ---------


def _school_data(school: School, **overrides) -> dict:
    data = {
        "name": school.name,
        "address": school.address,
        "phone": school.phone,
        "local_authority": school.local_authority,
        "lado_contact": school.lado_contact,
        "safeguarding_partnership_contact": school.safeguarding_partnership_contact,
        "education_safeguarding_service_contact": school.education_safeguarding_service_contact,
        "safeguarding_lead_governor": "",
        "phone_approach": school.phone_approach,
        "version": school.version,
    }
    data.update(overrides)
    return data


def test_the_policy_default_is_hand_in_to_the_class_teacher(school):
    assert school.phone_approach == PhoneApproach.HAND_IN_TEACHER
    assert services.phone_approach() == PhoneApproach.HAND_IN_TEACHER


def test_with_no_school_details_yet_the_register_follows_the_policy(db):
    assert not School.objects.exists()
    assert services.phone_approach() == PhoneApproach.HAND_IN_TEACHER


@pytest.mark.parametrize("role", ["headteacher", "dsl"])
def test_the_headteacher_or_dsl_switches_the_school_to_pouches(client, users, school, role):
    client.force_login(users[role])
    url = reverse("compliance:school_edit")
    page = client.get(url).content.decode()
    for label in PhoneApproach.labels:
        assert label in page
    response = client.post(url, _school_data(school, phone_approach=PhoneApproach.POUCH))
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.phone_approach == PhoneApproach.POUCH
    assert school.history.first().history_user == users[role]
    detail = client.get(reverse("compliance:school")).content.decode()
    assert "Kept in a sealed pouch" in detail
    assert 'data-testid="phone-approach-warning"' not in detail


@pytest.mark.parametrize("role", ["office", "staff", "governor", "deputy_dsl"])
def test_other_roles_do_not_change_the_approach(client, users, school, role):
    client.force_login(users[role])
    response = client.post(
        reverse("compliance:school_edit"),
        _school_data(school, phone_approach=PhoneApproach.KEPT_UNSEEN),
    )
    assert response.status_code == 403
    school.refresh_from_db()
    assert school.phone_approach == PhoneApproach.HAND_IN_TEACHER


def test_an_unknown_approach_is_refused_next_to_the_field(client, users, school):
    client.force_login(users["headteacher"])
    response = client.post(
        reverse("compliance:school_edit"), _school_data(school, phone_approach="in_a_drawer")
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    school.refresh_from_db()
    assert school.phone_approach == PhoneApproach.HAND_IN_TEACHER


def test_kept_unseen_is_shown_as_out_of_step_with_the_guidance(client, users, school):
    _approach(PhoneApproach.KEPT_UNSEEN)
    client.force_login(users["governor"])  # everyone may read the school's details
    page = client.get(reverse("compliance:school")).content.decode()
    assert 'data-testid="phone-approach-warning"' in page
    assert "Out of step with the DfE guidance" in page


# Hand-ins follow the approach -----------------------------------------------------------


@pytest.mark.parametrize("approach", EXCEPTIONS_ONLY)
def test_no_hand_in_is_recorded_where_phones_are_not_handed_in(teacher, community, approach):
    _approach(approach)
    learner = community["learner"]
    with pytest.raises(Refused, match="records only the day's exceptions"):
        services.hand_in_mark(learner=learner, day=_today(), by=teacher)
    with pytest.raises(Refused, match="records only the day's exceptions"):
        services.hand_in_mark_class(
            form_class=community["my_class"], day=_today(), by=teacher, learners=[learner]
        )
    assert not HandIn.objects.exists()


def test_a_tap_on_a_pouch_schools_register_comes_back_with_the_reason(client, teacher, community):
    _approach(PhoneApproach.POUCH)
    client.force_login(teacher)
    learner = community["learner"]
    response = client.post(
        reverse("devices:handin_mark", args=[learner.pk]),
        {"date": _today().isoformat()},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "“Kept in a sealed pouch”: phones are not handed in" in response.content.decode()
    assert not HandIn.objects.exists()


def test_where_phones_go_to_the_office_the_office_takes_them_in_and_gives_them_back(
    users, teacher, community
):
    _approach(PhoneApproach.HAND_IN_OFFICE)
    learner = community["learner"]
    with pytest.raises(Refused, match="handed in to the office"):
        services.hand_in_mark(learner=learner, day=_today(), by=teacher)
    hand_in = services.hand_in_mark(learner=learner, day=_today(), by=users["office"])
    assert hand_in.received_by == users["office"]
    with pytest.raises(Refused, match="the office releases them"):
        services.hand_in_collect(hand_in=hand_in, collected_by="learner", by=teacher)
    with pytest.raises(Refused, match="the office corrects its own register"):
        services.hand_in_unmark(hand_in=hand_in, by=teacher)
    services.hand_in_collect(hand_in=hand_in, collected_by="learner", by=users["office"])


def test_the_teachers_page_shows_the_office_approach_without_hand_in_buttons(
    client, users, teacher, community
):
    _approach(PhoneApproach.HAND_IN_OFFICE)
    client.force_login(teacher)
    page = _register(client, community["my_class"])
    assert "Phones are handed in to the office on arrival" in page
    assert "Handed in<span" not in page
    assert "Mark all" not in page
    assert "Record an exception" in page
    client.force_login(users["office"])
    assert "Handed in<span" in _register(client, community["my_class"])


def test_a_device_handed_in_before_a_switch_to_pouches_still_goes_home(teacher, community):
    hand_in = services.hand_in_mark(learner=community["learner"], day=_today(), by=teacher)
    _approach(PhoneApproach.POUCH)
    services.hand_in_collect(hand_in=hand_in, collected_by="learner", by=teacher)
    assert HandIn.objects.get().collected


# Exceptions ---------------------------------------------------------------------------


@pytest.mark.parametrize("approach", PhoneApproach.values)
def test_each_approach_records_its_own_exceptions_and_no_others(teacher, community, approach):
    _approach(approach)
    learner = community["learner"]
    allowed = EXCEPTION_KINDS[approach]
    for kind in Kind.values:
        if kind in allowed:
            exception = services.hand_in_exception_record(
                learner=learner, day=_today(), kind=kind, by=teacher
            )
            assert (exception.approach, exception.recorded_by) == (approach, teacher)
        else:
            with pytest.raises(Refused, match="an exception is"):
                services.hand_in_exception_record(
                    learner=learner, day=_today(), kind=kind, by=teacher
                )
    assert HandInException.objects.count() == len(allowed)


def test_a_teacher_records_exceptions_only_for_their_own_classes(teacher, users, community):
    _approach(PhoneApproach.POUCH)
    stranger = community["other_learner"]
    with pytest.raises(Refused, match="Only the class's teachers"):
        services.hand_in_exception_record(
            learner=stranger, day=_today(), kind=Kind.POUCH_NOT_SEALED, by=teacher
        )
    for role in ("governor", "outsider"):
        with pytest.raises(Refused, match="Only the class's teachers"):
            services.hand_in_exception_record(
                learner=community["learner"],
                day=_today(),
                kind=Kind.POUCH_NOT_SEALED,
                by=users[role],
            )
    # the office and the senior team keep any class's register
    services.hand_in_exception_record(
        learner=stranger, day=_today(), kind=Kind.POUCH_NOT_SEALED, by=users["office"]
    )
    assert HandInException.objects.get().recorded_by == users["office"]


def test_the_page_for_another_class_learner_is_not_found(client, teacher, community):
    _approach(PhoneApproach.POUCH)
    client.force_login(teacher)
    response = client.post(
        reverse("devices:handin_exception", args=[community["other_learner"].pk]),
        {"kind": Kind.POUCH_NOT_SEALED},
    )
    assert response.status_code == 404
    assert not HandInException.objects.exists()


def test_an_exception_is_not_recorded_ahead_or_for_a_learner_not_on_roll(teacher, community):
    _approach(PhoneApproach.LOCKER)
    learner = community["learner"]
    with pytest.raises(Refused, match="future day"):
        services.hand_in_exception_record(
            learner=learner,
            day=_today() + datetime.timedelta(days=1),
            kind=Kind.NOT_LOCKED_AWAY,
            by=teacher,
        )
    learner.joined = _today()
    learner.save()
    with pytest.raises(Refused, match="not on roll"):
        services.hand_in_exception_record(
            learner=learner,
            day=_today() - datetime.timedelta(days=1),
            kind=Kind.NOT_LOCKED_AWAY,
            by=teacher,
        )
    assert not HandInException.objects.exists()


def test_the_same_exception_twice_is_one_record(teacher, community):
    _approach(PhoneApproach.POUCH)
    for _ in range(2):
        services.hand_in_exception_record(
            learner=community["learner"], day=_today(), kind=Kind.SEEN_OR_USED, by=teacher
        )
    assert HandInException.objects.count() == 1


def test_handed_in_and_kept_back_cannot_both_be_true(teacher, community):
    learner = community["learner"]
    services.hand_in_mark(learner=learner, day=_today(), by=teacher)
    with pytest.raises(Refused, match="recorded as handed in"):
        services.hand_in_exception_record(
            learner=learner, day=_today(), kind=Kind.NOT_HANDED_IN, by=teacher
        )
    # seen using another phone is still an exception
    services.hand_in_exception_record(
        learner=learner, day=_today(), kind=Kind.SEEN_OR_USED, by=teacher
    )
    other = factories.LearnerFactory(form_class=community["my_class"])
    services.hand_in_exception_record(
        learner=other, day=_today(), kind=Kind.NOT_HANDED_IN, by=teacher
    )
    with pytest.raises(Refused, match="not handing a phone in"):
        services.hand_in_mark(learner=other, day=_today(), by=teacher)


def test_the_database_refuses_an_exception_of_another_approach(teacher, community):
    with pytest.raises(IntegrityError), transaction.atomic():
        HandInException.objects.create(
            learner=community["learner"],
            kind=Kind.NOT_HANDED_IN,
            approach=PhoneApproach.POUCH,
            recorded_by=teacher,
        )
    HandInException.objects.create(
        learner=community["learner"],
        kind=Kind.POUCH_NOT_SEALED,
        approach=PhoneApproach.POUCH,
        recorded_by=teacher,
    )


def test_an_exception_recorded_in_error_is_withdrawn_and_its_history_kept(
    client, teacher, users, community
):
    _approach(PhoneApproach.POUCH)
    mine = services.hand_in_exception_record(
        learner=community["learner"], day=_today(), kind=Kind.POUCH_NOT_SEALED, by=teacher
    )
    theirs = services.hand_in_exception_record(
        learner=community["other_learner"],
        day=_today(),
        kind=Kind.POUCH_NOT_SEALED,
        by=users["office"],
    )
    with pytest.raises(Refused, match="Only the class's teachers"):
        services.hand_in_exception_withdraw(exception=theirs, by=teacher)
    client.force_login(teacher)
    url = reverse("devices:handin_exception_withdraw", args=[theirs.pk])
    assert client.post(url).status_code == 404
    response = client.post(reverse("devices:handin_exception_withdraw", args=[mine.pk]))
    assert response.status_code == 302
    assert list(HandInException.objects.all()) == [theirs]
    assert HandInException.history.filter(id=mine.pk, history_type="-").exists()


# The page: pouches -----------------------------------------------------------------------


def test_a_pouch_schools_register_asks_only_for_exceptions(client, teacher, community):
    _approach(PhoneApproach.POUCH)
    client.force_login(teacher)
    page = _register(client, community["my_class"])
    assert "Phones are kept in sealed pouches all day. Record only the day&#x27;s exceptions" in (
        page
    )
    assert "No exception recorded" in page
    assert "No device recorded" not in page
    assert "Handed in<span" not in page
    assert "Mark all" not in page
    learner = community["learner"]
    assert "Record an exception<span" in page
    assert "Phone not in a sealed pouch" in _folded_actions(client, learner)

    response = client.post(
        reverse("devices:handin_exception", args=[learner.pk]),
        {
            "date": _today().isoformat(),
            "kind": Kind.POUCH_NOT_SEALED,
            "details": "Pouch open at break",
        },
        headers={"HX-Request": "true"},
    )
    row = response.content.decode()
    assert response.status_code == 200
    assert "Saved: exception for Amira Khan: phone not in a sealed pouch." in row
    assert "Pouch open at break" in row
    assert "1</strong> exception" in row  # the counts, swapped in out of band
    exception = HandInException.objects.get()
    assert (exception.learner, exception.day, exception.details) == (
        learner,
        _today(),
        "Pouch open at break",
    )


def test_an_exception_of_the_wrong_kind_comes_back_with_the_reason(client, teacher, community):
    _approach(PhoneApproach.POUCH)
    client.force_login(teacher)
    response = client.post(
        reverse("devices:handin_exception", args=[community["learner"].pk]),
        {"kind": Kind.NOT_LOCKED_AWAY},
        follow=True,
    )
    page = response.content.decode()
    assert "an exception is “phone not in a sealed pouch” or" in page
    assert not HandInException.objects.exists()


# Learners with an exemption in force: exempt, not missing --------------------------------


@pytest.fixture
def exempt(users, community):
    return exemption_in(
        Exemption.Status.ACTIVE,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )


def test_an_exempt_learner_is_shown_as_exempt_not_missing(client, teacher, community, exempt):
    client.force_login(teacher)
    page = _register(client, community["my_class"])
    row = page.split(f'id="learner-{exempt.learner_id}"', 1)[1].split("</li>", 1)[0]
    assert "data-exempt" in row
    assert "No device recorded" not in row
    assert "Record an exception" not in row
    assert "<strong>1</strong> exempt" in page
    # the "mark all" form offers the other learner only
    mark_all = page.split('id="handin-mark-all"', 1)[1].split("</div>", 1)[0]
    assert f'name="learner" value="{exempt.learner_id}"' not in mark_all
    assert "Mark all 1 not yet recorded" in mark_all
    index = client.get(reverse("devices:handin_index")).content.decode()
    assert "1 exempt" in index


def test_keeping_the_device_by_agreement_is_not_an_exception(teacher, community, exempt):
    _approach(PhoneApproach.POUCH)
    with pytest.raises(Refused, match="is exempt that day"):
        services.hand_in_exception_record(
            learner=exempt.learner, day=_today(), kind=Kind.POUCH_NOT_SEALED, by=teacher
        )
    assert not HandInException.objects.exists()


def test_an_exemption_not_in_force_does_not_make_a_learner_exempt(
    client, teacher, users, community
):
    waiting = exemption_in(
        Exemption.Status.AGREEMENT_ISSUED,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )
    client.force_login(teacher)
    page = _register(client, community["my_class"])
    assert "data-exempt" not in page
    _approach(PhoneApproach.POUCH)
    services.hand_in_exception_record(
        learner=waiting.learner, day=_today(), kind=Kind.SEEN_OR_USED, by=teacher
    )


def test_an_exemption_counts_only_on_the_days_it_covers(teacher, community, exempt):
    _approach(PhoneApproach.POUCH)
    Exemption.objects.filter(pk=exempt.pk).update(starts=_today())
    yesterday = _today() - datetime.timedelta(days=1)
    services.hand_in_exception_record(
        learner=exempt.learner, day=yesterday, kind=Kind.POUCH_NOT_SEALED, by=teacher
    )


# The governors' report: counts only --------------------------------------------------------


def test_the_governors_report_counts_exemptions_by_reason_and_register_exceptions(
    users, teacher, community, exempt
):
    from tests.factories_devices_exemptions import request_for_learner

    request_for_learner(
        learner=community["other_learner"],
        by=users["headteacher"],
        reason_kind=Exemption.ReasonKind.YOUNG_CARER,
    )
    _approach(PhoneApproach.POUCH)
    services.hand_in_exception_record(
        learner=factories.LearnerFactory(form_class=community["my_class"]),
        day=_today(),
        kind=Kind.SEEN_OR_USED,
        by=teacher,
    )
    start, end = _today() - datetime.timedelta(days=1), _today()
    rows = {row[0]: row[1:] for row in report.exemptions_by_reason(start, end)}
    active, ended, refused, in_progress = range(4)
    assert rows["A medical condition plan"][active] == 1
    assert rows["A young carer"][in_progress] == 1
    assert rows["Not recorded"] == [0, 0, 0, 0]
    built = report.build_hand_in(start, end)
    assert ("Exceptions recorded on the register", 1) in built["figures"]
    table = built["tables"][0]["rows"]
    assert [Kind.SEEN_OR_USED.label, 1] in table


def test_the_whole_school_and_the_teachers_panel_count_exceptions_and_exempt_learners(
    client, users, teacher, community, exempt
):
    _approach(PhoneApproach.POUCH)
    services.hand_in_exception_record(
        learner=community["other_learner"],
        day=_today(),
        kind=Kind.SEEN_OR_USED,
        by=users["office"],
    )
    client.force_login(users["dsl"])
    page = client.get(reverse("devices:handin_school")).content.decode()
    assert "Phones are kept in sealed pouches all day" in page
    totals = page.split("<tfoot>", 1)[1]
    cells = [c.split("</td>")[0] for c in totals.split('fw-semibold">')[1:]]
    # on roll, handed in, not switched off, collected, still to collect, exceptions, exempt
    assert cells == ["3", "0", "0", "0", "0", "1", "1"]
    client.force_login(teacher)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert '3A<span class="visually-hidden"> hand-in register</span></a> · 0 exceptions' in (
        dashboard
    )


def test_counts_offered_to_the_evidence_pack(users, teacher, community, exempt):
    _approach(PhoneApproach.POUCH)
    services.hand_in_exception_record(
        learner=community["other_learner"],
        day=_today(),
        kind=Kind.SEEN_OR_USED,
        by=users["office"],
    )
    services.hand_in_exception_record(
        learner=factories.LearnerFactory(form_class=community["my_class"]),
        day=_today(),
        kind=Kind.POUCH_NOT_SEALED,
        by=teacher,
    )
    assert ["A medical condition plan", 1] in report.exemptions_in_force_by_reason(_today())
    yesterday = _today() - datetime.timedelta(days=1)
    assert report.exemptions_in_force_by_reason(yesterday)[1] == ["A medical condition plan", 0]
    start = _today() - datetime.timedelta(days=7)
    assert report.register_exceptions_by_class(start, _today()) == [["3A", 1, 1], ["3B", 1, 1]]
    weeks = report.register_exceptions_by_week(start, _today())
    assert sum(n for _, n in weeks) == 2


def test_a_row_offers_only_the_exceptions_still_to_record(client, teacher, community):
    learner = community["learner"]
    services.hand_in_mark(learner=learner, day=_today(), by=teacher)
    client.force_login(teacher)

    def row() -> str:
        page = _register(client, community["my_class"])
        return page.split(f'id="learner-{learner.pk}"', 1)[1].split("</li>", 1)[0]

    # the kinds are in the row's folded actions, fetched when the fold is opened
    assert "Record an exception, undo or correct<span" in row()
    assert Kind.NOT_HANDED_IN.label not in _folded_actions(client, learner)  # not "kept back"
    assert Kind.SEEN_OR_USED.label in _folded_actions(client, learner)
    _approach(PhoneApproach.NOT_ALLOWED)
    assert Kind.BROUGHT_IN.label in _folded_actions(client, learner)
    services.hand_in_exception_record(
        learner=learner, day=_today(), kind=Kind.BROUGHT_IN, by=teacher
    )
    assert "Record an exception" not in row()  # nothing left to record
    assert 'name="kind"' not in _folded_actions(client, learner)
