"""Import from an MIS export: the services, the upload page and the `import_mis` command."""

import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.urls import reverse

from compliance import importers
from compliance.importers import import_learners, import_staff
from compliance.models import FormClass, Learner, ParentCarer, StaffMember, User, YearGroup
from compliance.policy import RULES
from tests import factories

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent.parent / "docs" / "samples"
URL = reverse("compliance:import")

LEARNER_HEADER = (
    "upn,first_name,last_name,date_of_birth,year_group,class,joined,left,"
    "contact1_first_name,contact1_last_name,contact1_relationship,contact1_phone,contact1_email,"
    "contact2_first_name,contact2_last_name,contact2_relationship,contact2_phone,contact2_email\n"
)
LEARNERS = LEARNER_HEADER + (
    "U001,Ada,Birch,14/03/2019,Year 3,Wrens,04/09/2023,,Mia,Birch,Mother,07700 900001,,,,,,\n"
    "U002,Ben,Cole,2019-01-02,3,Wrens,,,Tim,Cole,dad,,tim@example.com,Rae,Cole,MOTHER,07700 1,\n"
    "U003,Cara,Dunn,01/02/2022,Reception,Robins,01/09/2026,,,,,,,,,,,\n"
)
STAFF = (
    "Staff ID,First Name,Last Name,Email,Staff Type,Job Title,Active,Payroll\n"
    "S1,Rowan,Ash,r.ash@school.example,Teaching,Class teacher,yes,123\n"
    "S2,Iris,Pell,,support,Teaching assistant,,456\n"
    "S3,Felix,March,,CONTRACTOR,IT,no,789\n"
)


def counts() -> dict[str, int]:
    return {
        "learners": Learner.objects.count(),
        "classes": FormClass.objects.count(),
        "parents": ParentCarer.objects.count(),
        "staff": StaffMember.objects.count(),
        "users": User.objects.count(),
        "history": Learner.history.count()
        + FormClass.history.count()
        + ParentCarer.history.count()
        + StaffMember.history.count(),
    }


def problems(result) -> set[tuple[int, str]]:
    return {(error.line, error.column) for error in result.errors}


# Learners: good files


def test_learners_created_with_classes_and_contacts(dsl):
    result = import_learners(rows_or_file=LEARNERS, dry_run=False, user=dsl)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert (result.classes_created, result.contacts_created) == (2, 3)
    ada = Learner.objects.get(mis_id="U001")
    assert ada.date_of_birth == datetime.date(2019, 3, 14)
    assert ada.year_group == YearGroup.Y3
    assert ada.form_class.name == "Wrens"
    assert ada.form_class.year_group == YearGroup.Y3
    assert ada.joined == datetime.date(2023, 9, 4)
    ben = Learner.objects.get(mis_id="U002")
    assert {(p.first_name, p.relationship) for p in ben.parents_carers.all()} == {
        ("Tim", "father"),
        ("Rae", "mother"),
    }
    assert Learner.objects.get(mis_id="U003").form_class.year_group == YearGroup.RECEPTION


def test_second_import_of_the_same_file_changes_nothing(dsl):
    import_learners(rows_or_file=LEARNERS, dry_run=False, user=dsl)
    before = counts()

    result = import_learners(rows_or_file=LEARNERS, dry_run=False, user=dsl)

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert (result.classes_created, result.contacts_created, result.contacts_updated) == (0, 0, 0)
    assert counts() == before  # not even an empty history row


def test_changed_fields_are_updated(dsl, office):
    import_learners(rows_or_file=LEARNERS, dry_run=False, user=dsl)
    changed = LEARNERS.replace("U001,Ada,Birch", "U001,Ada,Birch-Lee").replace(
        "Mia,Birch,Mother,07700 900001", "MIA,birch,Mother,07700 999999"
    )

    result = import_learners(rows_or_file=changed, dry_run=False, user=office)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    assert (result.contacts_created, result.contacts_updated) == (0, 1)
    ada = Learner.objects.get(mis_id="U001")
    assert ada.last_name == "Birch-Lee"
    mother = ada.parents_carers.get()  # matched by name, ignoring case: not a second parent
    assert mother.phone == "07700 999999"
    assert ada.history.first().history_user == office
    assert mother.history.first().history_user == office


