"""The incident page offers each step folded away but the next; a folded step's form is
fetched when it is opened (htmx), or, without script, the page comes back with it open."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from compliance.services import record_access_log
from incidents.models import Incident
from incidents.views.incident import ACCESS_LOG_SHOWN
from tests.test_incident_workflow import advance, report

pytestmark = pytest.mark.django_db

Status = Incident.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def investigating(users, community):
    incident = report(users["staff"], learner=community["learner"])
    return advance(incident, Status.INVESTIGATING, users["dsl"])


def _page(client, incident, query: str = "") -> str:
    url = reverse("incidents:incident_detail", args=[incident.pk]) + query
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_only_the_next_step_comes_with_its_form(client, users, investigating):
    client.force_login(users["dsl"])
    page = _page(client, investigating)
    # the next step, open, with its form
    assert 'data-testid="step-ready"' in page
    assert reverse("incidents:incident_ready", args=[investigating.pk]) in page
    # adding a person is folded away: fetched when opened, a link without script
    person_url = reverse("incidents:incident_person", args=[investigating.pk])
    assert f'hx-get="{person_url}"' in page
    assert 'href="?step=person#step-person"' in page
    assert 'name="part"' not in page
    assert 'name="learner"' not in page


def test_an_opened_step_fetches_its_form(client, users, community, investigating):
    client.force_login(users["dsl"])
    url = reverse("incidents:incident_person", args=[investigating.pk])
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert f'action="{url}"' in fragment
    assert 'name="part"' in fragment
    assert community["other_learner"].first_name in fragment  # the learners to choose from


def test_without_script_the_page_comes_back_with_the_step_open(client, users, investigating):
    client.force_login(users["dsl"])
    url = reverse("incidents:incident_referral", args=[investigating.pk])
    response = client.get(url)
    detail = reverse("incidents:incident_detail", args=[investigating.pk])
    assert response.status_code == 302
    assert response["Location"] == f"{detail}?step=referral#step-referral"
    page = _page(client, investigating, "?step=referral")
    assert f'action="{url}"' in page
    assert re.search(r'<details[^>]* id="step-referral" open[ >]', page)


def test_the_note_form_is_fetched_too(client, users, investigating):
    client.force_login(users["dsl"])
    url = reverse("incidents:incident_note", args=[investigating.pk])
    assert f'hx-get="{url}"' in _page(client, investigating)
    fragment = client.get(url, **HTMX).content.decode()
    assert 'name="text"' in fragment
    assert 'name="text"' in _page(client, investigating, "?step=note")


def test_a_step_no_longer_open_says_so(client, users, investigating):
    client.force_login(users["dsl"])
    url = reverse("incidents:incident_triage", args=[investigating.pk])  # triaged already
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "no longer open" in fragment
    assert "<form" not in fragment


def test_an_unknown_step_asked_for_opens_nothing(client, users, investigating):
    client.force_login(users["dsl"])
    page = _page(client, investigating, "?step=<script>")
    assert "<script>" not in page.split("<main", 1)[1].split("</main>")[0]
    assert 'name="part"' not in page


@pytest.mark.parametrize("role", ["staff", "office", "governor"])
def test_only_those_who_handle_it_fetch_a_form(client, users, investigating, role):
    client.force_login(users[role])
    url = reverse("incidents:incident_person", args=[investigating.pk])
    response = client.get(url, **HTMX)
    assert response.status_code in (403, 404)
    assert 'name="part"' not in response.content.decode()


def test_the_dsl_sees_the_latest_openings_and_a_link_to_them_all(client, users, investigating):
    for _ in range(ACCESS_LOG_SHOWN + 2):
        record_access_log(user=users["deputy_dsl"], record=investigating)
    client.force_login(users["dsl"])
    # without script the page comes back with the log open (the folded part's link)
    page = _page(client, investigating, "?step=access-log")
    log = page.split('data-testid="access-log"')[1].split("</table>")[0]
    assert log.count("<tr><td") == ACCESS_LOG_SHOWN
    assert log.count("Alice Hawksley") == 1  # this opening, the newest, first
    assert f"Showing the latest {ACCESS_LOG_SHOWN}." in page
    assert reverse("compliance:access_log") + f"?record={investigating.pk}" in page
    # with script, the same part fetched when opened: the same rows
    url = reverse("incidents:incident_access_log", args=[investigating.pk])
    fetched = client.get(url, **HTMX).content.decode()
    assert fetched.split("</table>")[0].count("<tr><td") == ACCESS_LOG_SHOWN
    assert "<html" not in fetched
    # and a plain GET of it (no script) goes to the page with the part open
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith("?step=access-log#access-log")


@pytest.mark.parametrize("role", ["deputy_dsl", "headteacher"])
def test_only_the_dsl_fetches_who_has_opened_it(client, users, investigating, role):
    record_access_log(user=users["deputy_dsl"], record=investigating)
    client.force_login(users[role])
    if role == "deputy_dsl":  # the headteacher does not see a pupils' incident at all
        page = _page(client, investigating, "?step=access-log")
        assert 'id="access-log"' not in page and 'data-testid="access-log"' not in page
    url = reverse("incidents:incident_access_log", args=[investigating.pk])
    response = client.get(url, **HTMX)
    assert response.status_code in (403, 404)
    assert "Viewed: This incident" not in response.content.decode()
