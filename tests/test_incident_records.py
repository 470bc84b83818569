"""What the incident records add to subject access exports and to the retention review.

`incidents.subject_access.register()` and `incidents.retention.register()` are called from
IncidentsConfig.ready(); here they are called on copies of the registries, so that these
tests neither depend on that nor leave anything registered behind.
"""

from __future__ import annotations

import csv
import datetime
import importlib
import io
import zipfile

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from compliance import retention as compliance_retention
from compliance import subject_access as sa
from compliance.retention import (
    RetentionRefused,
    disposal_decide,
    disposal_request,
    due_count,
    due_for_review,
)
from incidents import retention, services
from incidents import subject_access as incident_sections
from incidents.models import Incident, Involvement, Note, ParentContact
from tests import factories
from tests.test_incident_workflow import report

pytestmark = pytest.mark.django_db

D = datetime.date


def _at(year: int, month: int, day: int, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(year, month, day, hour))


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(sa, "_SECTIONS", dict(sa._SECTIONS))
    monkeypatch.setattr(compliance_retention, "_RULES", dict(compliance_retention._RULES))
    incident_sections.register()
    incident_sections.register()  # registering twice (a second ready()) changes nothing
    retention.register()


def _rows(key: str, person) -> list[list[str]]:
    (section,) = [s for s in sa.sections_for(sa.kind_of(person)) if s.key == key]
    headers, rows = section.rows(person)
    return [list(headers)] + [[sa.cell_text(cell) for cell in row] for row in rows]


# Subject access ----------------------------------------------------------------------------


@pytest.fixture
def handled(community, dsl, teacher):
    """Amira's incident, triaged, with a note, a search consented to by her mother, and her
    mother told; and an incident about someone else."""
    incident = services.incident_report(
        occurred_at=_at(2026, 2, 3),
        location=factories.LocationFactory(),
        category="cyberbullying",
        account="Amira showed me unkind messages about her in a group chat.",
        people=[
            services.Person(part=Involvement.Part.AFFECTED, learner=community["learner"]),
            services.Person(part=Involvement.Part.WITNESS, staff=community["staff"]),
            services.Person(part=Involvement.Part.WITNESS, visitor=community["visitor"]),
        ],
        by=teacher,
    )
    incident = services.incident_triage(incident=incident, by=dsl)
    services.note_add(incident=incident, text="Amira's mother called back.", by=dsl)
    services.search_record(
        incident=incident,
        learner=community["learner"],
        device="Black phone in a red case",
        searched_at=timezone.now() - datetime.timedelta(hours=1),
        place="DSL's office",
        led_by=dsl,
        no_second_reason="Nobody else was free",
        grounds="Messages reported",
        sought="The messages",
        consent_by="parent_carer",
        consent_parent=community["parent"],
        consent_how="By phone",
        outcome="returned",
        by=dsl,
    )
    services.parent_contact_record(
        incident=incident,
        parent=community["parent"],
        how=ParentContact.How.PHONE,
        summary="What happened and what we are doing.",
        by=dsl,
    )
    services.incident_report(
        occurred_at=_at(2026, 2, 4),
        location=factories.LocationFactory(),
        category="restricted_area",
        account="Zed used a phone in class.",
        people=[services.Person(part=Involvement.Part.SUBJECT, learner=community["other_learner"])],
        by=teacher,
    )
    return incident


def test_a_learner_gets_their_incidents_notes_and_searches(registered, community, handled):
    learner = community["learner"]
    keys = [s.key for s in sa.sections_for("learner")]
    assert {"incidents", "incident-notes", "device-searches"} <= set(keys)

    (headers, row) = _rows("incidents", learner)
    assert headers[:8] == [
        "Reference",
        "Category",
        "When it happened",
        "Where",
        "Reported",
        "Their part",
        "Status",
        "Closed",
    ]
    assert row[0] == handled.reference
    assert row[1] == "Cyberbullying"
    assert row[2] == "03/02/2026 10:00:00"
    assert row[5] == "Affected"
    assert row[6] == "Triaged"
    assert row[8] == "Amira showed me unkind messages about her in a group chat."

    (_, note) = _rows("incident-notes", learner)
    assert note[0] == handled.reference
    assert note[2] == "Amira's mother called back."

    (headers, search) = _rows("device-searches", learner)
    found = dict(zip(headers, search, strict=True))
    assert found["Incident"] == handled.reference
    assert found["Consent given by"] == "Hana Khan"
    assert found["What was found"] == "Nothing was found"
    assert found["The device afterwards"] == "Device returned"


