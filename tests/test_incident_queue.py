"""The triage queue's rows and its LADO alert, as the page writes them (the view works out
each row's text and badges in Python, issue 8): what each cell says, and where it links."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Incident, Referral
from tests import factories
from tests.test_incident_workflow import _aware, _triaged_on_friday, report

pytestmark = pytest.mark.django_db


def _queue(client, **params) -> str:
    response = client.get(reverse("incidents:queue"), params)
    assert response.status_code == 200
    return response.content.decode()


def _row(page: str, incident: Incident) -> str:
    return page.split("<tbody>")[1].split(incident.reference + "</a>")[1].split("</tr>")[0]


def test_the_overdue_alert_links_each_allegation_and_its_row_is_badged(client, users):
    overdue = _triaged_on_friday(users)
    client.force_login(users["dsl"])
    page = _queue(client)
    alert = page.split('data-testid="lado-overdue"')[1].split("</div>")[0]
    url = reverse("incidents:incident_detail", args=[overdue.pk])
    assert f'<a class="alert-link" href="{url}">{overdue.reference}</a>' in alert
    flags = _row(page, overdue).split("</span></td>")[1]  # after the status badge
    assert flags.index('data-testid="lado-badge">LADO overdue') < flags.index("Staff allegation")
    assert page.count('data-testid="lado-badge"') == 1
    # referred late: no alert, the row says so, and only the overdue badge has the test id
    services.referral_record(
        incident=overdue, agency=Referral.Agency.LADO, contact="The LADO", by=users["dsl"]
    )
    page = _queue(client)
    assert 'data-testid="lado-overdue"' not in page
    assert 'data-testid="lado-badge"' not in page
    assert '<span class="badge text-bg-warning">LADO referred late</span>' in _row(page, overdue)


def test_each_row_names_its_learners_by_surname_and_its_flags(client, users, community):
    zed = factories.LearnerFactory(first_name="Zoe", last_name="Adams")
    incident = report(users["staff"], learner=community["learner"])
    services.person_add(
        incident=incident,
        person=services.Person(part="witness", learner=zed),
        by=users["dsl"],
    )
    services.incident_triage(
        incident=incident, by=users["dsl"], child_at_risk=True, suspected_illegal=True
    )
    quiet = report(users["staff"])
    client.force_login(users["dsl"])
    page = _queue(client)
    row = _row(page, incident)
    assert "<td>Zoe Adams, Amira Khan</td>" in row
    at_risk = row.index('<span class="badge text-bg-danger">Child at risk</span>')
    assert at_risk < row.index('<span class="badge text-bg-dark">Suspected illegal</span>')
    assert "LADO" not in row and "Staff allegation" not in row
    assert "<td>—</td>" in _row(page, quiet)
    assert '<span class="text-body-secondary">Nobody yet</span>' in _row(page, quiet)


def test_only_a_lado_referral_counts_for_the_lado_flag(client, users):
    """Another agency's referral, even in time, is not the LADO's: the first LADO
    referral alone decides between "referred late" and "overdue"."""
    late, waiting = _triaged_on_friday(users), _triaged_on_friday(users)
    in_time = _aware(datetime.datetime(2025, 1, 10, 11, 0))  # the Friday, an hour on
    for incident in (late, waiting):
        services.referral_record(
            incident=incident,
            agency=Referral.Agency.POLICE,
            contact="Police",
            made_at=in_time,
            by=users["dsl"],
        )
    services.referral_record(
        incident=late,
        agency=Referral.Agency.LADO,
        contact="The LADO",
        made_at=_aware(datetime.datetime(2025, 1, 14, 9, 0)),  # the Tuesday
        by=users["dsl"],
    )
    client.force_login(users["dsl"])
    page = _queue(client)
    assert "LADO referred late" in _row(page, late)
    assert 'data-testid="lado-badge">LADO overdue' in _row(page, waiting)
    alert = page.split('data-testid="lado-overdue"')[1].split("</div>")[0]
    assert "LADO referral overdue: 1" in alert
    assert waiting.reference in alert and late.reference not in alert


def test_the_filters_offer_leads_and_places_added_after_the_form_was_first_made(client, users):
    """The filter's form class is made once (issue 8); its choices are read afresh."""
    client.force_login(users["dsl"])
    first = _queue(client)
    assert "Nadia Newlead" not in first and "The new pavilion" not in first
    lead = factories.UserFactory(
        username="newlead", first_name="Nadia", last_name="Newlead", roles=["deputy_dsl"]
    )
    factories.LocationFactory(name="The new pavilion")
    later = _queue(client)
    assert "Nadia Newlead" in later and "The new pavilion" in later
    # and a lead who leaves is no longer offered
    lead.is_active = False
    lead.save()
    assert "Nadia Newlead" not in _queue(client)
