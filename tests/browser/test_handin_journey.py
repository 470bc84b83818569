"""A teacher records the morning hand-in and the afternoon collection for a class.

On a phone-sized screen, where the register is mostly kept: each tap updates the
learner's row in place (htmx), and every page passes axe. Without JavaScript the same
forms post and come back to the register with a message.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from devices.models import HandIn, HandInException
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _row(page: Page, learner):
    return page.locator(f"#learner-{learner.pk}")


def _fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_teacher_records_the_morning_hand_in_and_the_afternoon_collection(
    page: Page, live_server, seeded
):
    community = seeded["community"]
    amira = community["learner"]  # Hana Khan holds parental responsibility for her
    ben = factories.LearnerFactory(
        form_class=community["my_class"], first_name="Ben", last_name="Adams"
    )
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, seeded["users"]["staff"].username)

    # the dashboard leads to today's register of 3A
    panel = page.locator('section[data-panel="handin_today"]')
    expect(panel).to_contain_text("0 handed in, 0 collected")
    panel.get_by_role("link", name="3A hand-in register").click()
    expect(page.get_by_role("heading", name="Hand-in register: 3A", level=1)).to_be_visible()
    expect(page.get_by_text("(today)")).to_be_visible()
    register_url = page.url
    assert _fits_the_screen(page)
    assert_accessible(page)

    # morning: two taps, each row updated in place
    for learner in (amira, ben):
        row = _row(page, learner)
        expect(row).to_contain_text("No device recorded")
        row.get_by_role("button", name=f"Handed in for {learner.full_name}").click()
        expect(row).to_contain_text(f"Saved: {learner.full_name}'s device handed in at")
        expect(row).to_contain_text("switched off")
        expect(
            row.get_by_role("button", name=re.compile("^Collected by the learner"))
        ).to_be_visible()
    expect(page).to_have_url(register_url)  # no page load: the rows were swapped
    summary = page.get_by_role("region", name="Counts for the day")
    expect(summary).to_contain_text("2 handed in")
    expect(summary).to_contain_text("2 still to collect")
    assert HandIn.objects.filter(received_by=seeded["users"]["staff"]).count() == 2
    assert _fits_the_screen(page)
    assert_accessible(page)

    # Ben was seen using a phone at break: the row's folded actions, fetched when opened
    row = _row(page, ben)
    expect(row.get_by_role("button", name=re.compile("^Undo"))).to_have_count(0)
    row.get_by_text("Record an exception, undo or correct for Ben Adams").click()
    expect(row.get_by_role("button", name="Undo the hand-in of Ben Adams")).to_be_visible()
    expect(row.get_by_role("radio", name="Kept a phone instead of handing it in")).to_have_count(0)
    row.get_by_role("radio", name="Phone seen, heard or used in the school day").check()
    row.get_by_label("Details (optional) for Ben Adams").fill("A second phone, at break")
    assert_accessible(page)
    row.get_by_role("button", name="Save the exception for Ben Adams").click()
    expect(row).to_contain_text("Saved: exception for Ben Adams: phone seen, heard or used")
    expect(row).to_contain_text("A second phone, at break")
    expect(summary).to_contain_text("1 exception")
    expect(page).to_have_url(register_url)
    assert HandInException.objects.get(learner=ben).details == "A second phone, at break"

    # home time: Ben takes his own
    _row(page, ben).get_by_role("button", name="Collected by the learner (Ben Adams)").click()
    expect(_row(page, ben)).to_contain_text("Collected")
    expect(_row(page, ben)).to_contain_text("by the learner")
    expect(summary).to_contain_text("1 still to collect")

    # the uncollected list shows Amira's device, waiting
    summary.get_by_role("link", name="List of uncollected devices").click()
    expect(page.get_by_role("heading", name="Uncollected devices", level=1)).to_be_visible()
    expect(page.get_by_test_id("uncollected-count")).to_have_text(
        "1 device handed in and not yet collected."
    )
    table = page.get_by_role("table")
    expect(table).to_contain_text("Khan, Amira")
    expect(table).not_to_contain_text("Adams, Ben")
    assert_accessible(page)

    # back at the register: her mother collects it
    table.get_by_role("link", name="Record collection of Amira Khan's device").click()
    row = _row(page, amira)
    row.get_by_label("or by this parent or carer of Amira Khan").select_option(
        label="Hana Khan (mother)"
    )
    row.get_by_role("button", name=re.compile("^Collected by the parent or carer")).click()
    expect(row).to_contain_text("by Hana Khan (mother)")
    expect(row).to_contain_text("Saved: Amira Khan's device collected by Hana Khan (mother)")
    expect(summary).to_contain_text("0 still to collect")
    assert_accessible(page)

    hand_in = HandIn.objects.get(learner=amira)
    assert hand_in.collected_by_parent == community["parent"]
    assert hand_in.released_by == seeded["users"]["staff"]

    page.goto(f"{live_server.url}/devices/handin/uncollected/")
    expect(page.get_by_test_id("uncollected-count")).to_have_text(
        "Every device handed in on this day has been collected."
    )
    assert_accessible(page)


def test_the_register_works_without_javascript(browser: Browser, live_server, seeded):
    community = seeded["community"]
    amira = community["learner"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server.url, seeded["users"]["staff"].username)
        page.goto(f"{live_server.url}/devices/handin/classes/{community['my_class'].pk}/")

        _row(page, amira).get_by_role("button", name="Handed in for Amira Khan").click()

        expect(page).to_have_url(re.compile(rf"\?date=\d{{4}}-\d\d-\d\d#learner-{amira.pk}$"))
        expect(page.get_by_role("status").first).to_contain_text(
            "Saved: Amira Khan's device handed in at"
        )
        expect(_row(page, amira)).to_contain_text("switched off")

        # the folded actions: their link brings the register back with them open
        _row(page, amira).get_by_text("Record an exception, undo or correct for Amira Khan").click()
        _row(page, amira).get_by_role("link", name="Show these actions").click()
        expect(page).to_have_url(re.compile(rf"&open={amira.pk}#learner-{amira.pk}$"))
        _row(page, amira).get_by_role("button", name="It was not switched off (Amira Khan)").click()
        expect(_row(page, amira)).to_contain_text("not switched off")
        assert HandIn.objects.get(learner=amira).switched_off is False

        _row(page, amira).get_by_role(
            "button", name="Collected by the learner (Amira Khan)"
        ).click()
        expect(_row(page, amira)).to_contain_text("by the learner")
        assert HandIn.objects.get(learner=amira).collected
        # no axe here: it runs as JavaScript; the same pages pass it in the journey above
    finally:
        context.close()


def test_the_dsl_sees_the_whole_school_on_any_day(page: Page, live_server, seeded):
    community = seeded["community"]
    teacher = seeded["users"]["staff"]
    today = timezone.localdate()
    last_week = today - datetime.timedelta(days=7)
    HandIn.objects.create(learner=community["learner"], day=last_week, received_by=teacher)
    HandIn.objects.create(learner=community["other_learner"], day=today, received_by=teacher)
    log_in(page, live_server.url, seeded["users"]["dsl"].username)

    panel = page.locator('section[data-panel="handin_uncollected"]')
    expect(panel).to_contain_text("1 device handed in today and not yet collected.")
    panel.get_by_role("link", name="The whole school today").click()
    expect(
        page.get_by_role("heading", name="Hand-in register: the whole school", level=1)
    ).to_be_visible()
    totals = page.get_by_role("row", name=re.compile("^Whole school"))
    expect(totals).to_have_text(re.compile(r"Whole school\s+3\s+1\s+0\s+0\s+1"))
    assert_accessible(page)

    page.get_by_label("Day", exact=True).fill(last_week.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"\?date={last_week.isoformat()}$"))
    expect(totals).to_have_text(re.compile(r"Whole school\s+3\s+1\s+0\s+0\s+1"))
    expect(page.get_by_role("row", name=re.compile("^3A"))).to_have_text(
        re.compile(r"3A\s+2\s+1\s+0\s+0\s+1")
    )
    page.get_by_role("link", name="3A").click()
    expect(page.get_by_role("heading", name="Hand-in register: 3A", level=1)).to_be_visible()
    expect(_row(page, community["learner"])).to_contain_text("Handed in")
    assert_accessible(page)

    page.goto(f"{live_server.url}/devices/handin/")
    expect(page.get_by_role("heading", name="Hand-in register", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="3B register")).to_be_visible()
    assert_accessible(page)
