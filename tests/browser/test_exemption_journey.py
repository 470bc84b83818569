"""The headteacher's journey: approve a learner's medical exemption, issue the agreement,
the learner and a parent sign on screen (and the headteacher), the PDF downloads, and the
fingerprint checks out. Every page passes axe."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
from playwright.sync_api import Page, expect

from devices.models import Agreement, Exemption
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in
from tests.factories_devices_exemptions import request_for_learner

pytestmark = pytest.mark.browser


def draw_signature(page: Page, seed: int = 0) -> None:
    """A signature drawn with the mouse across the signature box."""
    pad = page.get_by_role("img", name=re.compile("Signature box"))
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(left + width * 0.1, top + height * (0.6 + seed * 0.05))
    page.mouse.down()
    for step, (x, y) in enumerate(
        [(0.2, 0.3), (0.3, 0.7), (0.4, 0.35), (0.5, 0.65), (0.6, 0.3), (0.75, 0.6), (0.85, 0.4)]
    ):
        page.mouse.move(left + width * x, top + height * (y + (step % 2) * seed * 0.02), steps=6)
    page.mouse.up()


def test_the_headteacher_approves_a_medical_exemption_and_it_is_signed(
    page: Page, live_server, seeded
):
    users, community = seeded["users"], seeded["community"]
    learner, parent = community["learner"], community["parent"]
    exemption = request_for_learner(learner=learner, by=users["staff"])

    # the dashboard: what waits for the headteacher
    log_in(page, live_server.url, users["headteacher"].username)
    panel = page.locator('section[data-panel="exemptions"]')
    expect(panel).to_contain_text("Awaiting your decision")
    assert_accessible(page)
    panel.get_by_role("link", name="Amira Khan").click()

    # the request, and the decision
    expect(page.get_by_role("heading", name="Amira Khan", level=1)).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Awaiting decision")
    expect(page.get_by_text("will be discussed with the headteacher prior to use")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Reasons for the decision").fill("Letter from the diabetes nurse on file.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved. Next, issue the written agreement.")).to_be_visible()
    expect(page.get_by_test_id("status")).to_have_text("Approved")
    assert_accessible(page)

    # the written agreement: the usual terms are there to edit
    expect(page.get_by_label("Sanctions for misuse")).to_contain_text("Behaviour for Learning")
    page.get_by_label("What is permitted").fill(
        "Reading her blood glucose app and receiving its alerts"
    )
    page.get_by_role("textbox", name=re.compile(r"^Where")).fill(
        "Anywhere on site; the phone stays in her bag"
    )
    page.get_by_role("button", name="Issue the agreement").click()
    expect(page.get_by_role("heading", name=re.compile("Agreement for Amira Khan"))).to_be_visible()
    expect(page.get_by_test_id("agreement-status")).to_have_text("Awaiting signatures")
    assert_accessible(page)

    # the learner signs on screen: her name is already there
    form = page.locator("form[data-signature-form]")
    expect(form.get_by_label("Learner: Amira Khan")).to_be_checked()
    expect(form.get_by_label("Name of the person signing")).to_have_value("Amira Khan")
    draw_signature(page, 0)
    form.get_by_role("button", name="Record the signature").click()
    expect(page.get_by_text("Recorded the signature of Amira Khan (learner).")).to_be_visible()
    expect(page.get_by_role("img", name="Signature of Amira Khan")).to_be_visible()
    assert_accessible(page)

    # an empty box is caught before anything is sent
    form.get_by_role("button", name="Record the signature").click()
    expect(page.get_by_text("The signature box is empty")).to_be_visible()

    # her mother, who holds parental responsibility, signs next
    form.get_by_label("Parent or carer with parental responsibility").check()
    expect(form.get_by_label("Hana Khan (mother)")).to_be_checked()
    expect(form.get_by_label("Name of the person signing")).to_have_value(parent.full_name)
    draw_signature(page, 1)
    form.get_by_role("button", name="Record the signature").click()
    expect(page.get_by_text("Recorded the signature of Hana Khan")).to_be_visible()

    # the headteacher signs for the school; the agreement is fixed and the exemption active
    expect(form.get_by_label("Headteacher", exact=True)).to_be_checked()
    expect(form.get_by_label("Name of the person signing")).to_have_value("Lisa Davis")
    draw_signature(page, 2)
    form.get_by_role("button", name="Record the signature").click()
    expect(page.get_by_text("Signed by everyone: the terms are fixed")).to_be_visible()
    expect(page.get_by_test_id("agreement-status")).to_have_text("Signed")
    agreement = Agreement.objects.get(exemption=exemption)
    expect(page.get_by_test_id("fingerprint")).to_have_text(agreement.fingerprint)
    assert_accessible(page)
    exemption.refresh_from_db()
    assert exemption.status == Exemption.Status.ACTIVE

    # the PDF downloads, and says who signed what, when, and its fingerprint
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"agreement-{agreement.pk}-version-1.pdf"
    reader = pypdf.PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in (
        "Amira Khan",
        "Hana Khan",
        "Lisa Davis",
        "Reading her blood glucose app and receiving its alerts",
        "Anywhere on site; the phone stays in her bag",
        agreement.fingerprint,
    ):
        assert expected in text, expected
    assert len(reader.pages[0].images) + len(reader.pages[-1].images) >= 1

    # the fingerprint checks out against the record
    page.get_by_role("link", name="check it against the record").click()
    expect(
        page.get_by_role("heading", name=re.compile(r"Matches agreement .*: intact"))
    ).to_be_visible()
    assert_accessible(page)

    # the exemption's page tells the whole story
    page.goto(f"{live_server.url}{exemption.get_absolute_url()}")
    expect(page.get_by_test_id("next-step")).to_contain_text("Use is permitted.")
    expect(page.get_by_text("Version 1 signed by everyone: terms fixed")).to_be_visible()
    assert_accessible(page)

    # and the approvals queue shows it active
    page.get_by_role("link", name="Exemptions", exact=True).click()
    queue = page.get_by_role("navigation", name="Exemptions by status")
    queue.get_by_role("link", name=re.compile("^Active")).click()
    row = page.get_by_role("row", name=re.compile("Amira Khan"))
    expect(row).to_contain_text("Active")
    assert_accessible(page)


def test_a_teacher_asks_for_permission(page: Page, live_server, seeded):
    users = seeded["users"]
    # the categories come from a data migration, which a transactional test has flushed
    factories.DeviceCategoryFactory()
    log_in(page, live_server.url, users["staff"].username)
    page.locator('section[data-panel="exemptions"]').get_by_role(
        "link", name="Ask for permission"
    ).click()
    expect(page.get_by_role("heading", name="Ask for an exemption", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Staff: personal device in teaching time (e.g. an emergency)").check()
    page.get_by_role("combobox", name=re.compile("^Device")).select_option(label="Mobile phone")
    page.get_by_label("Why the exception is needed").fill(
        "My father is in hospital; the ward may call during lessons this week."
    )
    page.get_by_label("Until").fill("2099-01-01")
    page.get_by_role("button", name="Ask the headteacher").click()
    # too long: refused with the reason, and what was typed is still there
    expect(page.get_by_text("An exemption lasts at most a year")).to_be_visible()
    expect(page.get_by_label("Why the exception is needed")).to_have_value(
        "My father is in hospital; the ward may call during lessons this week."
    )
    assert_accessible(page)
