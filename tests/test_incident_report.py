"""Reporting a concern or breach, and the reporter's own reports (policy sections 3 and 9).

Every staff role reports (the office too); governors and logins without a role are refused.
A reporter sees their own reports and nothing else. Before triage the reporter corrects
their account; afterwards they only add notes. Sharing nudes or semi-nudes shows the
guidance's instruction and takes no file of any kind. Every opening of a report is logged.
Bad input is refused with the reason next to the field, never with a server error.
"""

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

from compliance.models import LinkedPolicy, RecordAccess
from compliance.transitions import Refused
from incidents import services
from incidents.models import (
    RISK_AREA,
    Attachment,
    Category,
    Incident,
    Involvement,
    Note,
    categories_by_risk_area,
)
from tests import factories

pytestmark = pytest.mark.django_db

REPORTING_ROLES = ["staff", "office", "deputy_dsl", "headteacher", "dsl"]
REFUSED_ROLES = ["governor", "outsider"]

ACCOUNT = "Two pupils were filming each other on a phone during the maths lesson."
NUDES_WORDS = "Do not view, copy, print, share, store or ask for the image."

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a directory of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def classroom(db):
    # Locations come from a data migration that a flushed database has lost
    return factories.LocationFactory(name="Classroom", restricted=True)


@pytest.fixture
def policies(db):
    return [
        LinkedPolicy.objects.get_or_create(name=name)[0]
        for name in ("Anti-bullying policy", "Behaviour for learning and conduct policy")
    ]


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def form_data(location, *, people=(), **changes) -> dict:
    """What a reporter types: the report, and up to five people as (value, part)."""
    data = {
        "occurred_at": _local(timezone.now() - datetime.timedelta(minutes=10)),
        "location": str(location.pk),
        "category": Category.RESTRICTED_AREA.value,
        "account": ACCOUNT,
        "people-TOTAL_FORMS": "5",
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "5",
    }
    for index, (value, part) in enumerate(people):
        data[f"people-{index}-person"] = value
        data[f"people-{index}-part"] = part
    data.update(changes)
    return data


def make_report(user, location, **extra) -> Incident:
    kwargs = {
        "occurred_at": timezone.now() - datetime.timedelta(minutes=5),
        "location": location,
        "category": Category.RESTRICTED_AREA,
        "account": ACCOUNT,
        "people": [],
        "by": user,
    }
    kwargs.update(extra)
    return services.incident_report(**kwargs)


def triage(incident: Incident, dsl) -> Incident:
    return services.incident_triage(incident=incident, by=dsl)


def _detail_url(incident) -> str:
    return reverse("incidents:my_report_detail", args=[incident.pk])


# Who reports -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REPORTING_ROLES)
def test_every_staff_role_opens_the_form_and_reports(client, users, classroom, role):
    client.force_login(users[role])
    assert client.get(reverse("incidents:report")).status_code == 200
    response = client.post(reverse("incidents:report"), form_data(classroom))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incidents:report_sent", args=[incident.pk])
    assert incident.reported_by == users[role]
    assert incident.status == Incident.Status.REPORTED
    assert incident.account == ACCOUNT


@pytest.mark.parametrize("role", REFUSED_ROLES)
@pytest.mark.parametrize(
    "name", ["incidents:report", "incidents:my_reports"], ids=["form", "my_reports"]
)
def test_governors_and_outsiders_are_refused(client, users, classroom, role, name):
    client.force_login(users[role])
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), form_data(classroom)).status_code in (403, 405)
    assert not Incident.objects.exists()


def test_the_confirmation_gives_the_reference_and_what_happens_next(client, teacher, classroom):
    client.force_login(teacher)
    response = client.post(reverse("incidents:report"), form_data(classroom), follow=True)
    incident = Incident.objects.get()
    page = response.content.decode()
    assert incident.reference in page
    assert "The DSL has been told" in page
    assert "What happens next" in page
    assert NUDES_WORDS not in page


def test_the_form_marks_the_restricted_areas(client, teacher, classroom):
    factories.LocationFactory(name="Staff room", restricted=False)
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    restricted, elsewhere = page.split('<optgroup label="Elsewhere">')
    assert 'label="Restricted areas: no phones or personal devices (section 3)"' in restricted
    assert f'<option value="{classroom.pk}">Classroom</option>' in restricted.split("<optgroup")[-1]
    assert "Staff room" in elsewhere.split("</optgroup>")[0]


