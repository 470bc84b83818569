"""The office clerk's journey at the reception desk (policy section 7), with the keyboard
alone: a multi-agency social worker arrives for a meeting with a learner and needs their
phone; the headteacher has already approved that use. The clerk finds them, signs them in
with the verbal briefing and the device use agreed, records both signatures from paper scans,
downloads the agreement PDF and signs them out. Every page passes axe.

A teacher then sees who is on site and reports a concern about the visitor from the visit.

From the dashboard on, the clerk uses only keys: Tab, Shift+Tab, Enter, Space, the arrow keys
and typing. Locators only say where the focus should be, and check what the pages show.
"""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import pypdf
import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from compliance.models import Visit, Visitor, VisitorType
from devices import reception, services
from devices.models import Agreement, Exemption, VisitorDeviceAgreement
from devices.reception import DeviceUse
from incidents.access import incidents_for
from incidents.models import Category, Incident, Location
from tests import factories
from tests.browser.test_dashboards import assert_accessible, log_in

pytestmark = pytest.mark.browser

# what the scanner makes of the signed paper copy: only the magic number is checked
SCAN = b"%PDF-1.4\n% the agreement, signed on paper\n"
ACCOUNT = "Taking photographs in 3A with the learners' work and faces in view."


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """The scans are stored under MEDIA_ROOT; the live server runs in this process."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def social_worker(seeded) -> Visitor:
    """Sam Hill, with the headteacher's approval to use a phone with a learner (section 7)."""
    users = seeded["users"]
    visitor = factories.VisitorFactory(
        first_name="Sam",
        last_name="Hill",
        organisation="Kent Children's Services",
        visitor_type=VisitorType.MULTI_AGENCY,
    )
    # the categories come from a data migration, which a transactional test has flushed
    phone = factories.DeviceCategoryFactory(name="Mobile phone")
    today = timezone.localdate()
    exemption = services.exemption_request(
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
        subject=visitor,
        category=phone,
        reason="Child protection plan: notes of the meeting with the learner on a work phone",
        starts=today,
        ends=today + datetime.timedelta(days=30),
        by=users["office"],
    )
    services.exemption_decide(
        exemption=exemption, approve=True, reasons="Agreed for the plan", by=users["headteacher"]
    )
    return visitor


def _focused(page: Page) -> str:
    """The focused element, described for a failure message."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return "nothing";
            const text = (e.innerText || e.value || "").trim().slice(0, 60);
            return `<${e.tagName.toLowerCase()} id="${e.id}" name="${e.name || ""}"> ${text}`;
        }"""
    )


def tab_to(page: Page, target: Locator, *, key: str = "Tab", limit: int = 60) -> int:
    """Press Tab (or `key`) until `target` has the focus; how many presses it took."""
    expect(target).to_be_attached()
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if target.evaluate("element => element === document.activeElement"):
            return presses
    where = _focused(page)
    raise AssertionError(f"{limit} × {key} never reached {target}: the focus is on {where}")


def press_enter_on(page: Page, target: Locator, **kwargs) -> None:
    tab_to(page, target, **kwargs)
    page.keyboard.press("Enter")


def intercept_file_choosers(page: Page) -> None:
    """Have Chromium hand every file chooser to Playwright from now on.

    expect_file_chooser() switches the interception on only as it starts listening, and a key
    pressed straight after can overtake that: the chooser then opens unseen and the wait times
    out (about one run in five on a busy machine). A listener added early settles it."""
    page.on("filechooser", lambda chooser: None)


def upload_scan_by_keyboard(page: Page, file_input: Locator, tmp_path: Path, name: str) -> None:
    """Open the file chooser from the keyboard (Space on the focused file input)."""
    tab_to(page, file_input)
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    scan = tmp_path / name
    scan.write_bytes(SCAN)
    chooser.value.set_files(scan)


