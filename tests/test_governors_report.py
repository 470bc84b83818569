"""The governors' annual report: every figure against a count made here from the fixtures,
no one named in the PDF or the CSV, small counts suppressed, and fast enough."""

from __future__ import annotations

import csv
import datetime
import io
import time
from collections import Counter

import factory
import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from compliance import reports
from compliance import review_services as rs
from compliance.models import (
    Acknowledgement,
    ActionPlanItem,
    AnnualReportSummary,
    MonitoringCheck,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    StaffType,
    TrainingSession,
)
from compliance.views.review import render_report_pdf
from devices import report as devices_report
from devices.models import Confiscation, DeviceCategory, Exemption, HandIn
from incidents import report as incidents_report
from incidents.models import Category, Incident, Location, Referral, Search
from tests import factories

pytestmark = pytest.mark.django_db

SUMMARY = "Restricted-area use fell after the morning hand-in was moved to the classroom door."


def shown(n: int):
    """The test's own statement of the rule: 1 to 4 is "fewer than 5"."""
    if isinstance(n, str):  # a percentage or a label: already decided
        return n
    return "fewer than 5" if 1 <= n <= 4 else n


def expected_rate(part: int, whole: int) -> str:
    """The test's own rule for a percentage: hidden when the part or the rest is 1 to 4."""
    if 1 <= part <= 4 or 1 <= whole - part <= 4:
        return "fewer than 5"
    return f"{round(100 * part / whole)}%"


