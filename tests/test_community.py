"""The school community pages: scoping, edits, bad input, constraints."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance.models import Learner, School, StaffMember, Visit
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_teacher_sees_only_their_own_class(client, teacher, community):
    client.force_login(teacher)
    listing = client.get(reverse("compliance:learner_list")).content.decode()
    assert "Khan, Amira" in listing
    assert "Other, Zed" not in listing
    for name, obj in [
        ("compliance:learner_detail", community["other_learner"]),
        ("compliance:class_detail", community["other_class"]),
        ("compliance:parent_detail", community["other_parent"]),
    ]:
        assert client.get(reverse(name, args=[obj.pk])).status_code == 404, name


def test_a_teacher_may_not_change_their_learners(client, teacher, community):
    client.force_login(teacher)
    url = reverse("compliance:learner_edit", args=[community["learner"].pk])
    response = client.post(url, {"first_name": "Changed"})
    assert response.status_code == 403
    community["learner"].refresh_from_db()
    assert community["learner"].first_name == "Amira"
    # a learner of another class is not even acknowledged
    other = reverse("compliance:learner_edit", args=[community["other_learner"].pk])
    assert client.post(other, {"first_name": "Changed"}).status_code == 404


def test_a_teacher_who_left_sees_nothing(client, teacher, community):
    community["staff"].active = False
    community["staff"].save()
    teacher.refresh_from_db()
    client.force_login(teacher)
    listing = client.get(reverse("compliance:learner_list")).content.decode()
    assert "Khan, Amira" not in listing


def _learner_data(form_class, **overrides):
    data = {
        "first_name": "Noor",
        "last_name": "Ahmed",
        "date_of_birth": "2018-03-04",
        "year_group": form_class.year_group,
        "form_class": form_class.pk,
        "mis_id": "A123456789012",
        "joined": "2022-09-01",
        "left": "",
    }
    data.update(overrides)
    return data


def test_the_office_adds_a_learner_and_history_names_them(client, office, community):
    client.force_login(office)
    response = client.post(reverse("compliance:learner_add"), _learner_data(community["my_class"]))
    learner = Learner.objects.get(mis_id="A123456789012")
    assert response.status_code == 302
    assert response["Location"] == learner.get_absolute_url()
    record = learner.history.get()
    assert record.history_type == "+"
    assert record.history_user == office
    page = client.get(response["Location"]).content.decode()
    assert "Saved learner Noor Ahmed." in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"left": "2021-01-01"}, "left", "cannot leave before they joined"),
        ({"date_of_birth": "2030-01-01", "joined": "2031-01-01"}, "date_of_birth", "future"),
        ({"joined": "2017-01-01"}, "joined", "after the date of birth"),
        ({"year_group": "5"}, "form_class", "is a Year 3 class"),
        ({"date_of_birth": "31/02/2018"}, "date_of_birth", "Enter a valid date"),
        ({"first_name": ""}, "first_name", "This field is required"),
    ],
)
def test_bad_learner_input_is_explained_next_to_the_field(
    client, office, community, overrides, field, message
):
    client.force_login(office)
    data = _learner_data(community["my_class"], **overrides)
    response = client.post(reverse("compliance:learner_add"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors
    assert message in " ".join(form.errors[field])
    # what was typed is shown again
    page = response.content.decode()
    assert 'value="Ahmed"' in page
    assert not Learner.objects.filter(mis_id="A123456789012").exists()


def test_a_parent_needs_a_way_to_be_reached(client, office, community):
    client.force_login(office)
    response = client.post(
        reverse("compliance:parent_add"),
        {
            "first_name": "Sam",
            "last_name": "Khan",
            "relationship": "father",
            "phone": "",
            "email": "",
            "learners": [community["learner"].pk],
        },
    )
    assert response.status_code == 200
    assert "Give a phone number or an email address" in response.content.decode()


def test_a_visit_cannot_end_before_it_began(client, office, community):
    client.force_login(office)
    response = client.post(
        reverse("compliance:visit_edit", args=[community["visit"].pk]),
        {
            "visitor": community["visitor"].pk,
            "arrived": "2026-11-02T10:00",
            "left": "2026-11-02T09:00",
            "purpose": "Meeting",
            "host": community["staff"].pk,
            "version": community["visit"].version,
        },
    )
    assert response.status_code == 200
    assert "cannot leave before they arrived" in response.content.decode()


def test_constraints_hold_when_forms_are_bypassed(community):
    learner = community["learner"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Learner.objects.filter(pk=learner.pk).update(left=datetime.date(2000, 1, 1))
    visit = community["visit"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.filter(pk=visit.pk).update(left=visit.arrived - datetime.timedelta(hours=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.create(name="A second school")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.LearnerFactory(mis_id="DUP1")
        factories.LearnerFactory(mis_id="DUP1")


def test_blank_mis_ids_do_not_clash(community):
    factories.LearnerFactory(mis_id="")
    factories.LearnerFactory(mis_id="")
    assert Learner.objects.filter(mis_id="").count() >= 2


def test_the_headteacher_edits_the_school(client, headteacher, school):
    governor = factories.StaffMemberFactory(staff_type="governor", first_name="Barbara")
    client.force_login(headteacher)
    response = client.post(
        reverse("compliance:school_edit"),
        {
            "name": "Victoria Road Primary School",
            "address": "1 Victoria Road",
            "phone": "01632 960000",
            "local_authority": "Kent County Council",
            "lado_contact": "LADO, 03000 410888",
            "safeguarding_partnership_contact": "",
            "education_safeguarding_service_contact": "",
            "safeguarding_lead_governor": governor.pk,
            "phone_approach": "pouch",
            "version": school.version,
        },
    )
    assert response.status_code == 302
    school.refresh_from_db()
    assert school.safeguarding_lead_governor == governor
    assert school.phone_approach == "pouch"
    assert school.history.first().history_user == headteacher


def test_deactivating_a_staff_member_ends_their_login_at_once(client, dsl, teacher, community):
    teacher_client = client.__class__()
    teacher_client.force_login(teacher)
    assert teacher_client.get(reverse("dashboard")).status_code == 200

    client.force_login(dsl)
    staff = teacher.staff_member
    response = client.post(
        reverse("compliance:staff_edit", args=[staff.pk]),
        {
            "first_name": staff.first_name,
            "last_name": staff.last_name,
            "email": "",
            "staff_type": "teaching",
            "job_title": "Class teacher",
            "mis_id": "",
            "active": "",
            "version": staff.version,
        },
    )
    assert response.status_code == 302
    teacher.refresh_from_db()
    assert not teacher.is_active
    # the teacher's open session no longer works
    response = teacher_client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_dsl_gives_a_login_and_roles(client, dsl, school):
    staff = factories.StaffMemberFactory(first_name="Kelly", last_name="Collens")
    client.force_login(dsl)
    url = reverse("compliance:staff_login", args=[staff.pk])
    short = client.post(
        url, {"username": "kcollens", "roles": ["headteacher"], "password": "short"}
    )
    assert short.status_code == 200
    assert "too short" in short.content.decode()
    taken = client.post(
        url, {"username": "DSL", "roles": ["headteacher"], "password": "a-long-enough-passphrase"}
    )
    assert "That username is taken." in taken.content.decode()
    response = client.post(
        url,
        {
            "username": "kcollens",
            "roles": ["headteacher", "deputy_dsl"],
            "password": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.user.username == "kcollens"
    assert staff.user.roles == {"headteacher", "deputy_dsl"}
    assert staff.user.check_password("a-long-enough-passphrase")
    # role changes are in the login's history, with who made them
    latest = staff.user.history.latest()
    assert latest.history_user == dsl


def test_a_role_cannot_be_invented(client, dsl, school):
    staff = factories.StaffMemberFactory()
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:staff_login", args=[staff.pk]),
        {"username": "x", "roles": ["superuser"], "password": "a-long-enough-passphrase"},
    )
    assert response.status_code == 200
    assert "roles" in response.context["form"].errors
    assert not StaffMember.objects.get(pk=staff.pk).user


def test_search_filters_and_paginates(client, office, community):
    for n in range(30):
        factories.LearnerFactory(form_class=community["my_class"], last_name=f"Zz{n:02}")
    client.force_login(office)
    response = client.get(reverse("compliance:learner_list"), {"q": "zz"})
    assert response.context["page_obj"].paginator.count == 30
    assert len(response.context["object_list"]) == 25
    page_two = client.get(reverse("compliance:learner_list"), {"q": "zz", "page": 2})
    assert len(page_two.context["object_list"]) == 5
    assert "q=zz" in response.content.decode()
    by_class = client.get(
        reverse("compliance:learner_list"), {"form_class": community["other_class"].pk}
    )
    assert [x.last_name for x in by_class.context["object_list"]] == ["Other"]


def test_hostile_filter_input_is_harmless(client, office, community):
    client.force_login(office)
    for value in ["\x00", "<script>alert(1)</script>", "x" * 10_000, "\u202e", "%"]:
        response = client.get(
            reverse("compliance:learner_list"), {"q": value, "form_class": "nope", "page": "-1"}
        )
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()


def test_left_learners_are_marked(client, office, community):
    learner = community["learner"]
    learner.left = timezone.localdate()
    learner.save()
    client.force_login(office)
    response = client.get(reverse("compliance:learner_list"), {"on_roll": "false"})
    assert [x.pk for x in response.context["object_list"]] == [learner.pk]