def test_existing_parent_matched_by_name_and_class_reused(dsl, community):
    learner = community["learner"]  # Amira Khan in 3A, whose mother is Hana Khan
    learner.mis_id = "K1"
    learner.save()
    csv = LEARNER_HEADER + (
        "K1,Amira,Khan,17/05/2018,Year 3,3a,01/09/2022,,hana,KHAN,mother,,hana@example.com,,,,,\n"
    )

    result = import_learners(rows_or_file=csv, dry_run=False, user=dsl)

    assert result.errors == []
    assert (result.classes_created, result.contacts_created, result.contacts_updated) == (0, 0, 1)
    parent = community["parent"]
    parent.refresh_from_db()
    assert parent.email == "hana@example.com"
    assert parent.phone == "01234 567890"  # an empty cell keeps what the app holds
    assert list(parent.learners.all()) == [learner]


def test_history_names_the_importer(office):
    import_learners(rows_or_file=LEARNERS, dry_run=False, user=office)

    ada = Learner.objects.get(mis_id="U001")
    mother = ada.parents_carers.get()
    for record in (ada, ada.form_class, mother):
        history = record.history.all()
        assert history, record
        assert {h.history_user for h in history} == {office}
        assert {h.history_change_reason for h in history} == {importers.CHANGE_REASON}
    # the link to the learner is in the parent's history
    assert list(mother.history.first().learners.values_list("learner", flat=True)) == [ada.pk]


def test_columns_in_any_order_with_extras_and_blank_lines(dsl):
    csv = (
        "\ufeffYear Group,Class,UPN,Last Name,First Name,Date of Birth,Shoe size\r\n"
        "\r\n"
        "2,Owls,X1,Eve,Fay,01/01/2020,11\r\n"
        ",,,,,,\r\n"
    )

    result = import_learners(rows_or_file=csv.encode("utf-8"), dry_run=False, user=dsl)

    assert result.errors == []
    assert Learner.objects.get(mis_id="X1").form_class.year_group == YearGroup.Y2


def test_dry_run_reports_but_writes_nothing(dsl):
    before = counts()

    result = import_learners(rows_or_file=LEARNERS, dry_run=True, user=dsl)

    assert result.ok and not result.saved
    assert (result.created, result.classes_created, result.contacts_created) == (3, 2, 3)
    assert "nothing saved" in result.summary
    assert counts() == before


# Learners: bad rows


def test_every_bad_row_reported_with_its_line_and_nothing_written(dsl, community):
    factories.LearnerFactory(mis_id="OLD", form_class=community["my_class"])
    before = counts()
    long_name = "x" * 101
    csv = LEARNER_HEADER + (
        "G1,Good,Row,01/01/2019,3,Wrens,,,,,,,,,,,,\n"  # line 2: fine, but not saved
        "B1,Bad,Date,31/02/2019,3,Wrens,,,,,,,,,,,,\n"  # 3
        "B2,Bad,Year,01/01/2019,Year 9,Wrens,,,,,,,,,,,,\n"  # 4
        "G1,Dup,Key,01/01/2019,3,Wrens,,,,,,,,,,,,\n"  # 5
        "B3,Wrong,Class,01/01/2019,4,3A,,,,,,,,,,,,\n"  # 6: 3A is a Year 3 class
        "B4,New,Class,01/01/2019,4,Wrens,,,,,,,,,,,,\n"  # 7: Wrens is Year 3 on line 2
        "B5,No,Contact,01/01/2019,3,Wrens,,,Pat,Lee,Mother,,,,,,,\n"  # 8: no phone or email
        "B6,Bad,Relation,01/01/2019,3,Wrens,,,Pat,Lee,Aunt,1,,,,,,\n"  # 9
        f'B7,{long_name},"Quoted\nName",01/01/2019,3,Wrens,,,,,,,,,,,,\n'  # 10-11
        "B8,Future,Born,01/01/2999,3,Wrens,,,,,,,,,,,,\n"  # 12
        "B9,Left,Early,01/01/2019,3,Wrens,01/09/2024,01/09/2023,,,,,,,,,,\n"  # 13
        ",No,Key,01/01/2019,3,Wrens,,,,,,,,,,,,\n"  # 14
        "B10,Bad,Email,01/01/2019,3,Wrens,,,Pat,Lee,Father,,not-an-email,,,,,\n"  # 15
        "B11,Same,Twice,01/01/2019,3,Wrens,,,Pat,Lee,Father,1,,pat,lee,Mother,2,\n"  # 16
    )

    result = import_learners(rows_or_file=csv, dry_run=False, user=dsl)

    assert problems(result) == {
        (3, "date_of_birth"),
        (4, "year_group"),
        (5, "upn"),
        (6, "class"),
        (7, "class"),
        (8, "contact1_phone"),
        (9, "contact1_relationship"),
        (10, "first_name"),
        (12, "date_of_birth"),
        (12, "joined"),  # and, born in the future, they cannot have joined today
        (13, "left"),
        (14, "upn"),
        (15, "contact1_email"),
        (16, "contact2_first_name"),
    }
    messages = {(e.line, e.column): e.message for e in result.errors}
    assert "line 2" in messages[5, "upn"]
    assert "Year 3 class" in messages[6, "class"]
    assert "line 2" in messages[7, "class"]
    assert "at most 100 characters" in messages[10, "first_name"]
    assert not result.saved
    assert "nothing was saved" in result.summary
    assert counts() == before


