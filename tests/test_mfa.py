"""Two-step verification, login lockout, the session limits and the security log."""

import base64
import datetime
import io
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.middleware import SESSION_LOGIN_AT
from compliance.security_log import username_digest
from tests import factories
from tests.authz import matrix, url_kwargs
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
MFA_ON = override_settings(VRPS_REQUIRE_MFA=True)
# no wait between wrong codes, for tests that make several in a row
NO_THROTTLE = override_settings(OTP_TOTP_THROTTLE_FACTOR=0, OTP_STATIC_THROTTLE_FACTOR=0)


def token(key: bytes, *, steps_ahead: int = 0) -> str:
    totp = TOTP(key)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def give_device(user) -> tuple[TOTPDevice, list[str]]:
    """A confirmed authenticator app and three recovery codes."""
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="codes", confirmed=True)
    codes = ["aaaa2222", "bbbb3333", "cccc4444"]
    for code in codes:
        static.token_set.create(token=code)
    return device, codes


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def verify(client: Client, code: str, next_url: str = "/"):
    return client.post(reverse("mfa_verify"), {"code": code, "next": next_url})


# The setting


def test_mfa_is_required_unless_debug_is_on():
    """Off in these tests (test settings turn DEBUG on before reading the settings; Django's
    test runner turns it off again afterwards), on in production by default."""
    from django.conf import settings

    assert os.environ["DEBUG"] == "true" and not settings.VRPS_REQUIRE_MFA
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "VRPS_REQUIRE_MFA"}}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="vrps.settings",
    )
    script = "from vrps import settings; print(settings.VRPS_REQUIRE_MFA)"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "True", result.stderr


def test_login_page_says_when_mfa_is_off(client):
    page = client.get(reverse("login")).content.decode()
    assert "Two-step verification is switched off" in page
    with MFA_ON:
        page = client.get(reverse("login")).content.decode()
    assert "switched off" not in page
    assert "authenticator app" in page


# Every page waits for two-step verification


def test_every_page_sends_an_unenrolled_user_to_enrolment(client, dsl, community):
    exempt = {"login", "logout"}
    client.force_login(dsl)
    with MFA_ON:
        for name in sorted(matrix()):
            if name in exempt or name.startswith("mfa_"):
                continue
            url = reverse(name, kwargs=url_kwargs(name, community))
            response = client.get(url)
            assert response.status_code == 302, name
            assert response["Location"].startswith(reverse("mfa_enrol")), name
        response = client.get(reverse("dashboard"))
        assert response["Location"] == f"{reverse('mfa_enrol')}?next=%2F"
        # the admin too
        for admin_page in ("admin:index", "admin:login"):
            response = client.get(reverse(admin_page))
            assert response["Location"].startswith(reverse("mfa_enrol")), admin_page
        # the way out and the two-step pages themselves are open
        assert client.get(reverse("mfa_enrol")).status_code == 200
        assert client.get(reverse("mfa_manage")).status_code == 200
        assert client.post(reverse("logout")).status_code == 302


def test_every_role_needs_it_and_a_login_with_no_role_does_not(client, users):
    with MFA_ON:
        for role, user in users.items():
            client.force_login(user)
            response = client.get(reverse("dashboard"))
            if role == "outsider":
                assert response.status_code == 200, role
            else:
                assert response.status_code == 302, role
                assert response["Location"].startswith(reverse("mfa_enrol")), role


def test_an_enrolled_user_is_sent_to_verification(client, governor):
    give_device(governor)
    client.force_login(governor)
    with MFA_ON:
        response = client.get(reverse("compliance:school"))
        assert response["Location"] == f"{reverse('mfa_verify')}?next=%2Fcommunity%2Fschool%2F"
        # a POST is sent on without a `next`
        response = client.post(reverse("password_change"), {})
        assert response["Location"] == reverse("mfa_verify")
        # setting up another app needs a code first
        response = client.get(reverse("mfa_enrol"))
        assert response["Location"].startswith(reverse("mfa_verify"))


def test_nothing_is_required_when_switched_off(client, dsl):
    give_device(dsl)
    client.force_login(dsl)
    assert client.get(reverse("dashboard")).status_code == 200


# Enrolment