@pytest.fixture(autouse=True)
def sections():
    """devices and incidents register their sections from their AppConfig.ready()."""
    devices_report.register()
    incidents_report.register()


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def year_data(dsl, headteacher, governor, school):
    """A school year (last year) of records, plus some just outside it, and the expected counts
    made from the lists here (never from the database)."""
    year = rs.school_year_start(timezone.localdate()).year - 1
    start, end = datetime.date(year, 9, 1), datetime.date(year + 1, 8, 31)
    before, after = start - datetime.timedelta(days=1), end + datetime.timedelta(days=1)
    expect: dict = {"year": year}

    form_class = factories.FormClassFactory(name="4Q")
    learners = [
        factories.LearnerFactory(
            form_class=form_class, first_name=f"Quillon{i}", last_name=f"Featherstonehaugh{i}"
        )
        for i in range(8)
    ]
    parent = factories.ParentCarerFactory(
        learners=[learners[0]], first_name="Perpetua", last_name="Wolstenholme"
    )
    visitor = factories.VisitorFactory(first_name="Valentina", last_name="Ostrowska")
    witness = factories.StaffMemberFactory(first_name="Wilhelmina", last_name="Throckmorton")
    classroom = Location.objects.get_or_create(name="Classroom", defaults={"restricted": True})[0]
    playground = Location.objects.get_or_create(name="Playground")[0]

    # incidents: (category, location, day, closed)
    plan = (
        [("restricted_area", classroom, datetime.date(year, 10, 7), i < 3) for i in range(4)]
        + [("restricted_area", classroom, datetime.date(year + 1, 2, 3), False) for _ in range(3)]
        + [("cyberbullying", playground, datetime.date(year + 1, 5, 12), True) for _ in range(3)]
        + [
            ("offensive_content", playground, datetime.date(year + 1, 3, 2), i < 3)
            for i in range(5)
        ]
    )
    outside = [("nudes", playground, before, False), ("nudes", playground, after, False)]
    incidents = []
    for n, (category, location, day, closed) in enumerate(plan + outside):
        extra = {}
        if closed:
            extra = {
                "status": "closed",
                "triaged_by": dsl,
                "triaged_at": at(day, 13),
                "closed_by": dsl,
                "closed_at": at(day, 15),
            }
        incidents.append(
            Incident.objects.create(
                reference=f"INC-T-{n:04}",
                occurred_at=at(day),
                location=location,
                category=category,
                account="A phone was used in class.",
                reported_by=headteacher,
                **extra,
            )
        )
    expect["incidents"] = len(plan)
    expect["by_category"] = Counter(Category(c).label for c, *_ in plan)
    expect["by_location"] = Counter(loc.name for _, loc, *_ in plan)
    expect["by_term"] = Counter(
        "Autumn" if d.month >= 9 else "Spring" if d.month <= 3 else "Summer" for *_, d, _ in plan
    )
    expect["by_status"] = Counter("Closed" if c else "Reported" for *_, c in plan)

    # searches: (witness, found, consent by parent), six in the year, one before
    search_plan = [(True, True, False)] * 4 + [(False, True, True), (False, False, False)]
    for n, (with_witness, found, by_parent) in enumerate(search_plan + [(True, True, False)]):
        day = datetime.date(year, 11, 3) if n < len(search_plan) else before
        Search.objects.create(
            incident=incidents[0],
            learner=learners[0],
            device="Black phone",
            searched_at=at(day),
            place="Office",
            led_by=dsl,
            second_staff=witness if with_witness else None,
            no_second_reason="" if with_witness else "No one else free.",
            grounds="Reported photos.",
            sought="Photos of pupils.",
            consent_by="parent_carer" if by_parent else "learner",
            consent_parent=parent if by_parent else None,
            consent_how="In person",
            found_nothing=not found,
            found="Photos" if found else "",
            outcome="returned",
            recorded_by=dsl,
        )
    expect["searches"] = len(search_plan)
    expect["witness"] = sum(1 for w, *_ in search_plan if w)
    expect["found"] = sum(1 for _, f, _ in search_plan if f)
    expect["consent_parent"] = sum(1 for *_, p in search_plan if p)
    expect["consent_learner"] = len(search_plan) - expect["consent_parent"]

    referral_plan = ["police"] * 2 + ["social_care"] * 6 + ["ess"]
    for agency in referral_plan + ["lado"]:
        made = at(datetime.date(year, 12, 1)) if agency != "lado" else at(after)
        Referral.objects.create(
            incident=incidents[1], agency=agency, made_at=made, made_by=dsl, contact="Duty desk"
        )
    expect["referrals"] = Counter(Referral.Agency(a).label for a in referral_plan)

    phone = DeviceCategory.objects.get_or_create(name="Mobile phone")[0]
    exemption_plan = (
        [("learner_exceptional", "active")] * 6
        + [("learner_exceptional", "refused")] * 2
        + [("staff_teaching_time", "expired")] * 5
        + [("visitor_with_learners", "requested")]
    )
    for kind, status in exemption_plan:
        subject = {
            "learner_exceptional": {"learner": learners[1]},
            "staff_teaching_time": {"staff": witness},
            "visitor_with_learners": {"visitor": visitor},
        }[kind]
        decided = (
            {} if status == "requested" else {"decided_by": headteacher, "decided_at": at(start)}
        )
        Exemption.objects.create(
            kind=kind,
            category=phone,
            reason="Medical monitoring.",
            starts=start,
            ends=end,
            status=status,
            decision_reasons="Not needed." if status == "refused" else "",
            requested_by=dsl,
            requested_at=at(datetime.date(year, 9, 20)),
            **subject,
            **decided,
        )
    expect["exemptions"] = Counter(exemption_plan)

    # hand-in: ten days, devices from six learners each day; three days with one uncollected
    days = [datetime.date(year, 9, 8) + datetime.timedelta(days=7 * i) for i in range(10)]
    uncollected = {days[1], days[4], days[8]}
    for day in [*days, after]:
        for learner in learners[:6]:
            left = day in uncollected and learner is learners[0]
            HandIn.objects.create(
                learner=learner,
                day=day,
                handed_in_at=at(day, 8),
                received_by=headteacher,
                collected_at=None if left else at(day, 15),
                collected_by="" if left else "learner",
                released_by=None if left else headteacher,
            )
    expect["hand_in_days"] = len(days)
    expect["hand_ins"] = len(days) * 6
    expect["uncollected_days"] = len(uncollected)

    taker = StaffMember.objects.get(user=headteacher)
    confiscation_plan = ["held"] * 5 + ["returned"] * 2
    for n, status in enumerate([*confiscation_plan, "held"]):
        extra = {"status": status}
        if status == "returned":
            extra |= {"returned_at": at(end, 15), "returned_to": "Parent"}
        in_year = n < len(confiscation_plan)
        Confiscation.objects.create(
            learner=learners[2],
            category=phone,
            description="Blue phone",
            taken_at=at(datetime.date(year, 10, 1)) if in_year else at(after),
            taken_by=taker,
            reason="Used in class.",
            stored_where="Office safe",
            recorded_by=headteacher,
            **extra,
        )
    expect["confiscations"] = Counter(confiscation_plan)

    # actions: six raised and done in the year, three raised and still open (two overdue)
    actions = []
    for i in range(9):
        actions.append(
            ActionPlanItem.objects.create(
                source="review" if i < 6 else "monitoring",
                description="Update the poster.",
                owner=taker,
                due=datetime.date(year, 12, 1) if i < 8 else after,
                created_by=dsl,
                created_at=at(datetime.date(year, 9, 15)),
            )
        )
    for action in actions[:6]:
        ActionPlanItem.objects.filter(pk=action.pk).update(
            status="done", completed_at=at(datetime.date(year, 11, 1))
        )
    expect["actions_done"] = 6
    expect["actions_open"] = 3
    expect["actions_overdue"] = 2

    # training: two sessions (suppressed), one outside the year; monitoring: five checks
    for day in (datetime.date(year, 9, 5), datetime.date(year + 1, 1, 6), before):
        session = TrainingSession.objects.create(held_on=day, topic="Policy", recorded_by=dsl)
        session.attendees.set([witness, taker])
    expect["sessions"] = 2
    expect["attendances"] = 4
    for i in range(5):
        MonitoringCheck.objects.create(
            checked_on=datetime.date(year, 10, 1 + i),
            what_checked="Filtering logs",
            findings="None",
            checked_by=dsl,
        )
    expect["checks"] = 5

    # the review, signed off: its version (written 1 November) is a material change
    review = rs.review_record(
        by=dsl,
        trigger="annual",
        changes="Smart watches added.",
        version_number=f"{year}.1",
        date_written=datetime.date(year, 11, 1),
        reviewed_at=at(datetime.date(year, 11, 14)),
    )
    rs.review_sign_off(review=review, by=governor)
    AnnualReportSummary.objects.create(
        year_start=start, text=SUMMARY, written_by=dsl, written_at=at(end)
    )
    older = PolicyVersion.objects.create(
        number=f"{year - 1}.1",
        date_written=datetime.date(year - 1, 11, 1),
        next_review=datetime.date(year, 11, 1),
    )
    wording = PolicyVersion.objects.create(
        number=f"{year}.2",
        date_written=datetime.date(year + 1, 2, 1),
        next_review=datetime.date(year + 1, 11, 1),
        material_change=False,
    )

    # acknowledgements: ten more teaching staff. Six acknowledged the reviewed version and
    # one the later wording-only version: seven count. Two acknowledged only the version
    # before the material change, one only after the year ended: they do not count.
    teaching = [
        factories.StaffMemberFactory(first_name=f"Tobias{i}", last_name=f"Pemberton{i}")
        for i in range(10)
    ]

    def ack(member, version, day, kind="policy"):
        Acknowledgement.objects.create(
            kind=kind,
            staff=member,
            recorded_by=dsl,
            policy_version=version,
            acknowledged_at=at(day),
        )

    for member in teaching[:6]:
        ack(member, review.new_version, datetime.date(year, 11, 20))
    ack(teaching[6], wording, datetime.date(year + 1, 2, 10))
    for member in teaching[7:9]:
        ack(member, older, start)
    ack(teaching[9], review.new_version, end + datetime.timedelta(days=2))
    # the acceptable use policy: five of them by the end of the year
    for member in teaching[:5]:
        ack(member, older, start, kind="aup")
    active_teaching = StaffMember.objects.filter(active=True, staff_type=StaffType.TEACHING)
    expect["teaching_total"] = len(list(active_teaching))
    expect["teaching_acked"] = 7
    expect["teaching_aup"] = 5
    expect["reviews"] = 1
    expect["names"] = _every_name()
    return expect