def test_a_failure_while_writing_saves_nothing(dsl, monkeypatch):
    """All or nothing holds even if the database refuses a row part-way through."""
    real_save = importers._save
    calls = []

    def save_then_fail(instance, user):
        calls.append(instance)
        if len(calls) == 4:
            raise IntegrityError("clash")
        real_save(instance, user)

    monkeypatch.setattr(importers, "_save", save_then_fail)
    before = counts()

    result = import_learners(rows_or_file=LEARNERS, dry_run=False, user=dsl)

    assert not result.saved
    assert "nothing was saved" in result.errors[0].message
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "line", "expected"),
    [
        (b"", 1, "empty"),
        (b"  \r\n\r\n", 1, "empty"),
        (LEARNER_HEADER.encode(), 1, "no data rows"),
        ("upn,first_name\nU1,Zoë\n".encode("utf-16"), 1, "UTF-16"),
        (LEARNER_HEADER.encode() + b"U1,Zo\xeb,Lane,01/01/2019,3,A\n", 2, "not UTF-8"),
        (LEARNER_HEADER.encode() + b"U1,Z\x00,L,01/01/2019,3,A\n", 2, "NUL"),
        (b"upn,first_name,last_name\nU1,A,B\n", 1, "date_of_birth, year_group, class"),
        (b"upn,UPN,first_name,last_name,date_of_birth,year_group,class\n", 1, "twice"),
        (LEARNER_HEADER.encode() + b'U1,"Ann,Lane\n', 2, "cannot be read"),
        (LEARNER_HEADER.encode() + b"U1," + b"x" * 200_000 + b"\n", 2, "field larger"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "utf16",
        "latin1",
        "nul",
        "missing-columns",
        "twice",
        "open-quote",
        "huge-field",
    ],
)
def test_unreadable_files_give_one_clear_problem(dsl, data, line, expected):
    before = counts()

    result = import_learners(rows_or_file=data, dry_run=False, user=dsl)

    assert len(result.errors) == 1
    assert result.errors[0].line == line
    assert expected in result.errors[0].message
    assert counts() == before


# Staff


def test_staff_created_then_updated_without_logins(office):
    users = User.objects.count()

    result = import_staff(rows_or_file=STAFF, dry_run=False, user=office)

    assert result.errors == []
    assert (result.created, result.updated) == (3, 0)
    assert User.objects.count() == users
    iris = StaffMember.objects.get(mis_id="S2")
    assert (iris.staff_type, iris.active, iris.user) == ("support", True, None)
    assert StaffMember.objects.get(mis_id="S3").active is False
    assert iris.history.get().history_user == office

    again = import_staff(rows_or_file=STAFF.replace("Iris,Pell", "Iris,Pellow"), dry_run=False)

    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    iris.refresh_from_db()
    assert iris.last_name == "Pellow"


def test_bad_staff_rows_reported_and_nothing_written(office):
    before = counts()
    csv = (
        "staff_id,first_name,last_name,email,staff_type,active\n"
        "S1,Ok,Row,,teaching,yes\n"
        "S2,Bad,Type,,Dinner lady,yes\n"
        "S1,Dup,Key,,teaching,yes\n"
        "S4,Bad,Email,nope,teaching,yes\n"
        "S5,Bad,Active,,teaching,maybe\n"
        "S6,,NoFirst,,teaching,\n"
    )

    result = import_staff(rows_or_file=csv, dry_run=False, user=office)

    assert problems(result) == {
        (3, "staff_type"),
        (4, "staff_id"),
        (5, "email"),
        (6, "active"),
        (7, "first_name"),
    }
    assert counts() == before


def test_sample_files_are_valid():
    """The examples the docs point to must import cleanly."""
    learners = import_learners(rows_or_file=(SAMPLES / "learners.csv").read_bytes(), dry_run=True)
    staff = import_staff(rows_or_file=(SAMPLES / "staff.csv").read_bytes(), dry_run=True)

    assert learners.errors == [] and learners.created == 4
    assert staff.errors == [] and staff.created == 4


