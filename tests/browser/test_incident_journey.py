"""The DSL's journey: a teacher reports a phone used to photograph pupils in a classroom; the
DSL triages it from the queue, records a search of the phone with a second member of staff
and a parent's consent, tells the parents, holds the debrief and closes the incident. Every
page passes axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from compliance.models import ActionPlanItem
from incidents.models import Incident
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in

pytestmark = pytest.mark.browser

ACCOUNT = (
    "At 10:15 in 3A I saw Amira holding a phone up and taking photographs of other pupils "
    "during the lesson. She put it in her bag when she saw me."
)


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()


def step(page: Page, key: str):
    """One of the incident page's steps, opened if it is folded away."""
    card = page.get_by_test_id(f"step-{key}")
    if card.get_attribute("open") is None:
        card.locator("summary").first.click()
    return card


def test_the_dsl_triages_searches_tells_parents_debriefs_and_closes(
    page: Page, live_server, seeded
):
    users, community = seeded["users"], seeded["community"]
    teacher, dsl = users["staff"], users["dsl"]
    # the data migrations' rows, flushed by earlier transactional tests
    factories.LocationFactory(name="Classroom", restricted=True)
    factories.DeviceCategoryFactory(name="Mobile phone")

    # The teacher reports it -------------------------------------------------------------
    log_in(page, live_server.url, teacher.username)
    page.goto(f"{live_server.url}/incidents/report/")
    expect(page.get_by_role("heading", name="Report a concern or breach", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Where").select_option(label="Classroom")
    page.get_by_label("Unauthorised photo, video or recording").check()
    person = page.locator("[data-person-row]").first
    person.get_by_label("Who").select_option(label="Amira Khan (3A)")
    person.get_by_label("Subject (did it, or is alleged to have)").check()
    page.get_by_label("What happened, in your own words").fill(ACCOUNT)
    page.get_by_role("button", name="Send to the DSL").click()
    expect(page.get_by_role("heading", name="Your report is sent", level=1)).to_be_visible()
    reference = page.get_by_test_id("reference").inner_text()
    assert_accessible(page)
    log_out(page)

    # The DSL finds it in the triage queue ---------------------------------------------
    log_in(page, live_server.url, dsl.username)
    panel = page.locator('section[data-panel="triage_queue"]')
    expect(panel.get_by_test_id("count")).to_have_text("1")
    assert_accessible(page)
    panel.get_by_role("link", name=re.compile("new report")).click()
    expect(page.get_by_role("heading", name="Triage queue", level=1)).to_be_visible()
    expect(page.get_by_test_id("found")).to_have_text("1 found")
    assert_accessible(page)
    page.get_by_role("link", name=reference).click()

    # The incident page: the account as written, and triage -----------------------------
    expect(page.get_by_role("heading", name=reference, level=1)).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Reported")
    expect(page.get_by_test_id("account")).to_have_text(ACCOUNT)
    assert_accessible(page)
    triage = step(page, "triage")
    triage.get_by_label("Assign to").select_option(label="Alice Hawksley")
    triage.get_by_role("button", name="Triage").click()
    expect(page.get_by_text(f"Triaged {reference}: assigned to Alice Hawksley.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Triaged")
    assert_accessible(page)
    step(page, "investigate").get_by_role("button", name="Start the investigation").click()
    expect(page.get_by_text("The investigation has started.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Investigating")

    # A search, with a second member of staff and a parent's consent --------------------
    page.get_by_role("link", name="Record a search").click()
    expect(
        page.get_by_role("heading", name="Record a search of a learner's device", level=1)
    ).to_be_visible()
    assert_accessible(page)
    form = page.get_by_test_id("search-form")
    form.get_by_label("Which device").fill("Black phone in a red case")
    form.get_by_label("Where the search took place").fill("The DSL's office")
    form.get_by_label("Second member of staff present").select_option(
        label="Tom Teacher (Class teacher)"
    )
    form.get_by_label("Grounds for the search").fill(
        "Seen photographing pupils in the classroom by her teacher."
    )
    form.get_by_label("What was being looked for").fill("Photographs of pupils taken today")
    form.get_by_label("A parent or carer").check()
    form.get_by_label("The parent or carer who consented").select_option(
        label="Hana Khan (mother of Amira Khan)"
    )
    form.get_by_label("How consent was given").fill("By phone to the DSL")
    form.get_by_label("What was found").fill("Four photographs of pupils in 3A, taken today.")
    form.get_by_label("Content deleted", exact=True).check()
    form.get_by_label("Why it was deleted, or the learner asked to delete it").fill(
        "Photographs of pupils taken without consent (image use policy)."
    )
    form.get_by_label("Device retained by the school").check()
    form.get_by_label("Record the confiscation now").check()
    form.get_by_label("Kind of device").select_option(label="Mobile phone")
    form.get_by_label("Where it is kept").fill("School office safe")
    form.get_by_label("Parents or carers have been told of the search and its outcome").check()
    form.get_by_role("button", name="Record the search").click()
    expect(page.get_by_text(f"Recorded the search for {reference}.")).to_be_visible()
    expect(page.get_by_test_id("witness")).to_have_text("Tom Teacher")
    assert_accessible(page)
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=reference, level=1)).to_be_visible()

    # The parents are told -----------------------------------------------------------------
    told = step(page, "parents_told")
    told.get_by_label("Parent or carer told").select_option(label="Hana Khan (mother)")
    told.get_by_label("How").select_option(label="Phone call")
    told.get_by_label("What they were told").fill(
        "What Amira did, the search with her consent, and that the phone is in the office safe."
    )
    told.get_by_role("button", name="Record that they were told").click()
    expect(page.get_by_text("Recorded that Hana Khan was told (phone call).")).to_be_visible()
    assert_accessible(page)

    # The debrief --------------------------------------------------------------------------
    step(page, "ready").get_by_role("button", name="Move to the debrief").click()
    expect(page.get_by_test_id("status")).to_have_text("Awaiting debrief")
    blockers = page.get_by_test_id("blockers")
    expect(blockers).to_contain_text("The debrief has not been recorded (section 9).")
    debrief = step(page, "debrief")
    debrief.get_by_label("Who attended").select_option(
        label=["Hawksley, Alice (Class teacher)", "Teacher, Tom (Class teacher)"]
    )
    debrief.get_by_label("Lessons learnt").fill(
        "The phone was not handed in at the start of the day; registers are now checked."
    )
    debrief.get_by_label("Curriculum changes").fill(
        "A PSHE lesson on consent before taking photographs of others."
    )
    debrief.get_by_label("Action 1: what is to be done").fill("Plan and teach the PSHE lesson")
    debrief.get_by_label("Action 1: owner").select_option(label="Teacher, Tom (Class teacher)")
    debrief.get_by_label("Action 1: due by").fill("2099-12-01")
    assert_accessible(page)
    debrief.get_by_role("button", name="Record the debrief").click()
    expect(page.get_by_text("Debrief recorded; 1 action added to the action plan.")).to_be_visible()

    # Closed, with one timeline of everything ------------------------------------------------
    expect(page.get_by_test_id("blockers")).to_contain_text(
        "Everything the policy asks for is recorded."
    )
    step(page, "close").get_by_role("button", name="Close the incident").click()
    expect(page.get_by_text(f"{reference} is closed.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Closed")
    timeline = page.get_by_test_id("timeline")
    for said in (
        "Reported",
        "Triaged",
        "Investigation started",
        "Device searched: Amira Khan",
        "Second member of staff: Tom Teacher",
        "Device confiscated: Mobile phone",
        "Parent or carer told: Hana Khan",
        "Debrief",
        "Closed",
    ):
        expect(timeline).to_contain_text(said)
    # who has opened it: folded, fetched when the DSL opens it
    page.get_by_text("The latest openings").click()
    expect(page.get_by_test_id("access-log")).to_contain_text("Alice Hawksley")
    assert_accessible(page)

    incident = Incident.objects.get(reference=reference)
    assert (incident.status, incident.closed_by) == (Incident.Status.CLOSED, dsl)
    action = ActionPlanItem.objects.get(source_reference=reference)
    assert action.owner == community["staff"]
