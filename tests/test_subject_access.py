"""Subject access: the DSL exports everything held on one person, and the export is logged."""

import csv
import io
import zipfile

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from compliance import subject_access as sa
from compliance.models import Learner, RecordAccess
from tests import factories

pytestmark = pytest.mark.django_db


def _export_url(kind: str, pk) -> str:
    return reverse("compliance:subject_access_export", args=[kind, pk])


def _export(client, kind: str, person) -> zipfile.ZipFile:
    response = client.post(_export_url(kind, person.pk))
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert f"subject-access-{kind}-{person.pk}-" in disposition
    assert "no-store" in response["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(response.content))


def _csv(archive: zipfile.ZipFile, name: str) -> list[list[str]]:
    raw = archive.read(name)
    assert raw.startswith(b"\xef\xbb\xbf"), f"{name} has no byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _pdf_text(archive: zipfile.ZipFile, name: str) -> str:
    reader = PdfReader(io.BytesIO(archive.read(name)))
    return "\n".join(page.extract_text() for page in reader.pages)


def _exports_of(person) -> list[RecordAccess]:
    return list(
        RecordAccess.objects.filter(
            action=RecordAccess.Action.EXPORT,
            content_type=ContentType.objects.get_for_model(type(person)),
            object_id=str(person.pk),
        )
    )


@pytest.fixture
def changed_learner(community, office, headteacher):
    """Amira, renamed by the office, and her record once opened by the headteacher."""
    learner = community["learner"]
    learner.last_name = "Khan-Smith"
    learner._history_user = office
    learner.save()
    RecordAccess.objects.create(
        user=headteacher,
        content_type=ContentType.objects.get_for_model(Learner),
        object_id=str(learner.pk),
    )
    return learner


def test_dsl_exports_a_learner_as_pdf_and_csv(client, dsl, changed_learner):
    learner = changed_learner
    client.force_login(dsl)
    archive = _export(client, "learner", learner)

    pdf_name = f"subject-access-learner-{learner.pk}.pdf"
    assert set(archive.namelist()) == {
        pdf_name,
        "record.csv",
        "class.csv",
        "parents-carers.csv",
        "history.csv",
        "record-access.csv",
        "incidents.csv",
        "incident-notes.csv",
        "device-searches.csv",
        "README.txt",
    }

    text = _pdf_text(archive, pdf_name)
    assert "Victoria Road Primary School" in text
    assert "Amira Khan-Smith" in text
    assert "Hana Khan" in text  # a parent with parental responsibility
    assert "Olive Clerk" in text  # who changed the record
    assert "Alice Hawksley" in text  # who asked for the export

    record = dict(row for row in _csv(archive, "record.csv")[1:])
    assert record["First name"] == "Amira"
    assert record["Last name"] == "Khan-Smith"
    assert record["Date of birth"] == "17/05/2018"
    assert record["Class"] == "3A"
    assert "Version" not in record

    parents = _csv(archive, "parents-carers.csv")
    assert parents[0] == ["Name", "Relationship", "Phone", "Email"]
    assert parents[1:] == [["Hana Khan", "Mother", "01234 567890", ""]]

    assert _csv(archive, "class.csv")[1] == ["3A", "Year 3", "Tom Teacher"]

    history = _csv(archive, "history.csv")
    assert history[0][:6] == ["When", "Changed by", "Change", "Field", "From", "To"]
    assert ["Olive Clerk", "Changed", "Last name", "Khan", "Khan-Smith"] in [
        row[1:6] for row in history[1:]
    ]
    assert history[1][2] == "Created"

    opened = [row[1:] for row in _csv(archive, "record-access.csv")[1:]]
    assert ["Lisa Davis (head)", "Viewed"] in opened
    # the export is logged before the archive is made, so it lists itself
    assert ["Alice Hawksley (dsl)", "Exported"] in opened

    readme = archive.read("README.txt").decode()
    assert pdf_name in readme and "parents-carers.csv" in readme

    (logged,) = _exports_of(learner)
    assert logged.user == dsl


@pytest.mark.parametrize(
    "role", ["outsider", "governor", "staff", "office", "deputy_dsl", "headteacher"]
)
def test_only_the_dsl_may_export(client, users, community, role):
    learner = community["learner"]
    client.force_login(users[role])
    assert client.post(_export_url("learner", learner.pk)).status_code == 403
    assert client.get(reverse("compliance:subject_access_choose")).status_code == 403
    assert _exports_of(learner) == []


def test_anonymous_is_sent_to_log_in(client, community):
    response = client.post(_export_url("learner", community["learner"].pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_service_refuses_anyone_but_the_dsl(headteacher, community):
    with pytest.raises(PermissionDenied):
        sa.subject_access_export(person=community["learner"], by=headteacher)
    assert _exports_of(community["learner"]) == []


def test_export_needs_the_csrf_token(dsl, community):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dsl)
    assert client.post(_export_url("learner", community["learner"].pk)).status_code == 403


def test_a_formula_in_a_name_is_text_in_the_csv(client, dsl, community):
    learner = community["learner"]
    learner.first_name = '=HYPERLINK("http://evil.invalid","click")'
    learner.save()
    parent = community["parent"]
    parent.phone = "+44 1234 567890"
    parent.email = "@evil.invalid"
    parent.save()
    client.force_login(dsl)
    archive = _export(client, "learner", learner)

    record = dict(row for row in _csv(archive, "record.csv")[1:])
    assert record["First name"] == '\'=HYPERLINK("http://evil.invalid","click")'
    (row,) = _csv(archive, "parents-carers.csv")[1:]
    assert row[2] == "'+44 1234 567890"
    assert row[3] == "'@evil.invalid"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Amira", "Amira"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_safe(text, written):
    assert sa.csv_safe(text) == written


@pytest.mark.parametrize(("kind", "pk"), [("learner", 999999), ("parent", 999999), ("pupil", 1)])
def test_a_person_who_does_not_exist_is_404(client, dsl, community, kind, pk):
    client.force_login(dsl)
    assert client.post(_export_url(kind, pk)).status_code == 404
    assert not RecordAccess.objects.filter(action=RecordAccess.Action.EXPORT).exists()


@pytest.mark.parametrize(
    ("kind", "person_key", "sections"),
    [
        (
            "learner",
            "learner",
            {"class", "parents-carers", "incidents", "incident-notes", "device-searches"},
        ),
        ("parent", "parent", {"learners", "search-consents", "incident-contacts"}),
        (
            "staff",
            "staff",
            {
                "login",
                "classes-taught",
                "login-history",
                "incidents",
                "incident-notes",
                "relationships",
            },
        ),
        ("visitor", "visitor", {"visits", "incidents", "incident-notes"}),
    ],
)
def test_every_kind_of_person_can_be_exported(client, dsl, community, kind, person_key, sections):
    person = community[person_key]
    client.force_login(dsl)
    archive = _export(client, kind, person)
    expected = {f"{key}.csv" for key in {"record", "history", "record-access", *sections}}
    assert set(archive.namelist()) == {
        f"subject-access-{kind}-{person.pk}.pdf",
        "README.txt",
        *expected,
    }
    assert person.full_name in _pdf_text(archive, f"subject-access-{kind}-{person.pk}.pdf")
    (logged,) = _exports_of(person)
    assert logged.user == dsl


def test_a_parent_lists_their_learners(client, dsl, community):
    client.force_login(dsl)
    archive = _export(client, "parent", community["parent"])
    (row,) = _csv(archive, "learners.csv")[1:]
    assert row[:4] == ["Amira Khan", "17/05/2018", "Year 3", "3A"]


def test_a_staff_login_is_exported_without_its_password(client, dsl, teacher, community):
    client.force_login(dsl)
    archive = _export(client, "staff", teacher.staff_member)
    login = dict(row for row in _csv(archive, "login.csv")[1:])
    assert login["Username"] == "teacher"
    assert login["Roles"] == "Staff"
    assert _csv(archive, "classes-taught.csv")[1] == ["3A", "Year 3"]
    assert len(_csv(archive, "login-history.csv")) > 1
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert teacher.password.encode() not in everything
    assert b"md5$" not in everything and b"argon2" not in everything
    assert b"assword" not in b"".join(
        archive.read(name) for name in archive.namelist() if name.endswith(".csv")
    )


def test_a_visitor_lists_their_visits(client, dsl, community):
    client.force_login(dsl)
    archive = _export(client, "visitor", community["visitor"])
    (row,) = _csv(archive, "visits.csv")[1:]
    assert row[2:] == ["Meeting", "Tom Teacher"]


def test_no_export_is_logged_when_the_archive_cannot_be_made(dsl, community, monkeypatch):
    def broken(context):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(sa, "_pdf", broken)
    with pytest.raises(RuntimeError):
        sa.subject_access_export(person=community["learner"], by=dsl)
    assert _exports_of(community["learner"]) == []


def test_a_higher_app_adds_a_section(client, dsl, community, monkeypatch):
    monkeypatch.setattr(sa, "_SECTIONS", dict(sa._SECTIONS))
    sa.register_section(
        sa.SubjectSection(
            key="device-loans",
            title="Device loans",
            applies_to={sa.PersonKind.LEARNER},
            rows=lambda person: (("Asset", "Out"), [("iPad 7", None)]),
        )
    )
    client.force_login(dsl)
    archive = _export(client, "learner", community["learner"])
    assert _csv(archive, "device-loans.csv") == [["Asset", "Out"], ["iPad 7", ""]]
    assert "Device loans" in _pdf_text(
        archive, f"subject-access-learner-{community['learner'].pk}.pdf"
    )
    archive = _export(client, "visitor", community["visitor"])
    assert "device-loans.csv" not in archive.namelist()


def test_a_section_key_is_a_file_name_and_is_not_taken_twice(monkeypatch):
    monkeypatch.setattr(sa, "_SECTIONS", dict(sa._SECTIONS))

    def rows(person):
        return (), []

    with pytest.raises(ValueError):
        sa.register_section(sa.SubjectSection("../x", "Bad", {"learner"}, rows))
    with pytest.raises(ValueError):
        sa.register_section(sa.SubjectSection("pets", "Pets", {"pupil"}, rows))
    with pytest.raises(ValueError):
        sa.register_section(sa.SubjectSection("history", "Another", {"learner"}, rows))


def test_the_chooser_finds_people_and_offers_an_export(client, dsl, community):
    client.force_login(dsl)
    url = reverse("compliance:subject_access_choose")
    page = client.get(url, {"kind": "learner", "q": "khan"}).content.decode()
    assert "Amira Khan" in page
    assert "Zed Other" not in page
    assert _export_url("learner", community["learner"].pk) in page
    assert "csrfmiddlewaretoken" in page
    assert "respect confidentiality" in page  # the policy's rule, where the DSL acts

    page = client.get(url, {"kind": "parent", "q": "hana"}).content.decode()
    assert "Hana Khan" in page and "Mother of Amira Khan" in page
    page = client.get(url, {"kind": "visitor"}).content.decode()
    assert escape(community["visitor"].full_name) in page


def test_the_chooser_shows_a_bad_kind_as_an_error(client, dsl, community):
    client.force_login(dsl)
    response = client.get(reverse("compliance:subject_access_choose"), {"kind": "pupil"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def _count(client, params: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("compliance:subject_access_choose"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("kind", ["learner", "parent", "staff", "visitor"])
def test_the_chooser_runs_a_fixed_number_of_queries(client, dsl, community, kind):
    client.force_login(dsl)
    small = _count(client, {"kind": kind})
    form_class = community["my_class"]
    for _ in range(30):
        learner = factories.LearnerFactory(form_class=form_class)
        factories.ParentCarerFactory(learners=[learner])
        user = factories.UserFactory()
        factories.StaffMemberFactory(user=user)
        factories.VisitFactory()
    # the page shows at most 25, whatever the number held
    assert _count(client, {"kind": kind}) == small
    page = client.get(reverse("compliance:subject_access_choose"), {"kind": kind})
    assert len(page.context["rows"]) == 25
