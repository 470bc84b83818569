"""Policy versions say which guidance they follow and when they were told to staff, pupils and
parents; the review screen lists guidance newer than the version in force as a reason to
review (compliance.guidance)."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from compliance import guidance
from compliance import review_services as rs
from compliance.guidance import GuidanceKind
from compliance.models import PolicyCommunication, PolicyVersion
from compliance.selectors import current_policy
from compliance.transitions import Refused
from tests import factories

pytestmark = pytest.mark.django_db


def _version(written: datetime.date, **follows) -> PolicyVersion:
    return PolicyVersion(
        number="x",
        date_written=written,
        next_review=written + datetime.timedelta(days=365),
        **follows,
    )


def _titles(version) -> list[str]:
    return [edition.title for edition in guidance.newer_guidance(version)]


# The reference list and "newer than"


def test_the_reference_list_has_every_edition_with_its_date():
    assert [e.title for e in guidance.editions_of(GuidanceKind.KCSIE)] == [
        f"KCSIE {year}" for year in range(2021, 2026)
    ]
    assert [e.key for e in guidance.editions_of(GuidanceKind.PHONES)] == ["2024-02", "2026-01"]
    assert [e.key for e in guidance.editions_of(GuidanceKind.FILTERING)] == ["2023"]
    for kind in GuidanceKind:
        dates = [e.published for e in guidance.editions_of(kind)]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_a_version_following_old_editions_lists_every_later_one():
    version = _version(
        datetime.date(2021, 11, 1),
        follows_kcsie="2021",
        follows_phone_guidance="2024-02",
        follows_filtering_standards="2023",
    )
    assert _titles(version) == [
        "KCSIE 2022",
        "KCSIE 2023",
        "KCSIE 2024",
        "KCSIE 2025",
        "Mobile phones in schools, January 2026",
    ]


def test_a_version_following_the_newest_of_each_lists_none():
    version = _version(
        datetime.date(2020, 1, 1),  # written long ago, but it says what it follows
        **{field: guidance.latest(kind).key for kind, field in guidance.VERSION_FIELDS.items()},
    )
    assert _titles(version) == []


def test_a_version_naming_none_lists_what_was_published_after_it_was_written():
    assert _titles(_version(datetime.date(2024, 1, 1))) == [
        "Mobile phones in schools, February 2024",
        "KCSIE 2024",
        "KCSIE 2025",
        "Mobile phones in schools, January 2026",
    ]
    # naming one kind only: the others count from the date written
    assert _titles(_version(datetime.date(2024, 1, 1), follows_kcsie="2025")) == [
        "Mobile phones in schools, February 2024",
        "Mobile phones in schools, January 2026",
    ]
    assert _titles(None) == []


# Recording a version with its guidance and who was told


def test_a_review_records_the_guidance_and_who_was_told(dsl):
    today = timezone.localdate()
    review = rs.review_record(
        by=dsl,
        trigger="guidance",
        changes="Phone-free all day, as the January 2026 guidance expects.",
        version_number="2026.2",
        date_written=today - datetime.timedelta(days=5),
        follows_kcsie="2025",
        follows_phone_guidance="2026-01",
        follows_filtering_standards="2023",
        communications=[
            {"audience": "staff", "on": today - datetime.timedelta(days=2), "method": "meeting"},
            {"audience": "parents", "on": today, "method": "newsletter"},
        ],
    )
    version = review.new_version
    assert (version.follows_kcsie, version.follows_phone_guidance) == ("2025", "2026-01")
    assert guidance.newer_guidance(version) == []
    told = PolicyCommunication.objects.filter(policy_version=version)
    assert sorted(told.values_list("audience", "method")) == [
        ("parents", "newsletter"),
        ("staff", "meeting"),
    ]
    assert all(c.recorded_by == dsl for c in told)


def test_an_edition_not_in_the_list_is_refused(dsl):
    with pytest.raises(Refused, match="not an edition"):
        rs.review_record(
            by=dsl,
            trigger="annual",
            changes="None",
            version_number="bad",
            date_written=timezone.localdate(),
            follows_kcsie="2019",
        )
    assert not PolicyVersion.objects.filter(number="bad").exists()


def test_telling_is_recorded_by_the_leads_only_and_not_before_the_version(users):
    today = timezone.localdate()
    version = factories.PolicyVersionFactory(date_written=today - datetime.timedelta(days=10))
    for role in ("staff", "office", "governor"):
        with pytest.raises(Refused):
            rs.communication_record(
                by=users[role],
                policy_version=version,
                audience="pupils",
                communicated_on=today,
                method="assembly",
            )
    with pytest.raises(Refused, match="written after"):
        rs.communication_record(
            by=users["dsl"],
            policy_version=version,
            audience="pupils",
            communicated_on=today - datetime.timedelta(days=11),
            method="assembly",
        )
    with pytest.raises(Refused, match="future"):
        rs.communication_record(
            by=users["dsl"],
            policy_version=version,
            audience="pupils",
            communicated_on=today + datetime.timedelta(days=1),
            method="assembly",
        )
    told = rs.communication_record(
        by=users["deputy_dsl"],
        policy_version=version,
        audience="pupils",
        communicated_on=today,
        method="assembly",
    )
    assert told.history.count() == 1


# The pages


def test_the_review_form_lists_newer_guidance_and_records_what_is_typed(dsl, client):
    today = timezone.localdate()
    factories.PolicyVersionFactory(
        number="2023",
        date_written=datetime.date(2023, 11, 1),
        adopted=datetime.date(2023, 11, 15),
        next_review=datetime.date(2024, 11, 1),
        follows_kcsie="2023",
    )
    client.force_login(dsl)
    page = client.get(reverse("compliance:review_add")).content.decode()
    assert "KCSIE 2024 (published 24 May 2024)" in page
    assert "Mobile phones in schools, February 2024" in page
    assert "KCSIE 2021" not in page.split("newer-guidance", 1)[1].split("</ul>", 1)[0]
    response = client.post(
        reverse("compliance:review_add"),
        {
            "trigger": "guidance",
            "changes": "Phone-free all day",
            "version_number": "2026.9",
            "date_written": today.isoformat(),
            "material_change": "on",
            "follows_kcsie": "2025",
            "follows_phone_guidance": "2026-01",
            "follows_filtering_standards": "2023",
            "told_staff_on": today.isoformat(),
            "told_staff_how": "meeting",
            "told_pupils_on": "",
            "told_pupils_how": "",
            "told_parents_on": "",
            "told_parents_how": "letter",
        },
    )
    # a way without a date is refused, with the rest kept
    assert response.status_code == 200
    assert response.context["form"].errors["told_parents_on"]
    assert "Phone-free all day" in response.content.decode()
    assert not PolicyVersion.objects.filter(number="2026.9").exists()
    data = dict(response.context["form"].data.items())
    data["told_parents_how"] = ""
    assert client.post(reverse("compliance:review_add"), data).status_code == 302
    version = PolicyVersion.objects.get(number="2026.9")
    assert current_policy() == version
    assert version.communications.get().audience == "staff"
    page = client.get(reverse("compliance:policy_detail")).content.decode()
    assert "None: it follows the latest edition of each." in page
    assert "Mobile phones in schools, January 2026" in page  # what it follows


def test_the_policy_page_shows_what_each_audience_was_told_and_when(dsl, governor, client):
    today = timezone.localdate()
    version = factories.PolicyVersionFactory(date_written=today - datetime.timedelta(days=30))
    rs.communication_record(
        by=dsl,
        policy_version=version,
        audience="parents",
        communicated_on=today - datetime.timedelta(days=3),
        method="newsletter",
    )
    client.force_login(governor)
    page = client.get(reverse("compliance:policy_detail")).content.decode()
    assert "Told to parents and carers" in page
    assert f"{today - datetime.timedelta(days=3):%-d %b %Y} (newsletter)" in page
    assert "Record who was told" not in page
    client.force_login(dsl)
    url = reverse("compliance:policy_communication_add", args=[version.pk])
    assert url in client.get(reverse("compliance:policy_detail")).content.decode()
    response = client.post(
        url, {"audience": "pupils", "communicated_on": today.isoformat(), "method": "assembly"}
    )
    assert response.status_code == 302
    assert version.communications.filter(audience="pupils", method="assembly").exists()


def test_communications_by_audience_for_the_evidence_pack(dsl):
    today = timezone.localdate()
    version = factories.PolicyVersionFactory(date_written=today - datetime.timedelta(days=30))
    for audience, days in (("staff", 5), ("staff", 2), ("parents", 1)):
        rs.communication_record(
            by=dsl,
            policy_version=version,
            audience=audience,
            communicated_on=today - datetime.timedelta(days=days),
            method="email",
        )
    told = rs.communications_by_audience(version)
    assert [c.communicated_on for c in told["staff"]] == [
        today - datetime.timedelta(days=5),
        today - datetime.timedelta(days=2),
    ]
    assert len(told["parents"]) == 1 and told["pupils"] == []