def test_the_office_signs_in_a_social_worker_with_the_keyboard_alone(
    page: Page, live_server, seeded, social_worker, tmp_path
):
    users = seeded["users"]
    dsl, office = users["dsl"].staff_member, users["office"].staff_member
    intercept_file_choosers(page)
    log_in(page, live_server.url, users["office"].username)

    # The dashboard: the "Visitors on site" panel leads to the desk ------------------------
    panel = page.locator('section[data-panel="reception"]')
    expect(panel.get_by_role("heading", name="Visitors on site")).to_be_visible()
    press_enter_on(page, panel.get_by_role("link", name="The reception desk"))
    expect(page.get_by_role("heading", name="Reception", level=1)).to_be_visible()
    # the search box has the focus: a few letters find the visitor as they are typed
    search = page.get_by_role("searchbox", name="Find a visitor")
    expect(search).to_be_focused()
    assert_accessible(page)
    page.keyboard.type("hill")
    sign_in = page.get_by_role("link", name="Sign in Sam Hill")
    expect(sign_in).to_be_visible()
    expect(page.get_by_role("list", name="Visitors found")).to_contain_text(
        "Kent Children's Services"
    )
    assert_accessible(page)
    press_enter_on(page, sign_in)

    # The sign-in form: an Enter too soon says what is missing and keeps what was typed ---
    expect(page.get_by_role("heading", name="Sign in Sam Hill", level=1)).to_be_visible()
    assert_accessible(page)
    host = page.get_by_label("Host (member of staff)")
    tab_to(page, host)
    page.keyboard.type("Alice")
    expect(host).to_have_value(str(dsl.pk))
    tab_to(page, page.get_by_label("Purpose of the visit"))
    page.keyboard.type("Child protection meeting with a learner")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Give the visitor the verbal briefing, then tick")).to_be_visible()
    expect(page.get_by_label("Purpose of the visit")).to_have_value(
        "Child protection meeting with a learner"
    )
    expect(page.get_by_label("Host (member of staff)")).to_have_value(str(dsl.pk))
    assert not Visit.objects.filter(visitor=social_worker).exists()
    assert_accessible(page)

    # the focus is on the first thing to put right: the briefing, given by the clerk
    briefing = page.get_by_role("checkbox", name=re.compile("given the verbal briefing"))
    expect(briefing).to_be_focused()
    page.keyboard.press("Space")
    expect(briefing).to_be_checked()
    expect(page.get_by_label("Briefing given by")).to_have_value(str(office.pk))
    no_use = page.get_by_label("None: the device stays away while on site")
    agreed = page.get_by_label("A specific purpose agreed by a member of staff")
    purpose = page.get_by_role("textbox", name="Purpose agreed", exact=True)
    expect(purpose).to_be_hidden()  # shown only for a specific purpose
    tab_to(page, page.locator("input[name='use']:checked"))
    page.keyboard.press("ArrowDown")
    expect(agreed).to_be_checked()
    expect(no_use).not_to_be_checked()
    tab_to(page, purpose)
    page.keyboard.type("Notes of the meeting with the learner on a work phone")
    tab_to(page, page.get_by_role("textbox", name="Where", exact=True))
    page.keyboard.type("The meeting room only")
    tab_to(page, page.get_by_role("textbox", name="When", exact=True))
    page.keyboard.type("During the meeting, 10:00 to 11:00")
    agreed_by = page.get_by_role("combobox", name="Agreed by (member of staff)")
    tab_to(page, agreed_by)
    page.keyboard.type("Alice")
    expect(agreed_by).to_have_value(str(dsl.pk))
    with_learners = page.get_by_role("checkbox", name="The use involves working with learners")
    tab_to(page, with_learners)
    page.keyboard.press("Space")
    expect(with_learners).to_be_checked()
    exemption = Exemption.objects.get(visitor=social_worker)
    approval = page.get_by_role("combobox", name="Headteacher's approval")
    tab_to(page, approval)
    # the approval in force is not chosen for the clerk (the empty choice reads "None in
    # force"); the desk would use it anyway, but the clerk chooses it so the form says so
    if approval.input_value() != str(exemption.pk):
        page.keyboard.press("ArrowDown")
    expect(approval).to_have_value(str(exemption.pk))
    press_enter_on(page, page.get_by_role("button", name="Sign in and record the agreement"))

    # The visit -------------------------------------------------------------------------
    expect(page.get_by_role("heading", name="Visit by Sam Hill", level=1)).to_be_visible()
    expect(page.get_by_test_id("visit-status")).to_have_text("On site")
    expect(page.get_by_text("Signed in Sam Hill at")).to_be_visible()
    record = VisitorDeviceAgreement.objects.get(visit__visitor=social_worker)
    assert record.briefing_given and record.briefed_by == office
    assert record.use == VisitorDeviceAgreement.Use.AGREED and record.agreed_by == dsl
    assert record.with_learners and record.exemption == exemption
    expect(page.get_by_text(f"exemption #{exemption.pk}, approved")).to_be_visible()
    assert_accessible(page)
    press_enter_on(page, page.get_by_role("link", name="Record the signatures"))

    # The agreement: the visitor signs on paper, then the member of staff who agreed -----
    expect(page.get_by_role("heading", name=re.compile("^Agreement for Sam Hill"))).to_be_visible()
    expect(page.get_by_test_id("agreement-status")).to_have_text("Awaiting signatures")
    assert_accessible(page)
    form = page.locator("form[data-signature-form]")
    expect(form.get_by_label("Name of the person signing")).to_have_value("Sam Hill")
    drawn = form.get_by_label("Drawn on screen")
    paper = form.get_by_label("Signed on paper (scan uploaded)")
    expect(drawn).to_be_checked()
    tab_to(page, drawn)  # the link went to the form (#sign): a few keys, not the whole page
    page.keyboard.press("ArrowDown")
    expect(paper).to_be_checked()
    upload_scan_by_keyboard(page, form.locator("input[type='file']"), tmp_path, "sam-hill.pdf")
    tab_to(page, form.get_by_role("button", name="Record the signature"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Recorded the signature of Sam Hill (visitor).")).to_be_visible()
    assert_accessible(page)

    # the member of staff who agreed signs next: "Sign now" goes straight to the form
    press_enter_on(page, page.get_by_role("link", name="Sign now as staff member"))
    expect(form.get_by_label("Name of the person signing")).to_have_value("Alice Hawksley")
    tab_to(page, form.locator("input[name='method']:checked"))
    page.keyboard.press("ArrowDown")
    expect(form.get_by_label("Signed on paper (scan uploaded)")).to_be_checked()
    upload_scan_by_keyboard(page, form.locator("input[type='file']"), tmp_path, "hawksley.pdf")
    tab_to(page, form.get_by_role("button", name="Record the signature"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed by everyone: the terms are fixed")).to_be_visible()
    expect(page.get_by_test_id("agreement-status")).to_have_text("Signed")
    agreement = Agreement.objects.get(pk=record.agreement_id)
    assert agreement.status == Agreement.Status.SIGNED and len(agreement.fingerprint) == 64
    expect(page.get_by_test_id("fingerprint")).to_have_text(agreement.fingerprint)
    assert_accessible(page)

    # The PDF: the same form as every agreement, naming the visitor, with the fingerprint
    download_link = page.get_by_role("link", name="Download PDF")
    tab_to(page, download_link)
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"agreement-{agreement.pk}-version-1.pdf"
    reader = pypdf.PdfReader(io.BytesIO(Path(download.path()).read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in (
        "Agreement for the use of a personal device",
        "Sam Hill",
        "Kent Children's Services",
        "Verbal briefing given by Olive Clerk",
        "Agreed by Alice Hawksley",
        "Notes of the meeting with the learner on a work phone",
    ):
        assert expected in text, expected
    assert agreement.fingerprint in text.replace(" ", "")

    # Back to the visit, and sign them out ----------------------------------------------
    press_enter_on(page, page.get_by_role("link", name="Back to the visit"))
    expect(page.get_by_role("heading", name="Visit by Sam Hill", level=1)).to_be_visible()
    expect(page.get_by_text(f"Fingerprint {agreement.fingerprint}")).to_be_visible()
    press_enter_on(page, page.get_by_role("button", name="Sign out"))
    expect(page.get_by_role("heading", name="Reception", level=1)).to_be_visible()
    expect(page.get_by_text("Signed out Sam Hill at")).to_be_visible()
    on_site = page.locator("section[aria-labelledby='on-site-heading']")
    expect(on_site.get_by_text("Sam Hill")).to_have_count(0)
    signed_out = page.locator("section[aria-labelledby='today-heading']")
    expect(signed_out.get_by_role("link", name="Sam Hill")).to_be_visible()
    assert_accessible(page)
    visit = Visit.objects.get(visitor=social_worker)
    assert visit.left is not None

    # the desk's other errand, a call home, is two keys back from the search box
    expect(page.get_by_role("searchbox", name="Find a visitor")).to_be_focused()
    press_enter_on(page, page.get_by_role("link", name="Log a call home"), key="Shift+Tab")
    expect(page.get_by_role("heading", name="Log a call home", level=1)).to_be_visible()
    assert_accessible(page)


def test_a_teacher_reports_a_concern_about_a_visitor_on_site(
    page: Page, live_server, seeded, social_worker
):
    users = seeded["users"]
    # the data migration's locations, flushed by earlier transactional tests
    factories.LocationFactory(name="Classroom", restricted=True)
    reception.visit_sign_in(
        visitor=social_worker,
        host=users["dsl"].staff_member,
        purpose="Child protection meeting",
        use=DeviceUse(
            briefing_given=True,
            briefed_by=users["office"].staff_member,
            use=VisitorDeviceAgreement.Use.NONE,
        ),
        by=users["office"],
    )
    log_in(page, live_server.url, users["staff"].username)

    # who is on site, and what each may use
    panel = page.locator('section[data-panel="reception"]')
    press_enter_on(page, panel.get_by_role("link", name=re.compile("^Who is on site")))
    expect(page.get_by_role("heading", name="Visitors on site now", level=1)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Sam Hill"))).to_contain_text("None")
    assert_accessible(page)
    press_enter_on(page, page.get_by_role("link", name="Sam Hill"))

    # the visit: a teacher sees it and may report, but does not keep the desk
    expect(page.get_by_role("heading", name="Visit by Sam Hill", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("Download the agreement"))).to_have_count(0)
    assert_accessible(page)
    press_enter_on(page, page.get_by_role("link", name="Report a concern about this visitor"))

    # the report names the visitor as its subject and the category already
    expect(page.get_by_role("heading", name="Report a concern or breach", level=1)).to_be_visible()
    expect(page.get_by_role("radio", name="Visitor misuse")).to_be_checked()
    row = page.locator("[data-person-row]").first
    expect(row.get_by_label("Who")).to_have_value(f"visitor-{social_worker.pk}")
    expect(row.get_by_role("radio", name=re.compile("^Subject"))).to_be_checked()
    assert_accessible(page)
    where = page.get_by_role("combobox", name=re.compile("^Where"))
    tab_to(page, where)
    page.keyboard.type("Class")
    expect(where).to_have_value(str(Location.objects.get(name="Classroom").pk))
    tab_to(page, page.get_by_role("textbox", name=re.compile("^What happened")))
    page.keyboard.type(ACCOUNT)
    press_enter_on(page, page.get_by_role("button", name="Send to the DSL"))
    expect(page.get_by_role("heading", name="Your report is sent", level=1)).to_be_visible()

    # an incident with the visitor in it, which the headteacher sees as well as the DSL
    incident = Incident.objects.get(category=Category.VISITOR_MISUSE)
    assert incident.account == ACCOUNT
    assert incident.people.filter(visitor=social_worker, part="subject").exists()
    assert incidents_for(users["headteacher"]).filter(pk=incident.pk).exists()
    assert_accessible(page)
