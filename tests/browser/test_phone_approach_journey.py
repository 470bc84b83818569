"""The headteacher switches the school to sealed pouches, a teacher records the day's
exceptions on the register, and the headteacher downloads the evidence pack (issue 9).

Each person in their own browser context, as on their own device; every page is checked
with axe, the teacher's on a phone-sized screen where the register is mostly kept.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from compliance.models import PhoneApproach, School
from devices.models import Exemption, HandIn, HandInException
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in
from tests.factories_devices_exemptions import exemption_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _as(browser: Browser, live_server, user, **context) -> Page:
    page = browser.new_context(**context).new_page()
    log_in(page, live_server.url, user.username)
    return page


def _row(page: Page, learner):
    return page.locator(f"#learner-{learner.pk}")


def test_pouches_exceptions_and_the_evidence_pack(browser: Browser, live_server, seeded):
    users, community = seeded["users"], seeded["community"]
    head, teacher = users["headteacher"], users["staff"]
    amira = community["learner"]
    ben = factories.LearnerFactory(
        form_class=community["my_class"], first_name="Ben", last_name="Adams"
    )
    cara = factories.LearnerFactory(
        form_class=community["my_class"], first_name="Cara", last_name="Bell"
    )
    factories.ParentCarerFactory(learners=[cara])
    # Cara's glucose monitor: an exemption in force, signed by her and a parent
    exemption_in(Exemption.Status.ACTIVE, learner=cara, requester=teacher, head=head)

    # the headteacher chooses sealed pouches on the school's details
    page = _as(browser, live_server, head)
    page.get_by_role("link", name="The school's safeguarding contacts").click()
    expect(page.get_by_test_id("phone-approach")).to_have_text(
        "Handed in on arrival, to the class teacher"
    )
    page.get_by_role("link", name="Edit", exact=True).click()
    approach = page.get_by_role("radio", name="Kept in a sealed pouch")
    expect(
        page.get_by_role("radio", name=re.compile("^Kept by the pupil"))
    ).to_have_accessible_name(re.compile("out of step with the January 2026 guidance"))
    assert_accessible(page)
    approach.check()
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_test_id("phone-approach")).to_have_text("Kept in a sealed pouch")
    expect(page.get_by_test_id("phone-approach-warning")).to_have_count(0)
    assert_accessible(page)
    assert School.current().phone_approach == PhoneApproach.POUCH

    # a teacher, on a phone, records the day's exceptions only
    teacher_page = _as(browser, live_server, teacher, viewport=PHONE)
    panel = teacher_page.locator('section[data-panel="handin_today"]')
    panel.get_by_role("link", name="3A hand-in register").click()
    expect(teacher_page.get_by_test_id("handin-approach")).to_contain_text(
        "Phones are kept in sealed pouches all day. Record only the day's exceptions"
    )
    expect(teacher_page.get_by_role("button", name=re.compile("^Handed in"))).to_have_count(0)
    expect(_row(teacher_page, ben)).to_contain_text("No exception recorded")
    expect(_row(teacher_page, cara)).to_contain_text("Exempt")
    expect(_row(teacher_page, cara).get_by_text(re.compile("^Record an exception"))).to_have_count(
        0
    )
    assert_accessible(teacher_page)

    row = _row(teacher_page, amira)
    row.get_by_text("Record an exception for Amira Khan").click()
    row.get_by_role("radio", name="Phone not in a sealed pouch").check()
    row.get_by_label("Details (optional) for Amira Khan").fill("Pouch left open after break")
    assert_accessible(teacher_page)
    row.get_by_role("button", name="Save the exception for Amira Khan").click()
    expect(row).to_contain_text("Saved: exception for Amira Khan: phone not in a sealed pouch.")
    expect(row).to_contain_text("Pouch left open after break")

    row = _row(teacher_page, ben)
    row.get_by_text("Record an exception for Ben Adams").click()
    row.get_by_role("radio", name="Phone seen, heard or used in the school day").check()
    row.get_by_role("button", name="Save the exception for Ben Adams").click()
    expect(row).to_contain_text("Phone seen, heard or used in the school day")
    summary = teacher_page.get_by_role("region", name="Counts for the day")
    expect(summary).to_contain_text("2 exceptions")
    expect(summary).to_contain_text("1 exempt")
    assert teacher_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(teacher_page)
    assert sorted(HandInException.objects.values_list("kind", flat=True)) == [
        HandInException.Kind.POUCH_NOT_SEALED,
        HandInException.Kind.SEEN_OR_USED,
    ]
    assert not HandIn.objects.exists()

    # the headteacher downloads the evidence pack
    page.goto(f"{live_server.url}/")
    evidence = page.locator('section[data-panel="evidence"]')
    evidence.get_by_role("link", name="The evidence pack").click()
    expect(page.get_by_role("heading", name="Inspection evidence pack", level=1)).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Amira")
    assert_accessible(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the evidence pack (PDF)").click()
    download = download_info.value
    assert re.fullmatch(
        r"evidence-pack-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.pdf", download.suggested_filename
    )
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
