"""The DSL records a review, the governor signs it off, opens the reports and downloads
last year's PDF; every page on the way passes axe."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from compliance import review_services as rs
from compliance.models import PolicyReview
from devices import report as devices_report
from incidents import report as incidents_report
from tests.browser.test_dashboards import assert_accessible, log_in

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def report_sections():
    """devices and incidents register their sections from their AppConfig.ready()."""
    devices_report.register()
    incidents_report.register()


def test_dsl_records_a_review_and_the_governor_signs_it_off(page: Page, live_server, seeded):
    dsl, governor = seeded["users"]["dsl"], seeded["users"]["governor"]

    log_in(page, live_server.url, dsl.username)
    panel = page.locator('section[data-panel="review_lead"]')
    panel.get_by_role("link", name="Record a review").click()
    expect(
        page.get_by_role("heading", name="Record a review of the policy", level=1)
    ).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Trigger").select_option(label="National or local guidance update")
    page.get_by_label("What changed").fill("Brought in line with the updated national guidance.")
    page.get_by_label("New version number").fill("2026.9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("sign-off")).to_have_text("Awaiting a governor's sign-off")
    assert_accessible(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server.url, governor.username)
    panel = page.locator('section[data-panel="review_governor"]')
    panel.get_by_role("link", name=re.compile(r"^Review of .*version 2026\.9")).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Review of "), level=1)).to_be_visible()
    # governors see what was decided, not who decided it
    expect(page.get_by_role("main")).not_to_contain_text(dsl.last_name)
    assert_accessible(page)
    page.get_by_role("button", name="Sign off this review").click()
    expect(page.get_by_test_id("sign-off")).to_contain_text("Signed off on")
    expect(page.get_by_role("status")).to_contain_text("you signed off the review")
    assert_accessible(page)
    review = PolicyReview.objects.get(new_version__number="2026.9")
    assert review.governor_signed_by == governor


def test_governor_opens_the_reports_and_downloads_last_years_pdf(page: Page, live_server, seeded):
    governor = seeded["users"]["governor"]
    last = rs.school_year_start(timezone.localdate()).year - 1
    label = f"{last} to {last + 1}"

    log_in(page, live_server.url, governor.username)
    assert_accessible(page)
    page.locator('section[data-panel="review_governor"]').get_by_role(
        "link", name="Governors' annual reports"
    ).click()
    expect(page.get_by_role("heading", name="Governors' annual reports", level=1)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name=label, exact=True).click()
    expect(page.get_by_role("heading", name=f"Governors' annual report, {label}")).to_be_visible()
    expect(page.locator("main svg").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(seeded["community"]["learner"].last_name)
    assert_accessible(page)

    page.go_back()
    with page.expect_download() as info:
        page.get_by_role("link", name=f"PDF for {label}").click()
    download = info.value
    assert download.suggested_filename == f"governors-report-{last}-{last + 1}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