def test_when_defaults_to_now(client, teacher, classroom):
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    now = timezone.localtime()
    found = re.search(r'name="occurred_at" value="([^"]+)"', page).group(1)
    shown = datetime.datetime.strptime(found, "%Y-%m-%dT%H:%M")
    assert abs(shown - now.replace(tzinfo=None)) < datetime.timedelta(minutes=2)


def test_people_with_their_parts_and_policies_are_recorded(
    client, teacher, community, classroom, policies
):
    other_staff = factories.StaffMemberFactory(first_name="Wendy", last_name="Colleague")
    visitor = community["visitor"]
    client.force_login(teacher)
    data = form_data(
        classroom,
        people=[
            (f"learner-{community['learner'].pk}", "affected"),
            (f"staff-{other_staff.pk}", "subject"),
            (f"visitor-{visitor.pk}", "witness"),
        ],
        policies=[str(p.pk) for p in policies],
    )
    assert client.post(reverse("incidents:report"), data).status_code == 302
    incident = Incident.objects.get()
    got = {(i.learner_id, i.staff_id, i.visitor_id, i.part) for i in incident.people.all()}
    assert got == {
        (community["learner"].pk, None, None, "affected"),
        (None, other_staff.pk, None, "subject"),
        (None, None, visitor.pk, "witness"),
    }
    assert set(incident.policies.all()) == set(policies)
    assert all(i.added_by == teacher for i in incident.people.all())