def _every_name() -> set[str]:
    """Every person's first and last name in the database (and each full name)."""
    from compliance.models import Learner, ParentCarer, User, Visitor

    names = set()
    for model in (Learner, ParentCarer, StaffMember, Visitor, User):
        for first, last in model.objects.values_list("first_name", "last_name"):
            for name in (first, last, f"{first} {last}"):
                if len(name) > 3:
                    names.add(name)
    return names


def _csv_cells(text: str) -> dict[tuple[str, str, str, str], str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "table", "row", "column", "value"]
    return {tuple(row[:4]): row[4] for row in rows[1:]}


def _expected_cells(e: dict) -> dict[tuple[str, str, str, str], object]:
    """Each cell of the CSV that the fixtures decide, with the test's own suppression."""
    cells = {
        ("Incidents", "", "Incidents in the year", ""): e["incidents"],
        ("Device searches", "", "Device searches", ""): e["searches"],
        (
            "Device searches",
            "",
            "With a second member of staff as witness",
            "",
        ): e["witness"],
        ("Device searches", "", "Where something was found", ""): e["found"],
        ("Device searches", "", "With the consent of the learner", ""): e["consent_learner"],
        ("Device searches", "", "With the consent of a parent or carer", ""): e["consent_parent"],
        ("Daily hand-in", "", "School days with devices handed in", ""): e["hand_in_days"],
        ("Daily hand-in", "", "Devices handed in", ""): e["hand_ins"],
        ("Daily hand-in", "", "Days with uncollected devices", ""): e["uncollected_days"],
        ("Confiscations", "", "Devices confiscated in the year", ""): sum(
            e["confiscations"].values()
        ),
        ("Action plan", "", "Actions done in the year", ""): e["actions_done"],
        ("Action plan", "", "Actions open at the end of the year", ""): e["actions_open"],
        ("Action plan", "", "Open actions past their due date", ""): e["actions_overdue"],
        ("Training and monitoring", "", "Training sessions", ""): e["sessions"],
        ("Training and monitoring", "", "Attendances", ""): e["attendances"],
        (
            "Training and monitoring",
            "",
            "Monitoring checks of school devices and systems",
            "",
        ): e["checks"],
        ("Policy review", "", "Reviews in the year", ""): e["reviews"],
        ("Policy review", "", "Reviews signed off by a governor", ""): e["reviews"],
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "Active staff",
        ): e["teaching_total"],
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "Acknowledged the policy",
        ): e["teaching_acked"],
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "Not yet acknowledged",
        ): e["teaching_total"] - e["teaching_acked"],
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "Policy acknowledgement rate",
        ): expected_rate(e["teaching_acked"], e["teaching_total"]),
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "Acknowledged the AUP",
        ): e["teaching_aup"],
        (
            "Acknowledgements",
            "Acknowledgements by staff type",
            "Teaching",
            "AUP acknowledgement rate",
        ): expected_rate(e["teaching_aup"], e["teaching_total"]),
        ("Acknowledgements", "", "Policy version counted from", ""): f"{e['year']}.1",
    }
    for label in Category.labels:
        if e["by_category"][label]:
            cells[("Incidents", "Incidents by category", label, "Incidents")] = e["by_category"][
                label
            ]
    for term in ("Autumn", "Spring", "Summer"):
        cells[("Incidents", "Incidents by term", term, "Incidents")] = e["by_term"][term]
    for name, n in e["by_location"].items():
        cells[("Incidents", "Incidents by location", name, "Incidents")] = n
    for label in ("Reported", "Closed", "Triaged"):
        cells[
            (
                "Incidents",
                "Incidents by outcome (where each stands now)",
                label,
                "Incidents",
            )
        ] = e["by_status"][label]
    for agency in Referral.Agency:
        cells[("Referrals", "Referrals by agency", agency.label, "Referrals")] = e["referrals"][
            agency.label
        ]
    groups = {"Active": ["active"], "Ended": ["expired", "revoked"], "Refused": ["refused"]}
    for kind in Exemption.Kind:
        for column, statuses in groups.items():
            n = sum(e["exemptions"][(kind.value, s)] for s in statuses)
            cells[("Exemptions", "Exemptions by kind", kind.label, column)] = n
    for status in Confiscation.Status:
        cells[
            (
                "Confiscations",
                "Confiscations by where the device is now",
                status.label,
                "Devices",
            )
        ] = e["confiscations"][status.value]
    return {key: shown(value) for key, value in cells.items()}