def test_another_persons_records_are_not_in_the_export(registered, community, handled):
    other = community["other_learner"]
    (_, row) = _rows("incidents", other)
    assert row[8] == "Zed used a phone in class."
    assert _rows("device-searches", other)[1:] == []
    assert _rows("incident-notes", other)[1:] == []


def test_staff_and_visitors_get_the_incidents_involving_them(registered, community, handled):
    for person in (community["staff"], community["visitor"]):
        kind = sa.kind_of(person)
        keys = {s.key for s in sa.sections_for(kind)}
        assert {"incidents", "incident-notes"} <= keys
        assert "device-searches" not in keys
        (_, row) = _rows("incidents", person)
        assert (row[0], row[5]) == (handled.reference, "Witness")


def test_a_parent_gets_the_searches_they_consented_to_and_the_times_they_were_told(
    registered, community, handled
):
    parent = community["parent"]
    (_, consent) = _rows("search-consents", parent)
    assert consent[0] == handled.reference
    assert consent[2:] == ["Amira Khan", "By phone"]
    (_, told) = _rows("incident-contacts", parent)
    assert told[0] == handled.reference
    assert told[2:] == ["Phone call", "Alice Hawksley", "What happened and what we are doing."]
    assert _rows("search-consents", community["other_parent"])[1:] == []


