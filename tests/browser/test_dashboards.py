"""Each role logs in through the real form, reaches its dashboard, and the pages pass axe."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = {"serious", "critical"}
ALL_PANELS = {"policy_review", "key_contacts", "community", "my_classes"}

# role: (users key, name and role labels in the header, panels the role sees)
ROLES = {
    "dsl": (
        "Alice Hawksley · Designated Safeguarding Lead",
        {"policy_review", "key_contacts", "community"},
    ),
    "deputy_dsl": ("Sue Vincent · Deputy DSL", {"policy_review", "key_contacts", "community"}),
    "headteacher": (
        "Lisa Davis · Deputy DSL, Headteacher",
        {"policy_review", "key_contacts", "community"},
    ),
    "office": ("Olive Clerk · School office", {"policy_review", "key_contacts", "community"}),
    "staff": (
        "Tom Teacher · Staff",
        {"policy_review", "key_contacts", "community", "my_classes"},
    ),
    "governor": ("Barbara Saltmarsh · Governor", {"policy_review", "key_contacts"}),
}

_axe = Axe()


def assert_accessible(page: Page) -> None:
    """Fail on any axe-core violation of serious or critical impact."""
    violations = [
        v for v in _axe.run(page).response["violations"] if v.get("impact") in BLOCKING_IMPACTS
    ]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(
            ", ".join(node["target"]) + "  " + node.get("failureSummary", "").replace("\n", " ")
            for node in v["nodes"]
        )
        for v in violations
    )
    assert not violations, f"axe found serious/critical violations on {page.url}:\n{report}"


def log_in(page: Page, base_url: str, username: str) -> None:
    """Visit /, get sent to the login form, and log in with the factory password."""
    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def test_login_page_is_accessible(page: Page, live_server, seeded):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("role", list(ROLES))
def test_role_logs_in_and_reaches_dashboard(page: Page, live_server, seeded, role):
    who, panels = ROLES[role]
    user = seeded["users"][role]

    log_in(page, live_server.url, user.username)

    expect(page.get_by_test_id("who")).to_have_text(who)
    for key in sorted(panels):
        expect(page.locator(f'section[data-panel="{key}"]')).to_be_visible()
    for key in sorted(ALL_PANELS - panels):
        expect(page.locator(f'section[data-panel="{key}"]')).to_have_count(0)
    if "my_classes" in panels:
        my_class = seeded["community"]["my_class"].name
        expect(page.locator('section[data-panel="my_classes"]')).to_contain_text(my_class)
    review = seeded["policy"].next_review
    expect(page.locator("footer")).to_contain_text(f"Next review: {review.day} {review:%B %Y}")
    assert_accessible(page)


def test_dsl_finds_a_learner_by_name(page: Page, live_server, seeded):
    learner = seeded["community"]["learner"]
    other = seeded["community"]["other_learner"]
    log_in(page, live_server.url, seeded["users"]["dsl"].username)

    page.locator('section[data-panel="community"]').get_by_role("link", name="Learners").click()
    expect(page.get_by_role("heading", name="Learners", level=1)).to_be_visible()
    results = page.get_by_role("table")
    expect(
        results.get_by_role("link", name=f"{other.last_name}, {other.first_name}")
    ).to_be_visible()

    search = page.get_by_role("search", name="Filter")
    search.get_by_label("Search").fill(learner.first_name)
    search.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"[?&]q={learner.first_name}(&|$)"))
    expect(page.get_by_text("1 found")).to_be_visible()
    expect(
        results.get_by_role("link", name=f"{other.last_name}, {other.first_name}")
    ).to_have_count(0)
    assert_accessible(page)

    results.get_by_role("link", name=f"{learner.last_name}, {learner.first_name}").click()
    expect(page).to_have_url(f"{live_server.url}/community/learners/{learner.pk}/")
    expect(page.get_by_role("heading", name=learner.full_name, level=1)).to_be_visible()
    assert_accessible(page)


def test_log_out_returns_to_the_login_page(page: Page, live_server, seeded):
    log_in(page, live_server.url, seeded["users"]["staff"].username)

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in", level=1)).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
