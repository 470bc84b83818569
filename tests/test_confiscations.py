"""Confiscation and custody (policy section 6).

A device taken from a learner is held, moved, and then either returned or handed to the
police, never both; every move is a custody event. Transition tables list every source
status and every role without the right. Opening a confiscation is logged.
"""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import RecordAccess
from compliance.transitions import Refused
from devices import services
from devices.models import Confiscation, CustodyEvent
from tests import factories

pytestmark = pytest.mark.django_db

Status = Confiscation.Status


def record(community, *, by=None, taken_by=None, learner=None, **extra) -> Confiscation:
    teacher = community["staff"]
    return services.confiscation_record(
        learner=learner or community["learner"],
        category=factories.DeviceCategoryFactory(),
        description="Black phone in a red case",
        reason="Used to take photos in the classroom",
        stored_where="Classroom 3A locked drawer",
        taken_by=taken_by or teacher,
        by=by or teacher.user,
        **extra,
    )


def in_status(community, status: str, *, by) -> Confiscation:
    confiscation = record(community)
    if status == Status.RETURNED:
        services.confiscation_return(confiscation=confiscation, returned_to="Hana Khan", by=by)
    elif status == Status.WITH_POLICE:
        services.confiscation_hand_to_police(
            confiscation=confiscation, officer="PC 123 Smith", reference="KP/24/001", by=by
        )
    confiscation.refresh_from_db()
    assert confiscation.status == status
    return confiscation


# Recording, and the chain of custody -----------------------------------------------------


def test_record_holds_the_device_and_starts_the_chain(community, teacher):
    confiscation = record(community)
    assert confiscation.status == Status.HELD
    assert confiscation.recorded_by == teacher
    (event,) = confiscation.custody_events.all()
    assert event.kind == CustodyEvent.Kind.TAKEN
    assert event.at == confiscation.taken_at
    assert "Classroom 3A locked drawer" in event.details


def test_every_move_is_recorded_oldest_first(community, office, dsl):
    confiscation = record(community)
    services.confiscation_move(confiscation=confiscation, stored_where="Office safe", by=office)
    services.confiscation_move(confiscation=confiscation, stored_where="DSL's cabinet", by=dsl)
    services.confiscation_hand_to_police(
        confiscation=confiscation, officer="PC 123 Smith", reference="KP/24/001", by=dsl
    )
    confiscation.refresh_from_db()
    assert confiscation.stored_where == "DSL's cabinet"
    assert (confiscation.police_officer, confiscation.police_reference) == (
        "PC 123 Smith",
        "KP/24/001",
    )
    kinds = [e.kind for e in confiscation.custody_events.all()]
    assert kinds == ["taken", "moved", "moved", "police"]


def test_a_return_records_to_whom_and_when(community, office):
    confiscation = record(community)
    services.confiscation_return(
        confiscation=confiscation, returned_to="Hana Khan (mother)", by=office
    )
    confiscation.refresh_from_db()
    assert confiscation.status == Status.RETURNED
    assert confiscation.returned_to == "Hana Khan (mother)"
    assert confiscation.returned_at is not None
    assert confiscation.custody_events.last().kind == CustodyEvent.Kind.RETURNED


def test_taken_in_the_future_is_refused(community):
    with pytest.raises(Refused, match="cannot be taken in the future"):
        record(community, taken_at=timezone.now() + datetime.timedelta(hours=1))


def test_the_police_hand_over_needs_officer_and_reference(community, dsl):
    confiscation = record(community)
    with pytest.raises(Refused, match="Name the police officer"):
        services.confiscation_hand_to_police(
            confiscation=confiscation, officer=" ", reference="KP/1", by=dsl
        )
    with pytest.raises(Refused, match="police reference"):
        services.confiscation_hand_to_police(
            confiscation=confiscation, officer="PC 1", reference="", by=dsl
        )


# Transition tables ------------------------------------------------------------------------


def _move(c, by):
    services.confiscation_move(confiscation=c, stored_where="Office safe", by=by)


def _return(c, by):
    services.confiscation_return(confiscation=c, returned_to="Hana Khan", by=by)


def _police(c, by):
    services.confiscation_hand_to_police(
        confiscation=c, officer="PC 123 Smith", reference="KP/24/002", by=by
    )


AFTER = {_move: Status.HELD, _return: Status.RETURNED, _police: Status.WITH_POLICE}
# From held every step is open; once returned or with the police, none is.
TABLE = [
    (step, source, source == Status.HELD) for step in (_move, _return, _police) for source in Status
]