def test_every_figure_matches_an_independent_count(year_data):
    cells = _csv_cells(reports.report_csv(year_data["year"]))
    expected = _expected_cells(year_data)
    wrong = {
        key: (cells.get(key), value)
        for key, value in expected.items()
        if cells.get(key) != str(value)
    }
    assert not wrong, wrong
    # the suppressed values really are in play, and so are shown ones and zeros
    assert "fewer than 5" in set(cells.values())
    assert {"0", "6", "7"} <= set(cells.values())
    assert cells[("The DSL's summary of lessons learnt", "", "Text", "")] == SUMMARY
    year = year_data["year"]
    assert cells[("Policy review", "", "Version in force", "")] == f"{year}.1"
    assert cells[("Policy review", "", "Review overdue", "")] == "no"
    assert cells[("Policy review", "Reviews", "14/11/" + str(year), "Trigger")] == "Annual review"


def test_suppression_happens_once_for_every_section():
    assert [reports.suppress(n) for n in range(7)] == [0, *["fewer than 5"] * 4, 5, 6]
    assert reports.suppress("2024.1") == "2024.1"
    assert reports.suppress(True) is True
    raw = [
        {
            "key": "any",
            "title": "Any section",
            "figures": [("a", 3), ("b", 12)],
            "tables": [{"title": "t", "columns": ["x", "n", "m"], "rows": [["r", 1, 0]]}],
        }
    ]
    section = reports.present(raw)[0]
    assert section.figures == [("a", "fewer than 5"), ("b", 12)]
    assert section.tables[0]["rows"] == [["r", "fewer than 5", 0]]