# The upload page


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("dsl", 200),
        ("office", 200),
        ("deputy_dsl", 403),
        ("headteacher", 403),
        ("staff", 403),
        ("governor", 403),
        ("outsider", 403),
    ],
)
def test_page_at_each_role(client, users, role, status):
    client.force_login(users[role])

    assert client.get(URL).status_code == status
    upload = SimpleUploadedFile("staff.csv", STAFF.encode())
    assert client.post(URL, {"kind": "staff", "file": upload}).status_code == status


def test_page_shows_the_policy_rule_and_form(client, dsl):
    client.force_login(dsl)

    response = client.get(URL)

    assert response.context["policy_rule"] == RULES["scope"]
    assert b"Check only (dry run)" in response.content
    assert b"<script>" not in response.content


def post_file(client, data: bytes, *, kind="learners", action="check", name="mis.csv"):
    upload = SimpleUploadedFile(name, data, content_type="text/csv")
    return client.post(URL, {"kind": kind, "file": upload, "action": action})


def test_check_only_lists_counts_and_saves_nothing(client, office):
    client.force_login(office)
    before = counts()

    response = post_file(client, LEARNERS.encode("utf-8-sig"))

    assert response.status_code == 200
    assert response.context["result"].created == 3
    assert b"ready to import" in response.content
    assert counts() == before


def test_import_saves_and_names_the_clerk(client, office):
    client.force_login(office)

    response = post_file(client, LEARNERS.encode(), action="import", name="MIS.CSV")

    assert response.status_code == 302
    assert response.url == reverse("compliance:learner_list")
    assert Learner.objects.filter(mis_id__in=["U001", "U002", "U003"]).count() == 3
    assert Learner.objects.get(mis_id="U001").history.get().history_user == office
    page = client.get(response.url)
    assert "3 learners created" in page.content.decode()


def test_bad_rows_shown_with_line_numbers(client, dsl):
    client.force_login(dsl)
    before = counts()
    csv = LEARNER_HEADER + "U1,Ann,Lane,31/02/2019,3,A,,,,,,,,,,,,\n"

    response = post_file(client, csv.encode(), action="import")

    assert response.status_code == 200
    assert response.context["errors_shown"][0].line == 2
    assert b"The file has problems" in response.content
    assert b"not a date" in response.content
    assert counts() == before


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"upn,first_name\n\xff\xfe\xfa,\xe9\n", "mis.csv", "not UTF-8 text"),
        (b"", "mis.csv", "The submitted file is empty."),
        (b"\x00\x00\x00", "mis.csv", "NUL character"),
        (LEARNERS.encode(), "mis.xlsx", "Choose a .csv file."),
        (b"x" * (2 * 1024 * 1024 + 1), "mis.csv", "larger than 2 MB"),
    ],
    ids=["non-utf8", "empty", "nul", "not-csv", "too-big"],
)
def test_bad_uploads_get_a_clear_message(client, dsl, data, name, expected):
    client.force_login(dsl)
    before = counts()

    response = post_file(client, data, name=name, action="import")

    assert response.status_code == 200
    assert expected in response.content.decode()
    assert counts() == before


# The command


def test_command_dry_run_then_real_run(tmp_path, dsl):
    path = tmp_path / "learners.csv"
    path.write_text(LEARNERS, encoding="utf-8")
    out = StringIO()

    call_command("import_mis", str(path), "--kind", "learners", "--dry-run", stdout=out)

    assert "nothing saved" in out.getvalue()
    assert not Learner.objects.exists()

    out = StringIO()
    call_command("import_mis", str(path), "--kind=learners", "--user=dsl", stdout=out)

    assert out.getvalue().strip().startswith("Imported 3 rows")
    assert Learner.objects.get(mis_id="U002").history.get().history_user == dsl


def test_command_staff_without_user(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")

    call_command("import_mis", str(path), "--kind", "staff", stdout=StringIO())

    assert StaffMember.objects.get(mis_id="S1").history.get().history_user is None


def test_command_bad_file_lists_problems_and_fails(tmp_path):
    path = tmp_path / "learners.csv"
    path.write_text(LEARNER_HEADER + "U1,Ann,Lane,31/02/2019,3,A,,,,,,,,,,,,\n", encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was saved"):
        call_command("import_mis", str(path), "--kind", "learners", stderr=err)

    assert "line 2, date_of_birth" in err.getvalue()
    assert not Learner.objects.exists()


def test_command_refuses_unknown_user_and_missing_file(tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text(STAFF, encoding="utf-8")

    with pytest.raises(CommandError, match="no login"):
        call_command("import_mis", str(path), "--kind", "staff", "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_mis", str(tmp_path / "missing.csv"), "--kind", "staff")
    assert not StaffMember.objects.exists()