@pytest.mark.parametrize(
    ("step", "source", "allowed"),
    TABLE,
    ids=[f"{step.__name__[1:]}-from-{source.value}" for step, source, _ in TABLE],
)
def test_transition_table(community, dsl, step, source, allowed):
    confiscation = in_status(community, source, by=dsl)
    events = confiscation.custody_events.count()
    if allowed:
        step(confiscation, dsl)
        confiscation.refresh_from_db()
        assert confiscation.status == AFTER[step]
        assert confiscation.custody_events.count() == events + 1
    else:
        with pytest.raises(Refused):
            step(confiscation, dsl)
        confiscation.refresh_from_db()
        assert confiscation.status == source
        assert confiscation.custody_events.count() == events


def test_return_after_police_is_refused_with_the_reason(community, dsl):
    confiscation = in_status(community, Status.WITH_POLICE, by=dsl)
    with pytest.raises(Refused, match="with the police: it cannot be returned by the school"):
        _return(confiscation, dsl)


def test_police_after_return_is_refused_with_the_reason(community, dsl):
    confiscation = in_status(community, Status.RETURNED, by=dsl)
    with pytest.raises(Refused, match="no longer the school's to hand over"):
        _police(confiscation, dsl)


# step: the roles without the right to take it
WITHOUT_THE_RIGHT = {
    _move: ["staff", "governor", "outsider"],
    _return: ["staff", "governor", "outsider"],
    _police: ["staff", "office", "governor", "outsider"],
}
WITH_THE_RIGHT = {
    _move: ["office", "deputy_dsl", "headteacher", "dsl"],
    _return: ["office", "deputy_dsl", "headteacher", "dsl"],
    _police: ["deputy_dsl", "headteacher", "dsl"],
}
ROLE_TABLE = [
    (step, role, allowed)
    for step in (_move, _return, _police)
    for allowed, table in ((False, WITHOUT_THE_RIGHT), (True, WITH_THE_RIGHT))
    for role in table[step]
]


def test_the_role_table_covers_every_role(users):
    for step in (_move, _return, _police):
        assert sorted(WITHOUT_THE_RIGHT[step] + WITH_THE_RIGHT[step]) == sorted(users)


@pytest.mark.parametrize(
    ("step", "role", "allowed"),
    ROLE_TABLE,
    ids=[f"{step.__name__[1:]}-{role}" for step, role, _ in ROLE_TABLE],
)
def test_role_table(community, users, step, role, allowed):
    confiscation = record(community)
    if allowed:
        step(confiscation, users[role])
        confiscation.refresh_from_db()
        assert confiscation.status == AFTER[step]
    else:
        with pytest.raises(Refused):
            step(confiscation, users[role])
        confiscation.refresh_from_db()
        assert confiscation.status == Status.HELD


@pytest.mark.parametrize("role", ["governor", "outsider"])
def test_roles_without_the_right_do_not_record_confiscations(community, users, role):
    with pytest.raises(Refused, match="does not record confiscations"):
        record(community, by=users[role])


# The database: never both returned and with the police ----------------------------------