def _squash(text: str) -> str:
    return "".join(text.split()).lower()


def test_no_one_is_named_in_the_pdf_or_the_csv(year_data):
    year = year_data["year"]
    pdf = render_report_pdf(year)
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    csv_text = reports.report_csv(year)
    assert "fewer than 5" in pdf_text
    assert "Incidents by category" in pdf_text
    for text in (pdf_text, csv_text):
        squashed = _squash(text)
        named = [name for name in year_data["names"] if _squash(name) in squashed]
        assert not named, named


def test_the_report_page_and_downloads_for_a_governor(client, year_data, governor):
    year = year_data["year"]
    client.force_login(governor)
    page = client.get(reverse("compliance:report_detail", args=[year]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    for name in year_data["names"]:
        assert name not in html.split("<main", 1)[1], name
    pdf = client.get(reverse("compliance:report_pdf", args=[year]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    download = client.get(reverse("compliance:report_csv", args=[year]))
    assert download["Content-Type"].startswith("text/csv")
    assert "attachment" in download["Content-Disposition"]


def test_a_school_of_420_renders_its_year_in_under_3_seconds(dsl, headteacher, school):
    """A year of a 420-learner school: the report builds and the PDF renders in under 3 s."""
    year = rs.school_year_start(timezone.localdate()).year - 1
    start = datetime.date(year, 9, 1)
    classes = [factories.FormClassFactory(name=f"S{i}") for i in range(14)]
    learners = factories.LearnerFactory.create_batch(420, form_class=factory.Iterator(classes))
    location = Location.objects.get_or_create(name="Classroom", defaults={"restricted": True})[0]
    Incident.objects.bulk_create(
        Incident(
            reference=f"INC-S-{i:05}",
            occurred_at=at(start + datetime.timedelta(days=i % 360)),
            location=location,
            category=list(Category.values)[i % len(Category.values)],
            account="Phone in class.",
            reported_by=headteacher,
        )
        for i in range(600)
    )
    HandIn.objects.bulk_create(
        HandIn(
            learner=learner,
            day=start + datetime.timedelta(days=d),
            handed_in_at=at(start + datetime.timedelta(days=d), 8),
            received_by=headteacher,
        )
        for d in range(0, 300, 2)
        for learner in learners[:60]
    )
    # WeasyPrint's one-off start in a process (Pango, fontconfig: about a second) is not the
    # report's cost; a server pays it once, so warm it first and time the report itself
    from weasyprint import HTML

    HTML(string="<p>warm</p>").write_pdf()
    began = time.perf_counter()
    pdf = render_report_pdf(year)
    csv_text = reports.report_csv(year)
    elapsed = time.perf_counter() - began
    print(f"\ngovernors' report for a 420-learner school year: {elapsed:.2f} s")
    assert pdf.startswith(b"%PDF") and csv_text
    assert elapsed < 3, f"{elapsed:.2f} s"


def test_review_sections_are_registered_from_outside_compliance():
    keys = [s.key for s in reports.report_sections()]
    for key in ("review", "acknowledgements", "actions", "training", "summary"):
        assert key in keys
    for key in ("incidents", "searches", "referrals", "exemptions", "hand_in", "confiscations"):
        assert key in keys
    assert PolicyReview  # imported for the reader: reviews are counted in "review"