@MFA_ON
@NO_THROTTLE
def test_enrolment_with_the_key_shown_as_text(client, dsl):
    log_in(client, "dsl")
    response = client.get(reverse("dashboard"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == f"{reverse('mfa_enrol')}?next=%2F"
    assert '<img src="data:image/svg+xml;base64,' in page
    assert 'alt="QR code' in page
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(qr).lstrip().startswith(b"<?xml")
    secret = re.search(r'data-testid="mfa-secret">([A-Z2-7 ]+)<', page).group(1)
    key = base64.b32decode(secret.replace(" ", ""))
    # the page shows the same key until it is confirmed
    again = client.get(reverse("mfa_enrol")).content.decode()
    assert secret in again

    wrong = client.post(reverse("mfa_enrol"), {"code": "000000", "next": "/"})
    assert wrong.status_code == 200
    assert "did not match" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(user=dsl, confirmed=True).exists()

    session_before = client.cookies["sessionid"].value
    done = client.post(reverse("mfa_enrol"), {"code": token(key), "next": "/"})
    assert done.status_code == 200
    page = done.content.decode()
    assert "Two-step verification is set up" in page
    codes = re.findall(r'<li class="col">([a-z2-7]{4} [a-z2-7]{4})</li>', page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=dsl).confirmed
    assert StaticDevice.objects.get(user=dsl).token_set.count() == 10
    # verifying raises the session's privilege: it gets a new key
    assert client.cookies["sessionid"].value != session_before
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("mfa_manage")).content.decode().count("10</strong> unused")


@MFA_ON
def test_moving_to_a_new_phone_replaces_the_app_and_the_codes(client, dsl):
    old, old_codes = give_device(dsl)
    client.force_login(dsl)
    assert verify(client, token(old.bin_key)).status_code == 302
    page = client.get(reverse("mfa_enrol")).content.decode()
    assert "This replaces the authenticator app" in page
    new = TOTPDevice.objects.get(user=dsl, confirmed=False)
    assert client.post(reverse("mfa_enrol"), {"code": token(new.bin_key)}).status_code == 200
    assert list(TOTPDevice.objects.filter(user=dsl).values_list("pk", flat=True)) == [new.pk]
    static = StaticDevice.objects.get(user=dsl)
    assert not static.token_set.filter(token__in=old_codes).exists()
    assert client.get(reverse("dashboard")).status_code == 200


# Verification


@MFA_ON
def test_a_code_from_the_app_lets_the_user_in(client, headteacher, caplog):
    device, _ = give_device(headteacher)
    log_in(client, "head")
    response = client.get(reverse("compliance:staff_list"))
    assert response["Location"] == f"{reverse('mfa_verify')}?next=%2Fcommunity%2Fstaff%2F"
    page = client.get(response["Location"]).content.decode()
    assert "Enter your code" in page
    response = verify(client, token(device.bin_key), "/community/staff/")
    assert response.status_code == 302
    assert response["Location"] == "/community/staff/"
    assert client.get("/community/staff/").status_code == 200
    # an address elsewhere is not followed
    assert verify(client, "123456", "https://evil.example/")["Location"] == "/"


@MFA_ON
def test_a_used_code_is_refused(client, dsl):
    device, _ = give_device(dsl)
    code = token(device.bin_key)
    client.force_login(dsl)
    assert verify(client, code).status_code == 302

    other = Client()
    other.force_login(dsl)
    response = verify(other, code)
    assert response.status_code == 200
    assert "not accepted" in response.content.decode()
    assert other.get(reverse("dashboard")).status_code == 302
    # django-otp refuses any token at or before the last time step it accepted
    device.refresh_from_db()
    device.throttle_reset()
    assert not device.verify_token(code)


@MFA_ON
@NO_THROTTLE
def test_a_recovery_code_works_once(client, dsl):
    _, codes = give_device(dsl)
    client.force_login(dsl)
    response = verify(client, "AAAA-2222")  # as printed, in capitals, with a dash
    assert response.status_code == 302
    page = client.get(reverse("dashboard")).content.decode()
    assert "You used a recovery code; 2 left" in page

    other = Client()
    other.force_login(dsl)
    assert verify(other, codes[0]).status_code == 200
    assert other.get(reverse("dashboard")).status_code == 302
    assert verify(other, codes[1]).status_code == 302


@MFA_ON
@NO_THROTTLE
def test_new_recovery_codes_replace_the_old(client, dsl):
    device, codes = give_device(dsl)
    client.force_login(dsl)
    # not before the session is verified
    response = client.post(reverse("mfa_recovery_codes"))
    assert response["Location"].startswith(reverse("mfa_verify"))
    verify(client, codes[0])
    response = client.post(reverse("mfa_recovery_codes"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You have new recovery codes" in page
    new = [c.replace(" ", "") for c in re.findall(r'<li class="col">([a-z2-7 ]{9})</li>', page)]
    assert len(new) == 10
    # this session stays verified (it was verified by the same device)
    assert client.get(reverse("dashboard")).status_code == 200
    other = Client()
    other.force_login(dsl)
    assert verify(other, codes[1]).status_code == 200
    assert verify(other, new[0]).status_code == 302


@MFA_ON
def test_wrong_codes_are_slowed_down(client, dsl):
    device, _ = give_device(dsl)
    client.force_login(dsl)
    assert verify(client, "000000").status_code == 200
    # django-otp's throttling: the right code straight after a wrong one is not checked
    response = verify(client, token(device.bin_key))
    assert "Too many wrong codes in a row: wait" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


@MFA_ON
@NO_THROTTLE
def test_five_wrong_codes_end_the_session(client, dsl, caplog):
    device, _ = give_device(dsl)
    log_in(client, "dsl")
    for attempt in range(1, 5):
        response = verify(client, "000000")
        assert response.status_code == 200
        assert f"{5 - attempt} more tr" in response.content.decode()
    with caplog.at_level(logging.INFO, logger="vrps.security"):
        response = verify(client, "000000")
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    page = client.get(reverse("login")).content.decode()
    assert "A wrong code was entered 5 times, so you have been logged out" in page
    assert f"logged out after too many wrong codes: user_id={dsl.pk}" in caplog.text
    # a new login may try again
    log_in(client, "dsl")
    assert verify(client, token(device.bin_key)).status_code == 302


# The admin


def test_the_admin_requires_two_step_verification_even_when_switched_off(client):
    admin_user = factories.UserFactory(username="it-admin", is_staff=True, is_superuser=True)
    # no login form of its own: the site's login (lockout, two-step) is the only way in
    response = client.get(reverse("admin:login"))
    assert response["Location"].startswith(reverse("login"))
    client.force_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    device, _ = give_device(admin_user)
    verify(client, token(device.bin_key))
    assert client.get(reverse("admin:index")).status_code == 200


# Lockout


def _fail(client: Client, username: str, times: int, **extra):
    response = None
    for _ in range(times):
        response = log_in(client, username, "not-the-password", **extra)
    return response


def test_five_failures_lock_that_username_from_that_address(client, dsl, teacher):
    response = _fail(client, "dsl", 4)
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    response = _fail(client, "dsl", 1)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Logging in is paused" in page
    until = timezone.localtime() + datetime.timedelta(minutes=15)
    shown = re.search(r'data-testid="lockout-until">(\d\d:\d\d)<', page).group(1)
    assert shown in {
        until.strftime("%H:%M"),
        (until - datetime.timedelta(minutes=1)).strftime("%H:%M"),
    }
    # even the right password is refused now, with the same page, never a 500
    response = log_in(client, "dsl")
    assert response.status_code == 429
    assert SESSION_KEY not in client.session
    # the rest of the school, behind the same address, still logs in
    other = Client()
    assert log_in(other, "teacher").status_code == 302
    assert SESSION_KEY in other.session
    # and the same username from another address is not locked
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert log_in(elsewhere, "dsl").status_code == 302
    # the username is stored only as its digest
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {username_digest("dsl")}
    assert "not-the-password" not in "".join(
        AccessAttempt.objects.values_list("post_data", flat=True)
    )


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_the_lock_is_on_the_address_the_proxy_saw(dsl, caplog):
    def through_proxy(forwarded_for: str) -> Client:
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    # the attacker forges an entry on the left; the proxy adds the address it saw
    attacker = through_proxy("192.0.2.1, 198.51.100.7")
    with caplog.at_level(logging.WARNING, logger="vrps.security"):
        assert _fail(attacker, "dsl", 5).status_code == 429
    assert "login locked out: username_digest=" in caplog.text
    assert "address=198.51.100.7" in caplog.text
    assert AccessAttempt.objects.get().ip_address == "198.51.100.7"
    # the DSL at school, through the same proxy, is not locked out by it
    assert log_in(through_proxy("203.0.113.20"), "dsl").status_code == 302
    # a header that is not an address falls back to the proxy's own
    assert log_in(through_proxy("not-an-address"), "dsl").status_code == 302


def test_the_lock_lifts_after_15_minutes(client, dsl):
    _fail(client, "dsl", 5)
    assert log_in(client, "dsl").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    assert log_in(client, "dsl").status_code == 302


def test_the_lock_ignores_case_and_spaces_in_the_username(client, dsl):
    _fail(client, "DSL", 2)
    _fail(client, " dsl ", 3)
    assert log_in(client, "dsl").status_code == 429


# Sessions


def test_a_new_session_key_at_login(client, dsl):
    session = client.session
    session["seen"] = True
    session.save()
    before = client.cookies["sessionid"].value
    assert log_in(client, "dsl").status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert client.session[SESSION_LOGIN_AT] == pytest.approx(time.time(), abs=5)


def test_sessions_end_8_hours_after_login_however_active(client, dsl):
    log_in(client, "dsl")
    session = client.session
    session[SESSION_LOGIN_AT] = int(time.time()) - 8 * 3600 + 60
    session.save()
    assert client.get(reverse("dashboard")).status_code == 200
    session = client.session
    session[SESSION_LOGIN_AT] = int(time.time()) - 8 * 3600 - 1
    session.save()
    response = client.get(reverse("compliance:school"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/community/school/"
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "logged in more than 8 hours ago" in page
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_session_from_before_the_limit_gets_its_8_hours_from_now(client, dsl):
    client.force_login(dsl)
    session = client.session
    del session[SESSION_LOGIN_AT]
    session.save()
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.session[SESSION_LOGIN_AT] == pytest.approx(time.time(), abs=5)


def test_a_login_made_inactive_elsewhere_is_logged_out_at_its_next_request(client, teacher):
    """In the admin or a script, not only through the staff page (tests/test_community.py)."""
    client.force_login(teacher)
    assert client.get(reverse("dashboard")).status_code == 200
    teacher.is_active = False
    teacher.save()
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# The security log


@MFA_ON
@NO_THROTTLE
def test_the_security_log_has_ids_and_never_secrets_or_names(client, dsl, community, caplog):
    device, codes = give_device(dsl)
    typed_password_as_username = "Hunter2-Typed-In-The-Wrong-Box"
    with caplog.at_level(logging.DEBUG):
        log_in(client, typed_password_as_username, "another-Secret-Guess")
        log_in(client, "dsl", "a-Wrong-Password-99")
        log_in(client, "dsl")
        verify(client, "111111")
        verify(client, token(device.bin_key))
        client.post(reverse("logout"))
        _fail(Client(), "dsl", 5)
    security = [r.getMessage() for r in caplog.records if r.name == "vrps.security"]
    digest = username_digest(typed_password_as_username)
    assert security[:7] == [
        f"login failed: user_id=None username_digest={digest} address=127.0.0.1",
        f"login failed: user_id={dsl.pk} username_digest={username_digest('dsl')} "
        "address=127.0.0.1",
        f"login: user_id={dsl.pk} address=127.0.0.1",
        f"two-step code refused: user_id={dsl.pk} failures_this_session=1 address=127.0.0.1",
        f"two-step verified: user_id={dsl.pk} method=app address=127.0.0.1",
        f"logout: user_id={dsl.pk} address=127.0.0.1",
        f"login failed: user_id={dsl.pk} username_digest={username_digest('dsl')} "
        "address=127.0.0.1",
    ]
    assert (
        f"login locked out: username_digest={username_digest('dsl')} address=127.0.0.1" in security
    )
    learner = community["learner"]
    forbidden = [
        typed_password_as_username,
        typed_password_as_username.lower(),
        "another-Secret-Guess",
        "a-Wrong-Password-99",
        PASSWORD,
        dsl.first_name,
        dsl.last_name,
        learner.first_name,
        learner.last_name,
        device.key,
        base64.b32encode(device.bin_key).decode(),
        *codes,
    ]
    everything = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records
    )  # every logger, not only ours
    for secret in forbidden:
        assert secret not in everything, secret


def test_mfa_reset_command_removes_the_devices(dsl, caplog):
    give_device(dsl)
    with caplog.at_level(logging.INFO, logger="vrps.security"):
        call_command("mfa_reset", "dsl", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=dsl).exists()
    assert not StaticDevice.objects.filter(user=dsl).exists()
    assert f"two-step reset by command: user_id={dsl.pk}" in caplog.text
