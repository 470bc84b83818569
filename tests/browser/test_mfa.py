"""With two-step verification required, a DSL sets up an app, then logs in with a recovery code."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from tests.browser.test_dashboards import assert_accessible
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _log_in_with_password(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    expect(page.get_by_test_id("mfa-off")).to_have_count(0)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _code_for(secret: str) -> str:
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time()
    return f"{totp.token():06d}"


def test_dsl_sets_up_two_step_verification_and_uses_a_recovery_code(
    page: Page, live_server, seeded, settings
):
    # the live server runs in a thread of this process, so it sees this setting
    settings.VRPS_REQUIRE_MFA = True
    base = live_server.url
    dsl = seeded["users"]["dsl"]

    _log_in_with_password(page, base, dsl.username)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/\?next=%2F$"))
    expect(
        page.get_by_role("heading", name="Set up two-step verification", level=1)
    ).to_be_visible()
    expect(page.get_by_alt_text(re.compile("QR code"))).to_be_visible()
    # every other page waits until this is done
    page.goto(f"{base}/community/learners/")
    expect(page).to_have_url(re.compile(r"/accounts/mfa/enrol/"))
    assert_accessible(page)

    secret = page.get_by_test_id("mfa-secret").inner_text()
    page.get_by_label("The 6-digit code your app shows").fill("000000")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("That code did not match")).to_be_visible()
    assert_accessible(page)
    page.wait_for_timeout(1100)  # django-otp waits a second after a wrong code
    page.get_by_label("The 6-digit code your app shows").fill(_code_for(secret))
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Your recovery codes", level=1)).to_be_visible()
    codes = page.get_by_test_id("recovery-codes").get_by_role("listitem").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    # on to the page that was asked for before setting up
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page).to_have_url(f"{base}/community/learners/")
    expect(page.get_by_role("heading", name="Learners", level=1)).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    _log_in_with_password(page, base, dsl.username)
    expect(page).to_have_url(re.compile(r"/accounts/mfa/verify/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Enter your code", level=1)).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Code from your app, or a recovery code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/")
    expect(page.get_by_text("You used a recovery code; 9 left")).to_be_visible()

    page.get_by_role("link", name="Two-step verification").click()
    expect(page.get_by_role("heading", name="Two-step verification", level=1)).to_be_visible()
    expect(page.get_by_text("unused recovery codes")).to_contain_text("9")
    assert_accessible(page)
