"""The inspection evidence pack: each part is there, its counts match the records, no child
is named, the period can be chosen and is checked, and the page's queries do not grow."""

from __future__ import annotations

import datetime
import io

import pypdf
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance import guidance
from compliance.evidence import Part, build_pack, school_year_so_far
from compliance.models import PolicyCommunication
from devices import services
from devices.models import Exemption
from tests import factories
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.django_db


def _section(parts, key):
    for part in parts:
        for section in part.sections:
            if section.key == key:
                return part.title, section
    raise AssertionError(f"no section {key}")


def _days(n: int) -> list[datetime.date]:
    """The last n weekdays before today."""
    days, day = [], timezone.localdate()
    while len(days) < n:
        day -= datetime.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def test_the_school_year_so_far():
    assert school_year_so_far(datetime.date(2026, 11, 28)) == (
        datetime.date(2026, 9, 1),
        datetime.date(2026, 11, 28),
    )
    assert school_year_so_far(datetime.date(2027, 3, 2))[0] == datetime.date(2026, 9, 1)


def test_every_part_is_answered_with_counts_that_match(users, community, school):
    version = factories.PolicyVersionFactory(number="2026")
    teacher = users["staff"]
    learners = [
        community["learner"],
        *community["my_class"].learners.exclude(pk=community["learner"].pk),
    ]
    days = _days(3)
    for day in days:
        for learner in learners:
            services.hand_in_mark(learner=learner, day=day, by=teacher)
    exemption_in(
        Exemption.Status.ACTIVE,
        learner=community["learner"],
        requester=teacher,
        head=users["headteacher"],
    )
    start, end = min(days), timezone.localdate()
    PolicyCommunication.objects.create(
        policy_version=version,
        audience=PolicyCommunication.Audience.STAFF,
        communicated_on=start,
        method=PolicyCommunication.Method.values[0],
        recorded_by=users["dsl"],
    )
    parts = build_pack(start, end)
    assert [p.title for p in parts] == list(Part.ORDER)

    title, policy = _section(parts, "policy")
    assert title == Part.COMMUNICATED and ("Policy version in force", "2026") in policy.figures
    told = {row[0]: row[1] for row in policy.tables[0]["rows"]}
    assert told["Staff"].startswith(f"{start:%d/%m/%Y}")
    assert told["Parents and carers"] == "not yet recorded"
    figures = dict(policy.figures)
    newer = "; ".join(e.label for e in guidance.newer_guidance(version)) or "none"
    assert figures["Newer guidance to review against"] == newer
    assert all(label in figures for label in (f"Follows: {k.label}" for k in guidance.GuidanceKind))

    title, filtering = _section(parts, "filtering")
    assert title == Part.FILTERING
    assert dict(filtering.figures)["Last review"] == "none recorded"

    title, by_class = _section(parts, "hand_in_class")
    assert title == Part.FOLLOWED
    assert dict(by_class.figures)["Devices handed in"] == 3 * len(learners)
    (row,) = by_class.tables[0]["rows"]
    assert row[:3] == ["3A", 3, 3 * len(learners)]
    assert row[4] == 3 * len(learners)  # none collected

    _, by_week = _section(parts, "hand_in_week")
    assert sum(row[2] for row in by_week.tables[0]["rows"]) == 3 * len(learners)

    title, exemptions = _section(parts, "exemptions")
    assert title == Part.EXEMPTIONS
    rows = {row[0]: row[1] for row in exemptions.tables[0]["rows"]}
    assert rows[Exemption.Kind.LEARNER_EXCEPTIONAL.label] == "fewer than 5"  # one learner
    assert dict(exemptions.figures)[f"Exemptions in force on {end:%-d %B %Y}"] == 1


def test_the_page_and_the_pdf_name_no_child(client, users, community, school):
    factories.PolicyVersionFactory()
    learner = community["learner"]
    services.hand_in_mark(learner=learner, day=_days(1)[0], by=users["staff"])
    client.force_login(users["headteacher"])
    page = client.get(reverse("compliance:evidence"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "How consistently it is followed" in body and learner.last_name not in body
    pdf = client.get(reverse("compliance:evidence_pdf"))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "inspection evidence" in text and "How the policy is communicated" in text
    for name in (learner.first_name, learner.last_name, community["parent"].last_name):
        assert name not in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-05-02", "end": "2026-05-01"}, "on or after the first"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "at most 400 days"),
        ({"start": "not a date", "end": ""}, "Enter a valid date"),
    ],
)
def test_a_wrong_period_is_explained_and_the_pack_still_shows(client, users, query, message):
    client.force_login(users["dsl"])
    response = client.get(reverse("compliance:evidence"), query)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and "How the policy is communicated" in body
    pdf = client.get(reverse("compliance:evidence_pdf"), query)
    assert pdf.status_code == 200 and message in pdf.content.decode()


def test_the_page_reads_a_fixed_number_of_queries(client, users, community, school):
    factories.PolicyVersionFactory()
    client.force_login(users["headteacher"])
    url = reverse("compliance:evidence")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def grow(n: int, offset: int) -> None:
        for i in range(n):
            form_class = factories.FormClassFactory(name=f"E{offset + i}")
            learner = factories.LearnerFactory(form_class=form_class)
            services.hand_in_mark(learner=learner, day=_days(1)[0], by=users["dsl"])

    grow(3, 0)
    few = count()
    grow(12, 100)
    assert count() == few


def test_under_pouches_the_pack_counts_the_registers_exceptions(users, community, school):
    from compliance.models import PhoneApproach
    from devices.models import HandInException

    factories.PolicyVersionFactory()
    school.phone_approach = PhoneApproach.POUCH
    school.save()
    day = _days(1)[0]
    services.hand_in_exception_record(
        learner=community["learner"],
        day=day,
        kind=HandInException.Kind.POUCH_NOT_SEALED,
        by=users["staff"],
    )
    parts = build_pack(day, timezone.localdate())
    _, section = _section(parts, "register_exceptions")
    figures = dict(section.figures)
    assert figures["The school's approach to pupils' phones"] == PhoneApproach.POUCH.label
    assert figures["Exceptions recorded on the register"] == 1
    assert section.tables[0]["rows"] == [["3A", 1, 1]]
    _, exemptions = _section(parts, "exemptions")
    assert exemptions.tables[1]["title"].startswith("Learners' exemptions in force")