def _refused_by_database(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_database_refuses_returned_and_with_the_police(community, dsl):
    returned = in_status(community, Status.RETURNED, by=dsl)
    rows = Confiscation.objects.filter(pk=returned.pk)
    _refused_by_database(
        lambda: rows.update(
            handed_to_police_at=timezone.now(), police_officer="PC 1", police_reference="R1"
        )
    )
    _refused_by_database(
        lambda: rows.update(
            status=Status.WITH_POLICE,
            handed_to_police_at=timezone.now(),
            police_officer="PC 1",
            police_reference="R1",
        )
    )
    police = in_status(community, Status.WITH_POLICE, by=dsl)
    _refused_by_database(
        lambda: Confiscation.objects.filter(pk=police.pk).update(
            returned_at=timezone.now(), returned_to="Hana Khan"
        )
    )


def test_database_refuses_a_status_without_its_details(community, dsl):
    held = Confiscation.objects.filter(pk=record(community).pk)
    _refused_by_database(lambda: held.update(status=Status.RETURNED))
    _refused_by_database(
        lambda: held.update(status=Status.WITH_POLICE, handed_to_police_at=timezone.now())
    )
    _refused_by_database(lambda: held.update(returned_at=timezone.now(), returned_to="X"))


# Pages ----------------------------------------------------------------------------------


def _add_data(community, **changes) -> dict:
    data = {
        "learner": community["learner"].pk,
        "category": factories.DeviceCategoryFactory().pk,
        "description": "Black phone in a red case",
        "reason": "Filming in the toilets",
        "stored_where": "Office safe",
        "taken_by": community["staff"].pk,
        "taken_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    data.update(changes)
    return data


def test_a_teacher_records_a_confiscation_in_their_own_name(client, teacher, community):
    client.force_login(teacher)
    form = client.get(reverse("devices:confiscation_add")).context["form"]
    # the learners of their classes only, and only themselves as the taker
    assert set(form.fields["learner"].queryset) == set(community["my_class"].learners.all())
    assert list(form.fields["taken_by"].queryset) == [community["staff"]]
    assert form.fields["taken_by"].initial == community["staff"].pk
    response = client.post(reverse("devices:confiscation_add"), _add_data(community))
    confiscation = Confiscation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == confiscation.get_absolute_url()
    assert (confiscation.taken_by, confiscation.recorded_by) == (community["staff"], teacher)


def test_a_teacher_cannot_record_for_a_learner_outside_their_classes(client, teacher, community):
    client.force_login(teacher)
    response = client.post(
        reverse("devices:confiscation_add"),
        _add_data(community, learner=community["other_learner"].pk),
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Confiscation.objects.exists()


def test_a_teacher_cannot_record_in_someone_elses_name(client, teacher, office, community):
    client.force_login(teacher)
    response = client.post(
        reverse("devices:confiscation_add"),
        _add_data(community, taken_by=office.staff_member.pk),
    )
    assert response.status_code == 200
    assert not Confiscation.objects.exists()


def test_the_office_records_for_anyone_and_any_learner(client, office, community):
    client.force_login(office)
    response = client.post(
        reverse("devices:confiscation_add"),
        _add_data(community, learner=community["other_learner"].pk),
    )
    assert response.status_code == 302
    assert Confiscation.objects.get().taken_by == community["staff"]


def test_a_refused_record_keeps_what_was_typed(client, teacher, community):
    client.force_login(teacher)
    future = (timezone.localtime() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("devices:confiscation_add"),
        _add_data(community, taken_at=future, description="Green tablet with stickers"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "A device cannot be taken in the future." in page
    assert "Green tablet with stickers" in page
    assert not Confiscation.objects.exists()


def test_staff_see_only_what_they_took(client, teacher, office, community):
    mine = record(community)
    someone_elses = record(community, taken_by=office.staff_member, by=office)
    client.force_login(teacher)
    listed = list(client.get(reverse("devices:confiscation_list")).context["object_list"])
    assert listed == [mine]
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(someone_elses.get_absolute_url()).status_code == 404
    client.force_login(office)
    listed = set(client.get(reverse("devices:confiscation_list")).context["object_list"])
    assert listed == {mine, someone_elses}


def test_opening_a_confiscation_is_logged(client, office, community):
    confiscation = record(community)
    client.force_login(office)
    client.get(reverse("devices:confiscation_list"))
    assert not RecordAccess.objects.exists()  # a list is not a read of one record
    client.get(confiscation.get_absolute_url())
    entry = RecordAccess.objects.get()
    assert (entry.user, entry.record, entry.action) == (office, confiscation, "view")


def test_the_detail_shows_the_chain_oldest_first(client, dsl, community):
    confiscation = record(community)
    services.confiscation_move(confiscation=confiscation, stored_where="Office safe", by=dsl)
    client.force_login(dsl)
    response = client.get(confiscation.get_absolute_url())
    events = list(response.context["events"])
    assert [e.kind for e in events] == ["taken", "moved"]
    page = response.content.decode()
    assert page.index("Taken from the learner") < page.index("Now kept in Office safe")
    assert "handed over to the police" in page  # section 6, beside the police form


def test_move_return_and_police_through_the_pages(client, dsl, community):
    first, second = record(community), record(community)
    client.force_login(dsl)
    move = reverse("devices:confiscation_move", args=[first.pk])
    assert client.post(move, {"stored_where": "DSL's cabinet"}).status_code == 302
    back = reverse("devices:confiscation_return", args=[first.pk])
    assert client.post(back, {"returned_to": "Hana Khan (mother)"}).status_code == 302
    police = reverse("devices:confiscation_police", args=[second.pk])
    at = timezone.localtime().replace(second=0, microsecond=0) - datetime.timedelta(minutes=5)
    response = client.post(
        police,
        {"officer": "PC 123 Smith", "reference": "KP/24/003", "at": at.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.stored_where) == (Status.RETURNED, "DSL's cabinet")
    assert (second.status, second.handed_to_police_at) == (Status.WITH_POLICE, at)


def test_return_after_police_is_refused_on_the_page(client, dsl, community):
    confiscation = in_status(community, Status.WITH_POLICE, by=dsl)
    client.force_login(dsl)
    response = client.post(
        reverse("devices:confiscation_return", args=[confiscation.pk]), {"returned_to": "Mum"}
    )
    assert response.status_code == 200
    assert "it cannot be returned by the school" in response.content.decode()
    confiscation.refresh_from_db()
    assert confiscation.status == Status.WITH_POLICE


def test_police_after_return_is_refused_on_the_page(client, dsl, community):
    confiscation = in_status(community, Status.RETURNED, by=dsl)
    client.force_login(dsl)
    at = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("devices:confiscation_police", args=[confiscation.pk]),
        {"officer": "PC 1", "reference": "R1", "at": at},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "The device has been returned: it is no longer the school" in page
    assert 'value="PC 1"' in page  # what was typed is shown again


def test_a_teacher_may_not_move_what_they_took(client, teacher, community):
    confiscation = record(community)
    client.force_login(teacher)
    page = client.get(confiscation.get_absolute_url()).content.decode()
    assert reverse("devices:confiscation_move", args=[confiscation.pk]) not in page
    response = client.post(
        reverse("devices:confiscation_move", args=[confiscation.pk]), {"stored_where": "Bag"}
    )
    assert response.status_code == 200
    assert "Custody is recorded by the office" in response.content.decode()
    confiscation.refresh_from_db()
    assert confiscation.stored_where == "Classroom 3A locked drawer"


def test_the_office_is_not_offered_the_police_form(client, office, community):
    confiscation = record(community)
    client.force_login(office)
    page = client.get(confiscation.get_absolute_url()).content.decode()
    assert reverse("devices:confiscation_police", args=[confiscation.pk]) not in page
    assert reverse("devices:confiscation_move", args=[confiscation.pk]) in page


@pytest.mark.parametrize("role", ["governor", "outsider"])
def test_roles_without_sight_of_confiscations_get_403_on_actions(client, users, community, role):
    confiscation = record(community)
    client.force_login(users[role])
    for name in ("confiscation_move", "confiscation_return", "confiscation_police"):
        response = client.post(reverse(f"devices:{name}", args=[confiscation.pk]), {})
        assert response.status_code == 403, name


def test_the_list_filters_by_status_learner_and_dates(client, dsl, community):
    old = record(community, taken_at=timezone.now() - datetime.timedelta(days=10))
    new = record(community, learner=community["other_learner"], by=dsl)
    services.confiscation_return(confiscation=old, returned_to="Mum", by=dsl)
    client.force_login(dsl)
    url = reverse("devices:confiscation_list")

    def found(params):
        return set(client.get(url, params).context["object_list"])

    today = timezone.localdate()
    assert found({}) == {old, new}
    assert found({"status": "held"}) == {new}
    assert found({"q": "zed other"}) == {new}
    assert found({"q": "Khan"}) == {old}
    assert found({"taken_from": today.isoformat()}) == {new}
    assert found({"taken_to": (today - datetime.timedelta(days=5)).isoformat()}) == {old}


def test_the_dashboard_panel_counts_devices_held(client, office, teacher, dsl, community):
    record(community)
    in_status(community, Status.RETURNED, by=dsl)
    record(community, taken_by=office.staff_member, by=office)
    client.force_login(office)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="devices_held"' in page
    assert '<strong class="fs-3" data-testid="count">2</strong> devices taken' in page
    client.force_login(teacher)  # a teacher counts what they took
    page = client.get(reverse("dashboard")).content.decode()
    assert '<strong class="fs-3" data-testid="count">1</strong> device taken' in page


# Query counts -----------------------------------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(community, n: int, by, taken_by=None) -> None:
    for _ in range(n):
        learner = factories.LearnerFactory(form_class=community["my_class"])
        record(
            community, learner=learner, by=by, taken_by=taken_by or factories.StaffMemberFactory()
        )


# As every page (tests/test_query_counts.py): the session, the user, the user's roles; the
# layout's school and policy version; the session saved again (savepoint, update, release).
_EVERY_PAGE = 3 + 2 + 3


def test_the_list_runs_a_fixed_number_of_queries(client, dsl, community):
    client.force_login(dsl)
    url = reverse("devices:confiscation_list")
    _grow(community, 10, dsl)
    small = _count(client, url)
    _grow(community, 90, dsl)
    large = _count(client, url)
    assert small == large
    # count, the page of confiscations (learner, class, category and taker joined)
    assert large == _EVERY_PAGE + 2


def test_a_teachers_list_runs_a_fixed_number_of_queries(client, teacher, community):
    client.force_login(teacher)
    url = reverse("devices:confiscation_list")
    _grow(community, 10, teacher, community["staff"])
    small = _count(client, url)
    assert len(client.get(url).context["object_list"]) == 10
    _grow(community, 90, teacher, community["staff"])
    large = _count(client, url)
    assert small == large
    # their staff record, count, the page (only what they took)
    assert large == _EVERY_PAGE + 3