def test_the_export_of_a_learner_carries_the_incident_sections(
    registered, client, dsl, community, handled
):
    client.force_login(dsl)
    learner = community["learner"]
    response = client.post(
        reverse("compliance:subject_access_export", args=["learner", learner.pk])
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert {"incidents.csv", "incident-notes.csv", "device-searches.csv"} <= set(archive.namelist())
    rows = list(csv.reader(io.StringIO(archive.read("incidents.csv").decode("utf-8-sig"))))
    assert rows[1][0] == handled.reference


# Retention ---------------------------------------------------------------------------------


def _incident(*, learners=(), staff=None, allegation=False, reported, occurred=None, **extra):
    by = factories.UserFactory()
    incident = factories.IncidentFactory(
        reported_at=reported,
        occurred_at=occurred or reported,
        staff_allegation=allegation,
        reported_by=by,
        **extra,
    )
    for learner in learners:
        Involvement.objects.create(incident=incident, part="affected", learner=learner, added_by=by)
    if staff is not None:
        Involvement.objects.create(incident=incident, part="subject", staff=staff, added_by=by)
    return incident


def _learner(born: D):
    return factories.LearnerFactory(date_of_birth=born, joined=D(born.year + 4, 9, 1))


def _due(rule, today: D) -> list:
    return list(rule.due_on(today))


def test_the_rules_are_registered_with_their_periods(registered):
    keys = {rule.key for rule in compliance_retention.rules_for(Incident)}
    assert keys == {"incident_child_protection", "incident_staff_allegation"}
    assert "normal pension age is not recorded" in retention.ALLEGATION.label
    assert "25" in retention.CHILD_PROTECTION.period


def test_a_child_protection_record_is_kept_until_the_youngest_learner_is_25(registered):
    older, younger = _learner(D(2000, 3, 1)), _learner(D(2003, 6, 30))
    one = _incident(learners=[older], reported=_at(2010, 5, 5))
    both = _incident(learners=[older, younger], reported=_at(2011, 5, 5))
    rule = retention.CHILD_PROTECTION
    assert rule.due_date(one) == D(2025, 3, 1)
    assert rule.due_date(both) == D(2028, 6, 30)
    assert _due(rule, D(2025, 2, 28)) == []
    assert _due(rule, D(2025, 3, 1)) == [one]
    assert _due(rule, D(2028, 6, 29)) == [one]
    assert _due(rule, D(2028, 6, 30)) == [one, both]
    # the date from the list agrees with the date of the plain record
    listed = _due(rule, D(2030, 1, 1))
    assert [rule.due_date(i) for i in listed] == [D(2025, 3, 1), D(2028, 6, 30)]


def test_a_birthday_on_29_february_is_never_a_day_early(registered):
    leap = _incident(learners=[_learner(D(2004, 2, 29))], reported=_at(2012, 1, 1))
    rule = retention.CHILD_PROTECTION
    assert rule.due_date(leap) == D(2029, 3, 1)
    assert _due(rule, D(2029, 2, 28)) == []
    assert _due(rule, D(2029, 3, 1)) == [leap]


def test_an_allegation_is_kept_10_years_as_a_floor(registered, community):
    staff = community["staff"]
    alone = _incident(staff=staff, allegation=True, reported=_at(2015, 6, 1))
    rule = retention.ALLEGATION
    assert rule.due_date(alone) == D(2025, 6, 1)
    assert _due(rule, D(2025, 5, 31)) == []
    assert _due(rule, D(2025, 6, 1)) == [alone]
    # each incident falls under one rule only
    assert _due(retention.CHILD_PROTECTION, D(2100, 1, 1)) == []


def test_an_allegation_with_a_learner_is_also_kept_until_they_are_25(registered, community):
    learner = _learner(D(2010, 9, 1))
    both = _incident(
        learners=[learner], staff=community["staff"], allegation=True, reported=_at(2015, 6, 1)
    )
    assert retention.ALLEGATION.due_date(both) == D(2035, 9, 1)
    assert _due(retention.ALLEGATION, D(2035, 8, 31)) == []
    assert _due(retention.ALLEGATION, D(2035, 9, 1)) == [both]
    assert _due(retention.CHILD_PROTECTION, D(2100, 1, 1)) == []


def test_an_incident_with_neither_is_under_no_rule(registered, community):
    _incident(reported=_at(2000, 1, 1))
    due = due_for_review(today=D(2100, 1, 1))
    assert [item for item in due if item.rule.model is Incident] == []


def test_the_reference_names_nobody(registered):
    learner = _learner(D(2000, 3, 1))
    incident = _incident(
        learners=[learner],
        reported=_at(2017, 2, 3),
        category="cyberbullying",
        reference="INC-2026-ABC123",
    )
    described = retention.CHILD_PROTECTION.describe(incident)
    assert described == "Incident INC-2026-ABC123 (cyberbullying), 03/02/2017"
    assert learner.first_name not in described
    assert learner.last_name not in described


def test_the_review_counts_and_lists_across_the_rules(registered, community):
    cp = _incident(learners=[_learner(D(1990, 1, 1))], reported=_at(2000, 1, 1))
    allegation = _incident(staff=community["staff"], allegation=True, reported=_at(2001, 1, 1))
    today = D(2020, 1, 1)
    assert due_count(today=today) == 2
    assert {item.record for item in due_for_review(today=today)} == {cp, allegation}
    listed = compliance_retention.DueList(today=today)
    assert len(listed) == 2
    assert {item.reference for item in listed[:]} == {
        retention.describe_incident(cp),
        retention.describe_incident(allegation),
    }


def test_a_disposal_is_asked_for_and_refused_while_the_incidents_parts_remain(registered, dsl):
    """Known limit: compliance deletes a record only if nothing else refers to it, and an
    incident's involvements (and notes, searches...) do. The request is accepted; the
    approval is refused with the reason, not a 500."""
    incident = _incident(learners=[_learner(D(1990, 1, 1))], reported=_at(2000, 1, 1))
    disposal = disposal_request(record=incident, rule_key="incident_child_protection", by=dsl)
    assert disposal.reference == retention.describe_incident(incident)
    with pytest.raises(RetentionRefused, match="still referred to by other records"):
        disposal_decide(disposal=disposal, approve=True, note="", by=dsl)


def test_a_disposal_before_the_date_is_refused(registered, dsl):
    incident = _incident(learners=[_learner(D(2015, 1, 1))], reported=_at(2020, 1, 1))
    with pytest.raises(RetentionRefused, match="not due for review until 01/01/2040"):
        disposal_request(record=incident, rule_key="incident_child_protection", by=dsl)


def test_notes_are_listed_oldest_first(registered, community, dsl, teacher):
    incident = services.incident_report(
        occurred_at=_at(2026, 1, 5),
        location=factories.LocationFactory(),
        category="other",
        account="Something happened.",
        people=[services.Person(part=Involvement.Part.SUBJECT, learner=community["learner"])],
        by=teacher,
    )
    first = Note.objects.create(incident=incident, text="First", written_by=dsl)
    second = Note.objects.create(incident=incident, text="Second", written_by=dsl)
    Note.objects.filter(pk=first.pk).update(written_at=second.written_at - datetime.timedelta(1))
    assert [row[2] for row in _rows("incident-notes", community["learner"])[1:]] == [
        "First",
        "Second",
    ]


# The governors' report: incidents by the 4 Cs (KCSIE), no one named -------------------------


def test_the_report_counts_incidents_by_the_4_cs(community):
    from incidents.models import Category
    from incidents.report import build_incidents

    reported = _at(2025, 10, 1)
    for category in (
        Category.MISINFORMATION,  # content
        Category.OFFENSIVE_CONTENT,  # content
        Category.GROOMING,  # contact
        Category.AI_IMAGE,  # conduct
        Category.GENERATIVE_AI,  # conduct
        Category.NUDES,  # conduct
        Category.SCAM,  # commerce
        Category.LOSS_THEFT_DAMAGE,  # other
    ):
        _incident(learners=[community["learner"]], reported=reported, category=category.value)
    _incident(reported=_at(2024, 1, 1), category=Category.GAMBLING.value)  # another year
    section = build_incidents(D(2025, 9, 1), D(2026, 8, 31))
    (table,) = [t for t in section["tables"] if "4 Cs" in t["title"]]
    assert table["rows"] == [
        ["Content", 2],
        ["Contact", 1],
        ["Conduct", 3],
        ["Commerce", 1],
        ["Other breaches of the policy", 1],
    ]
    by_category = dict(
        next(t for t in section["tables"] if t["title"] == "Incidents by category")["rows"]
    )
    assert by_category["AI-generated or altered image of a pupil"] == 1
    shown = repr(section)
    for name in (community["learner"].first_name, community["learner"].last_name):
        assert name not in shown


def test_the_low_level_concern_rule_is_registered(registered):
    from incidents.models import LowLevelConcern

    (rule,) = compliance_retention.rules_for(LowLevelConcern)
    assert rule.key == "low_level_concern"
    assert "leaves" in rule.period


# When a person was added: kept on the row ---------------------------------------------------


def test_a_person_added_keeps_when_and_the_timeline_shows_it(users, community, client):
    before = timezone.now()
    incident = report(users["staff"], learner=community["learner"])
    person = incident.people.get()
    assert before <= person.added_at <= timezone.now()
    assert person.history.get().added_at == person.added_at
    client.force_login(users["dsl"])
    page = client.get(reverse("incidents:incident_detail", args=[incident.pk])).content.decode()
    assert "Person added" in page


def test_people_added_before_the_field_take_the_date_of_their_first_history_row(users, community):
    migration = importlib.import_module("incidents.migrations.0005_involvement_added_at")
    incident = report(users["staff"], learner=community["learner"])
    person = incident.people.get()
    created = person.history.get().history_date
    Involvement.objects.filter(pk=person.pk).update(added_at=None)  # as the column came
    orphan = _involvement_without_history(incident, users, community)
    migration.added_from_history(apps, None)
    person.refresh_from_db()
    orphan.refresh_from_db()
    assert person.added_at == created
    assert orphan.added_at is None  # no history row to say when: left empty, not invented


def _involvement_without_history(incident, users, community) -> Involvement:
    """A row with no history (as a bulk insert that skipped it would have left)."""
    [row] = Involvement.objects.bulk_create(
        [
            Involvement(
                incident=incident,
                part=Involvement.Part.WITNESS,
                learner=community["other_learner"],
                added_by=users["dsl"],
                added_at=None,
            )
        ]
    )
    return row
