"""A teacher reports a concern on a phone-sized screen, in a few taps (section 9).

The people list finds a name as it is typed, a row at a time; choosing "Sharing nudes or
semi-nudes" shows the guidance's instruction; the page fits the screen and passes axe.
"""

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_teacher_reports_a_concern_on_a_phone(page: Page, live_server, seeded):
    community = seeded["community"]
    classroom = factories.LocationFactory(name="Classroom", restricted=True)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, seeded["users"]["staff"].username)

    page.locator('section[data-panel="report_concern"]').get_by_role(
        "link", name="Report a concern"
    ).click()
    expect(page.get_by_role("heading", name="Report a concern or breach", level=1)).to_be_visible()
    assert _fits_the_screen(page)
    assert_accessible(page)

    # the instruction shows when the category is chosen, not before
    instruction = page.get_by_test_id("nudes-instruction")
    expect(instruction).to_be_hidden()
    page.get_by_label("Sharing nudes or semi-nudes").check()
    expect(instruction).to_be_visible()
    expect(instruction).to_contain_text(
        "Do not view, copy, print, share, store or ask for the image."
    )
    expect(page.locator('input[type="file"]')).to_have_count(0)
    page.get_by_label("Cyberbullying").check()
    expect(instruction).to_be_hidden()

    page.get_by_label("Where").select_option(label="Classroom")
    # one person row at a time; typing finds the name
    rows = page.locator("[data-person-row]")
    expect(rows.nth(0)).to_be_visible()
    expect(rows.nth(1)).to_be_hidden()
    rows.nth(0).get_by_label("Find a person by name").fill("amira")
    expect(rows.nth(0).get_by_label("Who")).to_have_value(f"learner-{community['learner'].pk}")
    rows.nth(0).get_by_label("Affected").check()
    page.get_by_role("button", name="Add another person").click()
    expect(rows.nth(1)).to_be_visible()
    page.get_by_label("What happened, in your own words").fill(
        "A message calling her names was shared in a group chat."
    )
    page.get_by_role("button", name="Send to the DSL").click()

    expect(page.get_by_role("heading", name="Your report is sent", level=1)).to_be_visible()
    incident = Incident.objects.get()
    expect(page.get_by_test_id("reference")).to_have_text(incident.reference)
    assert incident.location == classroom
    assert incident.people.get().learner == community["learner"]
    assert _fits_the_screen(page)
    assert_accessible(page)

    page.get_by_role("link", name="Open your report").click()
    expect(page.get_by_test_id("status")).to_contain_text("Reported")
    assert _fits_the_screen(page)
    assert_accessible(page)


def test_without_javascript_every_row_and_the_instruction_show(browser, live_server, seeded):
    factories.LocationFactory(name="Classroom", restricted=True)
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    try:
        log_in(page, live_server.url, seeded["users"]["staff"].username)
        page.goto(f"{live_server.url}/incidents/report/")
        expect(page.get_by_test_id("nudes-instruction")).to_be_visible()
        rows = page.locator("[data-person-row]")
        expect(rows).to_have_count(5)
        for index in range(5):
            expect(rows.nth(index)).to_be_visible()
        expect(page.get_by_role("button", name="Add another person")).to_be_hidden()
        assert _fits_the_screen(page)
    finally:
        context.close()
