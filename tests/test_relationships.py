"""Pre-existing relationship declarations (policy section 5), each rule tried and broken.

Staff declare for themselves; the DSL and the headteacher discuss it and the DSL or the
head records the outcome; the declarer confirms it after each review; it is ended, never
deleted; governors and the office never see one.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from compliance import relationship_services as rel
from compliance import review_services as rs
from compliance import subject_access
from compliance.demo import DemoContext
from compliance.demo_relationships import seed
from compliance.models import RecordAccess, RelationshipDeclaration
from compliance.transitions import Refused
from tests import factories

pytestmark = pytest.mark.django_db

Status = RelationshipDeclaration.Status


def declare(user, **overrides) -> RelationshipDeclaration:
    fields = {
        "relationship_with": "learner",
        "kind": "relative",
        "who": "My niece, Year 4",
        "nature": "Her mother is my sister; we meet at family gatherings.",
        **overrides,
    }
    return rel.declaration_create(by=user, **fields)


def discuss(declaration, by, *, dsl, head, **overrides):
    fields = {
        "discussed_on": timezone.localdate(),
        "discussed_with_dsl": dsl,
        "discussed_with_head": head,
        "outcome": "Family contact is private life; school matters go through the office.",
        "arrangements": "No school matters by personal phone.",
        **overrides,
    }
    return rel.declaration_discuss(declaration=declaration, by=by, **fields)


@pytest.fixture
def other_teacher(db):
    user = factories.UserFactory(username="teacher2", roles=["staff"], first_name="Tess")
    factories.StaffMemberFactory(user=user, first_name="Tess", last_name="Second")
    return user


# Declaring


def test_a_member_of_staff_declares_for_themselves(teacher):
    declaration = declare(teacher)
    assert declaration.staff == teacher.staff_member
    assert declaration.status == Status.DECLARED
    assert declaration.reference == f"REL-{declaration.pk:04d}"
    assert declaration.history.first().history_type == "+"


@pytest.mark.parametrize("role", ["office", "governor", "outsider"])
def test_the_office_governors_and_no_role_cannot_declare(users, role):
    with pytest.raises(Refused, match="declare their own"):
        declare(users[role])


def test_a_login_without_a_staff_record_cannot_declare(db):
    user = factories.UserFactory(username="nostaff", roles=["staff"])
    with pytest.raises(Refused, match="not linked to an active staff record"):
        declare(user)


def test_a_member_of_staff_who_has_left_cannot_declare(teacher):
    staff = teacher.staff_member
    staff.active = False
    staff.save()
    with pytest.raises(Refused, match="not linked to an active staff record"):
        declare(teacher)


@pytest.mark.parametrize("field", ["who", "nature"])
def test_who_and_the_circumstances_are_required(teacher, field):
    with pytest.raises(Refused, match="Say who"):
        declare(teacher, **{field: "   "})


def test_a_choice_outside_the_list_is_refused(teacher):
    with pytest.raises(ValueError):
        declare(teacher, kind="enemy")


def test_the_declare_page_saves_and_shows_it_in_my_declarations(client, teacher):
    client.force_login(teacher)
    response = client.post(
        reverse("compliance:relationship_declare"),
        {
            "relationship_with": "parent",
            "kind": "friend",
            "who": "A parent in 3B",
            "nature": "We are old school friends.",
        },
    )
    assert response.status_code == 302
    declaration = RelationshipDeclaration.objects.get()
    assert declaration.staff == teacher.staff_member
    page = client.get(reverse("compliance:relationship_mine")).content.decode()
    assert declaration.reference in page
    assert "A parent in 3B" in page


def test_a_bad_form_keeps_what_was_typed(client, teacher):
    client.force_login(teacher)
    response = client.post(
        reverse("compliance:relationship_declare"),
        {"relationship_with": "learner", "kind": "", "who": "Typed", "nature": "Kept"},
    )
    assert response.status_code == 200
    assert "Typed" in response.content.decode()
    assert not RelationshipDeclaration.objects.exists()


# Who sees what


def test_staff_see_only_their_own(client, teacher, other_teacher):
    mine = declare(teacher)
    theirs = declare(other_teacher, who="Someone else entirely")
    client.force_login(teacher)
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(theirs.get_absolute_url()).status_code == 404
    page = client.get(reverse("compliance:relationship_mine")).content.decode()
    assert "Someone else entirely" not in page
    assert client.get(reverse("compliance:relationship_list")).status_code == 403


@pytest.mark.parametrize("role", ["office", "governor"])
def test_the_office_and_governors_see_none(client, users, teacher, role):
    declaration = declare(teacher)
    client.force_login(users[role])
    assert client.get(declaration.get_absolute_url()).status_code == 403
    assert client.get(reverse("compliance:relationship_list")).status_code == 403
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Pre-existing relationships" not in dashboard


@pytest.mark.parametrize("role", ["dsl", "deputy_dsl", "headteacher"])
def test_the_leads_see_every_declaration(client, users, teacher, other_teacher, role):
    declare(teacher, who="First one")
    declare(other_teacher, who="Second one")
    client.force_login(users[role])
    page = client.get(reverse("compliance:relationship_list")).content.decode()
    assert "Tom Teacher" in page and "Tess Second" in page
    assert "2 found" in page


def test_the_list_filters_searches_and_pages(client, dsl, headteacher, teacher, other_teacher):
    for i in range(27):
        declare(teacher, who=f"Person {i}")
    discussed = declare(other_teacher, who="The discussed one")
    discuss(discussed, headteacher, dsl=dsl, head=headteacher)
    client.force_login(dsl)
    url = reverse("compliance:relationship_list")
    assert "28 found" in client.get(url).content.decode()
    page = client.get(url, {"status": "discussed"}).content.decode()
    assert "1 found" in page and "Tess Second" in page
    assert "1 found" in client.get(url, {"q": "Tess"}).content.decode()
    second = client.get(url, {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
    # junk in the filter is a form error or ignored, never a server error
    assert client.get(url, {"status": "nonsense", "page": "x"}).status_code == 200


def test_opening_a_declaration_is_logged(client, dsl, teacher):
    declaration = declare(teacher)
    client.force_login(dsl)
    client.get(declaration.get_absolute_url())
    logged = RecordAccess.objects.get()
    assert logged.user == dsl
    assert logged.object_id == str(declaration.pk)


# The discussion


def test_the_dsl_records_the_discussion(client, dsl, headteacher, teacher, community):
    declaration = declare(teacher)
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:relationship_discuss", args=[declaration.pk]),
        {
            "version": declaration.version,
            "discussed_on": timezone.localdate().isoformat(),
            "discussed_with_dsl": dsl.pk,
            "discussed_with_head": headteacher.pk,
            "outcome": "Agreed: office only.",
            "arrangements": "Contact through the school office.",
            "learners": [community["learner"].pk],
        },
    )
    assert response.status_code == 302, response.content.decode()
    declaration.refresh_from_db()
    assert declaration.status == Status.DISCUSSED
    assert declaration.discussion_recorded_by == dsl
    assert declaration.discussed_with_head == headteacher
    assert list(declaration.learners.all()) == [community["learner"]]
    # the declarer sees the outcome, not the learner records linked
    client.force_login(teacher)
    page = client.get(declaration.get_absolute_url()).content.decode()
    assert "Agreed: office only." in page
    assert "Amira Khan" not in page


def test_a_deputy_who_is_not_the_head_cannot_record_it(
    client, deputy_dsl, dsl, headteacher, teacher
):
    declaration = declare(teacher)
    with pytest.raises(Refused, match="DSL or the headteacher records"):
        discuss(declaration, deputy_dsl, dsl=dsl, head=headteacher)
    client.force_login(deputy_dsl)
    url = reverse("compliance:relationship_discuss", args=[declaration.pk])
    assert client.get(url).status_code == 403


def test_no_one_records_the_discussion_of_their_own_declaration(
    client, dsl, deputy_dsl, headteacher
):
    declaration = declare(dsl)
    with pytest.raises(Refused, match="Someone other than"):
        discuss(declaration, dsl, dsl=deputy_dsl, head=headteacher)
    client.force_login(dsl)
    url = reverse("compliance:relationship_discuss", args=[declaration.pk])
    assert client.get(url).status_code == 403
    # the head records it, with a deputy as the safeguarding lead in the room
    discuss(declaration, headteacher, dsl=deputy_dsl, head=headteacher)


def test_the_declarer_cannot_be_named_as_the_dsl_or_head_in_it(dsl, deputy_dsl, headteacher):
    declaration = declare(headteacher)  # the head is also a deputy DSL
    with pytest.raises(Refused, match="cannot also be"):
        discuss(declaration, dsl, dsl=headteacher, head=headteacher)


def test_the_people_named_must_hold_the_roles(dsl, headteacher, teacher, other_teacher, governor):
    declaration = declare(teacher)
    with pytest.raises(Refused, match="Name the DSL"):
        discuss(declaration, dsl, dsl=other_teacher, head=headteacher)
    with pytest.raises(Refused, match="Name the headteacher"):
        discuss(declaration, dsl, dsl=dsl, head=governor)
    headteacher.is_active = False
    headteacher.save()
    with pytest.raises(Refused, match="Name the headteacher"):
        discuss(declaration, dsl, dsl=dsl, head=headteacher)


def test_the_discussion_date_is_not_in_the_future_or_before_the_declaration(
    dsl, headteacher, teacher
):
    declaration = declare(teacher)
    today = timezone.localdate()
    with pytest.raises(Refused, match="once it has taken place"):
        discuss(
            declaration, dsl, dsl=dsl, head=headteacher, discussed_on=today + datetime.timedelta(1)
        )
    with pytest.raises(Refused, match="before the declaration"):
        discuss(
            declaration, dsl, dsl=dsl, head=headteacher, discussed_on=today - datetime.timedelta(1)
        )


def test_an_outcome_is_required(dsl, headteacher, teacher):
    declaration = declare(teacher)
    with pytest.raises(Refused, match="outcome"):
        discuss(declaration, dsl, dsl=dsl, head=headteacher, outcome="  ")
    declaration.refresh_from_db()
    assert declaration.status == Status.DECLARED


def test_a_stale_discussion_form_is_refused_with_both_versions(client, dsl, headteacher, teacher):
    declaration = declare(teacher)
    stale = declaration.version
    discuss(declaration, headteacher, dsl=dsl, head=headteacher, outcome="First outcome")
    client.force_login(dsl)
    response = client.post(
        reverse("compliance:relationship_discuss", args=[declaration.pk]),
        {
            "version": stale,
            "discussed_on": timezone.localdate().isoformat(),
            "discussed_with_dsl": dsl.pk,
            "discussed_with_head": headteacher.pk,
            "outcome": "Second outcome",
        },
    )
    assert response.status_code == 409
    declaration.refresh_from_db()
    assert declaration.outcome == "First outcome"


def test_a_later_discussion_keeps_the_earlier_outcome_in_history(dsl, headteacher, teacher):
    declaration = declare(teacher)
    discuss(declaration, dsl, dsl=dsl, head=headteacher, outcome="First outcome")
    discuss(declaration, headteacher, dsl=dsl, head=headteacher, outcome="Second outcome")
    outcomes = list(declaration.history.order_by("history_date").values_list("outcome", flat=True))
    assert "First outcome" in outcomes and outcomes[-1] == "Second outcome"


def test_the_database_refuses_a_discussion_without_its_parts(teacher):
    declaration = declare(teacher)
    declaration.status = Status.DISCUSSED
    with pytest.raises(IntegrityError), transaction.atomic():
        declaration.save()


def test_the_database_refuses_an_end_without_why(teacher):
    declaration = declare(teacher)
    declaration.status = Status.ENDED
    declaration.ended_at = timezone.now()
    declaration.ended_by = teacher
    with pytest.raises(IntegrityError), transaction.atomic():
        declaration.save()


# Re-confirming after a review, and ending


def _review(dsl, number="9.9"):
    return rs.review_record(
        by=dsl,
        trigger="annual",
        changes="Annual review.",
        version_number=number,
        date_written=timezone.localdate(),
    )


def test_a_review_asks_the_declarer_to_confirm_again(client, dsl, teacher, other_teacher):
    declaration = declare(teacher)
    assert not rel.needs_reconfirming(declaration)
    _review(dsl)
    declaration.refresh_from_db()
    assert rel.needs_reconfirming(declaration)
    client.force_login(teacher)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "1 of your declarations to re-confirm" in dashboard
    with pytest.raises(Refused, match="Only the person who declared it"):
        rel.declaration_confirm(declaration=declaration, by=dsl)
    client.post(reverse("compliance:relationship_confirm", args=[declaration.pk]))
    declaration.refresh_from_db()
    assert not rel.needs_reconfirming(declaration)
    assert "declarations to re-confirm" not in client.get(reverse("dashboard")).content.decode()


def test_another_member_of_staff_cannot_confirm_or_end_it(client, teacher, other_teacher):
    declaration = declare(teacher)
    client.force_login(other_teacher)
    url = reverse("compliance:relationship_end", args=[declaration.pk])
    assert client.post(url, {"reason": "Not mine"}).status_code == 404
    assert (
        client.post(reverse("compliance:relationship_confirm", args=[declaration.pk])).status_code
        == 404
    )
    declaration.refresh_from_db()
    assert declaration.status == Status.DECLARED


def test_ending_needs_a_reason_and_happens_once(client, teacher, dsl, deputy_dsl):
    declaration = declare(teacher)
    with pytest.raises(Refused, match="Say why"):
        rel.declaration_end(declaration=declaration, by=teacher, reason=" ")
    with pytest.raises(Refused, match="ends a declaration"):
        rel.declaration_end(declaration=declaration, by=deputy_dsl, reason="Moved away")
    client.force_login(teacher)
    client.post(reverse("compliance:relationship_end", args=[declaration.pk]), {"reason": "Moved"})
    declaration.refresh_from_db()
    assert declaration.status == Status.ENDED and declaration.ended_by == teacher
    with pytest.raises(Refused, match="already ended"):
        rel.declaration_end(declaration=declaration, by=dsl, reason="Again")
    with pytest.raises(Refused, match="no longer applies"):
        rel.declaration_confirm(declaration=declaration, by=teacher)
    with pytest.raises(Refused, match="no longer applies"):
        discuss(declaration, dsl, dsl=dsl, head=dsl)
    # kept, never deleted
    assert RelationshipDeclaration.objects.filter(pk=declaration.pk).exists()


def test_the_dsl_ends_one(dsl, teacher):
    declaration = declare(teacher)
    rel.declaration_end(declaration=declaration, by=dsl, reason="The learner has left.")
    declaration.refresh_from_db()
    assert declaration.ended_by == dsl


# Dashboard, history, subject access, demo


def test_the_leads_dashboard_counts_those_awaiting_discussion(client, dsl, teacher):
    declare(teacher)
    declare(teacher)
    client.force_login(dsl)
    page = client.get(reverse("dashboard")).content.decode()
    assert "2 declarations awaiting discussion" in page


def test_the_history_page_is_for_the_dsl_and_head_not_the_declarer(client, dsl, teacher):
    declaration = declare(teacher)
    url = reverse("compliance:history", args=["relationship", declaration.pk])
    client.force_login(dsl)
    assert client.get(url).status_code == 200
    client.force_login(teacher)
    assert client.get(url).status_code == 403


def test_subject_access_for_a_member_of_staff_holds_their_declarations(teacher):
    declare(teacher, who="My niece, Year 4")
    section = next(s for s in subject_access.sections_for("staff") if s.key == "relationships")
    headers, rows = section.rows(teacher.staff_member)
    rows = list(rows)
    assert "Who" in headers
    assert rows[0][4] == "My niece, Year 4"


def test_the_demo_makes_one_in_every_state_once(dsl, headteacher, teacher, community):
    ctx = DemoContext(
        today=timezone.localdate(),
        now=timezone.now(),
        users={"dsl": dsl, "head": headteacher, "teacher": teacher},
    )
    seed(ctx)
    states = set(RelationshipDeclaration.objects.values_list("status", flat=True))
    assert states == set(Status.values)
    assert "already there" in seed(ctx)
    assert RelationshipDeclaration.objects.count() == 3