def test_a_teacher_names_only_learners_they_teach(client, teacher, community, classroom):
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    assert "Amira Khan (3A)" in page
    assert "Zed Other" not in page
    data = form_data(classroom, people=[(f"learner-{community['other_learner'].pk}", "subject")])
    response = client.post(reverse("incidents:report"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_office_names_any_learner_on_roll(client, office, community, classroom):
    client.force_login(office)
    page = client.get(reverse("incidents:report")).content.decode()
    assert "Amira Khan (3A)" in page
    assert "Zed Other (3B)" in page


def test_a_person_needs_a_part_and_a_part_needs_a_person(client, teacher, community, classroom):
    client.force_login(teacher)
    data = form_data(classroom, people=[(f"learner-{community['learner'].pk}", "")])
    data["people-1-part"] = "witness"
    page = client.post(reverse("incidents:report"), data).content.decode()
    assert "Say whether they are the subject, affected or a witness." in page
    assert "Choose who, or clear their part." in page
    assert escape(ACCOUNT) in page  # what was typed is kept
    assert not Incident.objects.exists()


def test_the_same_person_twice_is_refused(client, teacher, community, classroom):
    client.force_login(teacher)
    value = f"learner-{community['learner'].pk}"
    data = form_data(classroom, people=[(value, "subject"), (value, "affected")])
    page = client.post(reverse("incidents:report"), data).content.decode()
    assert "Name each person once" in page
    assert not Incident.objects.exists()


def test_a_time_in_the_future_is_refused_next_to_the_field(client, teacher, classroom):
    client.force_login(teacher)
    later = _local(timezone.now() + datetime.timedelta(hours=2))
    response = client.post(reverse("incidents:report"), form_data(classroom, occurred_at=later))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_occurred_at_error"' in page
    assert "The incident cannot have happened in the future." in page
    assert f'value="{later}"' in page
    assert escape(ACCOUNT) in page
    assert not Incident.objects.exists()


def test_a_refusal_by_the_service_is_shown_with_what_was_typed(
    client, teacher, classroom, monkeypatch
):
    def refuse(**kwargs):
        raise Refused("Could not give the report a reference; please try again.")

    monkeypatch.setattr(services, "incident_report", refuse)
    client.force_login(teacher)
    response = client.post(reverse("incidents:report"), form_data(classroom))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Could not give the report a reference" in page
    assert escape(ACCOUNT) in page


# Bad input: refused, never a server error ---------------------------------------------------

_NO_MANAGEMENT = dict.fromkeys(
    ["people-TOTAL_FORMS", "people-INITIAL_FORMS", "people-MIN_NUM_FORMS", "people-MAX_NUM_FORMS"]
)

BAD_REPORTS = {
    "nothing": {"__all__": None},
    "no_management_form": _NO_MANAGEMENT,
    "a_thousand_rows": {"people-TOTAL_FORMS": "1000"},
    "rows_not_a_number": {"people-TOTAL_FORMS": "many"},
    "person_not_a_pk": {"people-0-person": "learner-abc", "people-0-part": "subject"},
    "person_unknown": {"people-0-person": "learner-99999999", "people-0-part": "subject"},
    "person_odd_kind": {"people-0-person": "parent-1", "people-0-part": "subject"},
    "part_unknown": {"people-0-person": "", "people-0-part": "villain"},
    "category_unknown": {"category": "bogus"},
    "location_not_a_pk": {"location": "x"},
    "location_unknown": {"location": "99999999"},
    "year_one": {"occurred_at": "0001-01-01T00:00"},
    "year_9999": {"occurred_at": "9999-12-31T23:59"},
    "not_a_date": {"occurred_at": "yesterday"},
    "account_blank": {"account": "   "},
    "account_nul": {"account": "a\x00b"},
    "account_huge": {"account": "x" * 20001},
    "policy_not_a_pk": {"policies": ["abc"]},
    "policy_unknown": {"policies": ["99999999"]},
    "markup": {"account": "</textarea><script>alert(1)</script>", "category": "<b>x</b>"},
}


@pytest.mark.parametrize("case", sorted(BAD_REPORTS))
def test_bad_input_to_the_report_never_500s(client, teacher, community, classroom, case):
    client.force_login(teacher)
    changes = BAD_REPORTS[case]
    data = {} if "__all__" in changes else form_data(classroom)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        elif key != "__all__":
            data[key] = value
    response = client.post(reverse("incidents:report"), data)
    assert response.status_code == 200, case
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert "Not sent" in page
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "name,data",
    [
        ("incidents:report_amend", {"account": "a\x00b"}),
        ("incidents:report_amend", {}),
        ("incidents:report_note", {"text": "x" * 10001}),
        ("incidents:report_note", {"text": "<script>alert(1)</script>\x00"}),
        ("incidents:report_person", {"person": "learner-zz", "part": "subject"}),
        ("incidents:report_person", {"person": "", "part": ""}),
        ("incidents:report_attachment", {"description": "no file"}),
        ("incidents:report_attachment", {"upload": "not a file", "description": "x"}),
    ],
)
def test_bad_input_to_the_steps_never_500s(client, teacher, classroom, name, data):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    response = client.post(reverse(name, args=[incident.pk]), data)
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()
    incident.refresh_from_db()
    assert incident.account == ACCOUNT
    assert not Note.objects.exists()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("pk", ["0", "99999999"])
def test_an_unknown_report_is_404(client, teacher, pk):
    client.force_login(teacher)
    assert client.get(f"/incidents/mine/{pk}/").status_code == 404
    assert client.post(f"/incidents/mine/{pk}/note/", {"text": "x"}).status_code == 404


# A reporter sees their own reports and nothing else -----------------------------------------


def test_a_teacher_sees_only_their_own_reports(client, teacher, office, dsl, classroom):
    mine = make_report(teacher, classroom)
    theirs = make_report(office, classroom, account="The office's own report.")
    client.force_login(teacher)
    listing = client.get(reverse("incidents:my_reports")).content.decode()
    assert mine.reference in listing
    assert theirs.reference not in listing
    assert client.get(_detail_url(mine)).status_code == 200
    assert client.get(_detail_url(theirs)).status_code == 404
    assert client.get(reverse("incidents:report_sent", args=[theirs.pk])).status_code == 404
    for step, data in [
        ("incidents:report_amend", {"account": "changed"}),
        ("incidents:report_note", {"text": "a note"}),
    ]:
        assert client.post(reverse(step, args=[theirs.pk]), data).status_code == 404
    theirs.refresh_from_db()
    assert theirs.account == "The office's own report."
    assert not Note.objects.exists()


@pytest.mark.parametrize("role", ["office", "deputy_dsl", "headteacher", "dsl"])
def test_others_get_404_on_a_teachers_report_here(client, users, classroom, role):
    """The DSL team works on the incident's own page, not on the reporter's."""
    incident = make_report(users["staff"], classroom)
    client.force_login(users[role])
    assert client.get(_detail_url(incident)).status_code == 404


def test_my_reports_shows_statuses_and_filters_by_them(client, teacher, dsl, classroom):
    waiting = make_report(teacher, classroom)
    triaged = triage(make_report(teacher, classroom), dsl)
    client.force_login(teacher)
    page = client.get(reverse("incidents:my_reports")).content.decode()
    assert waiting.reference in page and triaged.reference in page
    assert "Reported</span>" in page and "Triaged</span>" in page
    page = client.get(reverse("incidents:my_reports") + "?status=triaged").content.decode()
    assert triaged.reference in page and waiting.reference not in page
    # an unknown status or page shows everything, not an error
    response = client.get(reverse("incidents:my_reports") + "?status=nope&page=zz")
    assert response.status_code == 200
    assert waiting.reference in response.content.decode()


def test_the_detail_shows_what_the_reporter_gave_and_not_the_dsl_teams_work(
    client, teacher, dsl, community, classroom
):
    incident = make_report(
        teacher,
        classroom,
        people=[services.Person(part="affected", learner=community["learner"])],
    )
    triage(incident, dsl)
    services.note_add(incident=incident, text="DSL: spoke to the family.", by=dsl)
    services.person_add(
        incident=incident,
        person=services.Person(part="witness", learner=community["other_learner"]),
        by=dsl,
    )
    client.force_login(teacher)
    page = client.get(_detail_url(incident)).content.decode()
    assert ACCOUNT in page
    assert "Amira Khan" in page
    assert "Zed Other" not in page
    assert "spoke to the family" not in page


# Corrections are addenda ------------------------------------------------------------------


def test_the_reporter_corrects_the_account_before_triage(client, teacher, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    assert 'action="{}"'.format(reverse("incidents:report_amend", args=[incident.pk])) in (
        client.get(_detail_url(incident)).content.decode()
    )
    corrected = ACCOUNT + " It was the science lesson, not maths."
    response = client.post(
        reverse("incidents:report_amend", args=[incident.pk]), {"account": corrected}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.account == corrected
    assert incident.version == 2


def test_after_triage_the_account_is_not_edited(client, teacher, dsl, classroom):
    incident = triage(make_report(teacher, classroom), dsl)
    client.force_login(teacher)
    page = client.get(_detail_url(incident)).content.decode()
    assert "Triaged: what you wrote is kept as written. Add a note instead." in page
    assert reverse("incidents:report_amend", args=[incident.pk]) not in page
    typed = "I want to change what I said."
    response = client.post(
        reverse("incidents:report_amend", args=[incident.pk]), {"account": typed}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "The report has been triaged: what you wrote is not edited now. Add a note instead." in page
    )
    assert typed in page  # what was typed is shown again, to move into a note
    assert 'id="id_account_error"' in page
    incident.refresh_from_db()
    assert incident.account == ACCOUNT


def test_notes_are_added_and_shown_before_and_after_triage(client, teacher, dsl, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    url = reverse("incidents:report_note", args=[incident.pk])
    assert client.post(url, {"text": "It was a blue phone."}).status_code == 302
    triage(incident, dsl)
    assert client.post(url, {"text": "The pupil told me later it was deleted."}).status_code == 302
    assert list(incident.notes.values_list("text", "written_by")) == [
        ("It was a blue phone.", teacher.pk),
        ("The pupil told me later it was deleted.", teacher.pk),
    ]
    page = client.get(_detail_url(incident)).content.decode()
    assert "It was a blue phone." in page
    assert "The pupil told me later it was deleted." in page


def test_a_blank_note_is_refused_next_to_the_field(client, teacher, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    response = client.post(reverse("incidents:report_note", args=[incident.pk]), {"text": "  "})
    assert response.status_code == 200
    assert 'id="id_text_error"' in response.content.decode()
    assert not Note.objects.exists()


def test_the_reporter_adds_a_person_before_triage_only(client, teacher, dsl, community, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    url = reverse("incidents:report_person", args=[incident.pk])
    value = f"learner-{community['learner'].pk}"
    assert client.post(url, {"person": value, "part": "witness"}).status_code == 302
    assert incident.people.get().learner == community["learner"]
    triage(incident, dsl)
    visitor = f"visitor-{community['visitor'].pk}"
    response = client.post(url, {"person": visitor, "part": "subject"})
    assert response.status_code == 200
    assert "Only the DSL team adds people once the report has been triaged." in (
        response.content.decode()
    )
    assert incident.people.count() == 1


def test_a_person_added_from_another_class_is_refused(client, teacher, community, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    url = reverse("incidents:report_person", args=[incident.pk])
    value = f"learner-{community['other_learner'].pk}"
    response = client.post(url, {"person": value, "part": "witness"})
    assert response.status_code == 200
    assert not Involvement.objects.exists()


# Sharing nudes or semi-nudes ---------------------------------------------------------------


def test_the_form_shows_the_instruction_next_to_the_nudes_category(client, teacher, classroom):
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    option = page.index('value="nudes"')
    box = page.index('data-testid="nudes-instruction"')
    # the next option in its group (conduct, in the 4 Cs)
    following = page.index('value="generative_ai"')
    assert option < box < following  # right after the option, before the next one
    assert NUDES_WORDS in page
    assert "Confiscate the device" in page
    assert "Tell the DSL" in page
    assert 'type="file"' not in page  # the report form offers no file at all
    assert '<script src="/static/js/report.js">' in page


def test_a_nudes_report_shows_the_instruction_and_takes_no_file(client, teacher, classroom, media):
    client.force_login(teacher)
    response = client.post(
        reverse("incidents:report"), form_data(classroom, category="nudes"), follow=True
    )
    incident = Incident.objects.get()
    assert NUDES_WORDS in response.content.decode()
    page = client.get(_detail_url(incident)).content.decode()
    assert NUDES_WORDS in page
    assert 'type="file"' not in page
    assert "No file of any kind is accepted on this report." in page
    upload = SimpleUploadedFile("screenshot.png", PNG, content_type="image/png")
    response = client.post(
        reverse("incidents:report_attachment", args=[incident.pk]),
        {"upload": upload, "description": "The image"},
    )
    assert response.status_code == 200
    assert "No file of any kind is accepted on this incident" in response.content.decode()
    assert not Attachment.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


# The 4 Cs and newer harms (KCSIE; issue 9) ----------------------------------------------

AI_WORDS = "even if it looks fake: a sexual image of a child made with AI is still illegal."
# the values recorded before the 4 Cs: they stay valid, so recorded incidents do too
EARLIER_VALUES = {
    "restricted_area",
    "abusive_message",
    "offensive_content",
    "illegal_content",
    "unauthorised_recording",
    "cyberbullying",
    "nudes",
    "staff_personal_contact",
    "visitor_misuse",
    "loss_theft_damage",
    "other",
}


def test_the_earlier_categories_are_kept_and_the_newer_harms_added():
    assert set(Category.values) >= EARLIER_VALUES
    for value in ("misinformation", "generative_ai", "ai_image", "grooming", "gambling", "scam"):
        assert value in Category.values
    # every category falls in exactly one of the 4 Cs (or "other")
    assert set(RISK_AREA) == set(Category)
    grouped = [c for _, categories in categories_by_risk_area() for c in categories]
    assert sorted(grouped) == sorted(Category) and len(grouped) == len(Category)


def test_the_form_groups_the_categories_under_the_4_cs(client, teacher, classroom):
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    for area, categories in categories_by_risk_area():
        group = page.split(f'data-risk-area="{area.value}"')[1].split("</fieldset>")[0]
        assert escape(area.label) in group
        for category in categories:
            assert f'value="{category.value}"' in group
    for category in Category:
        assert page.count(f'name="category" value="{category.value}"') == 1


def test_a_report_in_a_new_category_is_sent(client, teacher, classroom):
    client.force_login(teacher)
    response = client.post(
        reverse("incidents:report"), form_data(classroom, category="misinformation")
    )
    assert response.status_code == 302
    assert Incident.objects.get().category == Category.MISINFORMATION


def test_the_form_shows_the_ai_image_instruction_next_to_its_category(client, teacher, classroom):
    client.force_login(teacher)
    page = client.get(reverse("incidents:report")).content.decode()
    option = page.index('value="ai_image"')
    box = page.index('data-testid="no-files-instruction-ai_image"')
    assert option < box
    assert AI_WORDS in page
    # the box is only the AI image's: the nudes box says what it always said
    assert page.index('data-testid="nudes-instruction"') < option


def test_an_ai_image_report_shows_the_instruction_and_takes_no_file(
    client, teacher, classroom, media
):
    client.force_login(teacher)
    response = client.post(
        reverse("incidents:report"), form_data(classroom, category="ai_image"), follow=True
    )
    incident = Incident.objects.get()
    assert not incident.accepts_files
    assert AI_WORDS in response.content.decode()
    page = client.get(_detail_url(incident)).content.decode()
    assert AI_WORDS in page and 'type="file"' not in page
    upload = SimpleUploadedFile("deepfake.png", PNG, content_type="image/png")
    response = client.post(
        reverse("incidents:report_attachment", args=[incident.pk]),
        {"upload": upload, "description": "The image"},
    )
    assert response.status_code == 200
    assert "No file of any kind is accepted on this incident" in response.content.decode()
    # nor by the DSL, through the service
    dsl = factories.UserFactory(username="dsl2", roles=["dsl"])
    with pytest.raises(Refused, match="No file of any kind"):
        services.attachment_add(
            incident=incident,
            upload=SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf"),
            description="A letter",
            by=dsl,
        )
    assert not Attachment.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_the_dsl_sees_the_ai_image_guidance_on_the_incident_page(client, teacher, classroom):
    incident = make_report(teacher, classroom, category=Category.AI_IMAGE)
    dsl = factories.UserFactory(username="dsl2", roles=["dsl"])
    client.force_login(dsl)
    page = client.get(reverse("incidents:incident_detail", args=[incident.pk])).content.decode()
    guidance = page.split('data-testid="no-files-guidance"')[1].split("</section>")[0]
    assert AI_WORDS in guidance
    assert "No file of any kind is accepted on this incident." in guidance
    assert 'type="file"' not in page


def test_re_triage_into_the_ai_image_category_is_refused_while_a_file_is_attached(
    teacher, classroom, media
):
    dsl = factories.UserFactory(username="dsl2", roles=["dsl"])
    incident = make_report(teacher, classroom, category=Category.CYBERBULLYING)
    services.attachment_add(
        incident=incident,
        upload=SimpleUploadedFile("chat.png", PNG, content_type="image/png"),
        description="Screenshot of the chat",
        by=teacher,
    )
    with pytest.raises(Refused, match="AI-generated or altered image of a pupil"):
        services.incident_triage(incident=incident, by=dsl, category=Category.AI_IMAGE)
    incident.refresh_from_db()
    assert incident.category == Category.CYBERBULLYING
    assert incident.status == Incident.Status.REPORTED


def test_after_re_triage_into_the_ai_image_category_no_file_is_taken(teacher, classroom, media):
    dsl = factories.UserFactory(username="dsl2", roles=["dsl"])
    incident = make_report(teacher, classroom, category=Category.CYBERBULLYING)
    services.incident_triage(incident=incident, by=dsl, category=Category.AI_IMAGE)
    incident.refresh_from_db()
    assert incident.category == Category.AI_IMAGE
    for by in (teacher, dsl):
        with pytest.raises(Refused, match="No file of any kind"):
            services.attachment_add(
                incident=incident,
                upload=SimpleUploadedFile("x.png", PNG, content_type="image/png"),
                description="The picture",
                by=by,
            )
    assert not Attachment.objects.exists()


# Files -----------------------------------------------------------------------------------


def test_a_file_is_stored_under_a_server_made_name(client, teacher, classroom, media):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    upload = SimpleUploadedFile("../../Amira Khan phone.png", PNG, content_type="image/png")
    response = client.post(
        reverse("incidents:report_attachment", args=[incident.pk]),
        {"upload": upload, "description": "Screenshot of the message"},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.uploaded_by == teacher
    assert re.fullmatch(
        rf"incidents/\d{{4}}/{incident.reference}-\d{{20}}\.png", attachment.file.name
    ), attachment.file.name
    assert "Amira" not in attachment.file.name
    stored = media / attachment.file.name
    assert stored.read_bytes() == PNG
    page = client.get(_detail_url(incident)).content.decode()
    assert "Screenshot of the message" in page


def test_a_pdf_after_triage_is_accepted(client, teacher, dsl, classroom):
    incident = triage(make_report(teacher, classroom), dsl)
    client.force_login(teacher)
    upload = SimpleUploadedFile("letter.pdf", PDF, content_type="application/pdf")
    url = reverse("incidents:report_attachment", args=[incident.pk])
    assert client.post(url, {"upload": upload, "description": "Letter"}).status_code == 302
    assert Attachment.objects.get().file.name.endswith(".pdf")


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("photo.png", b"GIF89a" + b"\x00" * 32, "Attach a PDF, PNG or JPEG file."),
        ("notes.txt", b"just some text", "Attach a PDF, PNG or JPEG file."),
        ("page.html", b"<html><script>alert(1)</script>", "Attach a PDF, PNG or JPEG file."),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "The file is larger than 10 MB."),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)
def test_a_wrong_type_or_size_is_refused_next_to_the_field(
    client, teacher, classroom, name, content, reason
):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)
    upload = SimpleUploadedFile(name, content)
    response = client.post(
        reverse("incidents:report_attachment", args=[incident.pk]),
        {"upload": upload, "description": "What I was sent"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert reason in page
    assert 'id="id_upload_error"' in page
    assert 'value="What I was sent"' in page  # the description typed is kept
    assert not Attachment.objects.exists()


# Every opening is logged -------------------------------------------------------------------


def test_every_opening_of_a_report_is_logged(client, teacher, office, classroom):
    incident = make_report(teacher, classroom)
    client.force_login(teacher)

    def logged():
        return RecordAccess.objects.filter(
            user=teacher, object_id=str(incident.pk), content_type__model="incident"
        ).count()

    assert logged() == 0
    client.get(_detail_url(incident))
    client.get(_detail_url(incident))
    assert logged() == 2
    # a refused step shows the report again: another opening
    client.post(reverse("incidents:report_note", args=[incident.pk]), {"text": ""})
    assert logged() == 3
    client.get(reverse("incidents:report_sent", args=[incident.pk]))
    assert logged() == 4
    entry = RecordAccess.objects.filter(user=teacher).first()
    assert entry.action == RecordAccess.Action.VIEW
    assert timezone.now() - entry.at < datetime.timedelta(minutes=1)
    # someone else's 404 opens nothing
    client.force_login(office)
    client.get(_detail_url(incident))
    assert not RecordAccess.objects.filter(user=office).exists()


# The list runs a fixed number of queries ----------------------------------------------------


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Every page: the session, the user, the user's roles; the layout's school and policy
# version; the session saved again (savepoint, update, release). Then this page: the count
# of the reporter's reports, and the page of them with their locations joined.
_EVERY_PAGE = 3 + 2 + 3
MY_REPORTS_QUERIES = _EVERY_PAGE + 2


def test_my_reports_runs_a_fixed_number_of_queries(client, teacher, classroom):
    client.force_login(teacher)
    url = reverse("incidents:my_reports")
    factories.IncidentFactory.create_batch(10, reported_by=teacher, location=classroom)
    small = _count(client, url)
    factories.IncidentFactory.create_batch(90, reported_by=teacher, location=classroom)
    large = _count(client, url)
    assert small == large, f"{small} queries with 10 reports, {large} with 100"
    assert large == MY_REPORTS_QUERIES


# The dashboard -----------------------------------------------------------------------------


def test_the_dashboard_panel_links_to_the_form_and_my_reports(client, users, dsl, classroom):
    make_report(users["staff"], classroom)
    triage(make_report(users["staff"], classroom), dsl)
    client.force_login(users["staff"])
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-panel="report_concern"' in page
    assert reverse("incidents:report") in page
    assert reverse("incidents:my_reports") in page
    assert "Reported</a>: 1" in page and "Triaged</a>: 1" in page
    for role in REFUSED_ROLES:
        client.force_login(users[role])
        assert (
            'data-panel="report_concern"' not in client.get(reverse("dashboard")).content.decode()
        )
