"""Logging in: the login page, two-step verification (TOTP and recovery codes), the lockout page.

The flow (docs/decisions/0008): password -> an authenticator app is set up (`mfa_enrol`, once)
or a code is asked for (`mfa_verify`) -> `django_otp.login` marks the session verified.
compliance.middleware.RequireMFAMiddleware sends every other page here until that is done.
"""

from __future__ import annotations

import base64
import io
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.helpers import get_cool_off
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance import security_log
from compliance.middleware import mfa_required_for

SESSION_FAILURES = "vrps_mfa_failures"


class LoginView(auth_views.LoginView):
    """Django's login, which also says when two-step verification is switched off."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "mfa_required": settings.VRPS_REQUIRE_MFA}


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page django-axes shows instead of logging in (AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    context = {
        "minutes": int(cool_off.total_seconds() // 60),
        # each refused try starts the wait again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT)
        "until": timezone.localtime() + cool_off,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
    }
    return render(request, "registration/lockout.html", context, status=429)


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("dashboard")


def _with_next(url_name: str, request: HttpRequest, nxt: str | None = None) -> str:
    """The URL of `url_name`, passing on where to go afterwards."""
    return f"{reverse(url_name)}?{urlencode({'next': nxt or _next_url(request)})}"


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


def _totp_form(data=None) -> CodeForm:
    form = CodeForm(data)
    form.fields["code"].label = "The 6-digit code your app shows"
    form.fields["code"].widget.attrs["inputmode"] = "numeric"
    return form


def _qr_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _grouped(text: str, size: int = 4) -> str:
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def _new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with a fresh set; the only time they are shown.

    The device stays (only its codes change): this session may have been verified by it.
    """
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.VRPS_RECOVERY_CODES)]
    for code in codes:
        device.token_set.create(token=code)
    return [_grouped(code) for code in codes]


def _try_code(device: Device, code: str) -> tuple[bool, str | None]:
    """Whether the device accepts the code, or why it would not check one just now.

    A device refuses a code it has accepted before (TOTP: at or before its last time step;
    a recovery code is deleted when used) and, after each wrong one, waits twice as long
    before it checks another (django-otp's throttling). Call inside a transaction, with the
    device row locked.
    """
    allowed, detail = device.verify_is_allowed()
    if not allowed:
        until = (detail or {}).get("locked_until")
        wait = max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1
        return False, f"Too many wrong codes in a row: wait {wait} seconds, then try again."
    return device.verify_token(code), None


def _render_codes(request: HttpRequest, codes: list[str], *, enrolled: bool) -> HttpResponse:
    context = {"codes": codes, "enrolled": enrolled, "next": _next_url(request)}
    return render(request, "registration/mfa_recovery_codes.html", context)


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), enter a code."""
    user = request.user
    has_device = user_has_device(user, confirmed=True)
    if has_device and not user.is_verified():
        messages.info(request, "Enter a code from your app first; then you can set up another.")
        return redirect(_with_next("mfa_verify", request, reverse("mfa_enrol")))
    # the same key until it is confirmed, so a failed try or a reload does not change the QR code
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = _totp_form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
            confirmed, wait = _try_code(device, _normalise(form.cleaned_data["code"]))
            if confirmed:
                TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                codes = _new_recovery_codes(user)
        if confirmed:
            request.session.cycle_key()
            otp_login(request, device)
            request.session.pop(SESSION_FAILURES, None)
            security_log.mfa_event(request, "two-step set up")
            return _render_codes(request, codes, enrolled=True)
        form.add_error(
            "code",
            wait
            or "That code did not match. Check the time on your phone is right, then enter "
            "the code the app shows now.",
        )
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {
        "form": form,
        "qr": _qr_data_uri(device.config_url),
        "secret": _grouped(secret),
        "issuer": settings.OTP_TOTP_ISSUER,
        "replacing": has_device,
        "required": mfa_required_for(user),
        "next": _next_url(request),
    }
    return render(request, "registration/mfa_enrol.html", context)


def _check_code(user, code: str) -> tuple[Device | None, str | None]:
    """The device that accepts this code, or None and perhaps why it was not checked.

    Six digits are an app's code; anything else is a recovery code, so a mistyped app code
    does not slow down the recovery codes too.
    """
    model = TOTPDevice if (code.isdigit() and len(code) == 6) else StaticDevice
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            return None, None
        accepted, wait = _try_code(device, code)
    return (device if accepted else None), wait


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Enter a code from the authenticator app, or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user, confirmed=True):
        return redirect(_with_next("mfa_enrol", request))
    form = CodeForm(request.POST or None)
    form.fields["code"].label = "Code from your app, or a recovery code"
    if request.method == "POST" and form.is_valid():
        device, wait = _check_code(user, _normalise(form.cleaned_data["code"]))
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            request.session.pop(SESSION_FAILURES, None)
            method = "recovery_code" if isinstance(device, StaticDevice) else "app"
            security_log.mfa_verified(request, method=method)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Each works once: make new ones "
                    "from the two-step verification page if you are running low.",
                )
            return redirect(_next_url(request))
        if wait:
            form.add_error("code", wait)
        else:
            failures = request.session.get(SESSION_FAILURES, 0) + 1
            request.session[SESSION_FAILURES] = failures
            security_log.mfa_failed(request, failures=failures)
            if failures >= settings.VRPS_MFA_MAX_FAILURES:
                user_id = user.pk
                logout(request)
                security_log.mfa_event(
                    request, "logged out after too many wrong codes", user_id=user_id
                )
                messages.error(
                    request,
                    f"A wrong code was entered {failures} times, so you have been logged out. "
                    "Log in again to try once more; if your phone is lost, use a recovery code.",
                )
                return redirect("login")
            left = settings.VRPS_MFA_MAX_FAILURES - failures
            form.add_error(
                "code",
                f"That code was not accepted. {left} more tr{'y' if left == 1 else 'ies'} "
                "before you are logged out.",
            )
    return render(
        request, "registration/mfa_verify.html", {"form": form, "next": _next_url(request)}
    )


def manage(request: HttpRequest) -> HttpResponse:
    """What is set up, and the ways to change it."""
    user = request.user
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    static = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if (totp or static) and not user.is_verified():
        return redirect(_with_next("mfa_verify", request, reverse("mfa_manage")))
    context = {
        "device": totp,
        "codes_left": static.token_set.count() if static else 0,
        "required": mfa_required_for(user),
        "switched_off": not settings.VRPS_REQUIRE_MFA,
    }
    return render(request, "registration/mfa_manage.html", context)


@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """A new set of recovery codes, replacing the old; only once the session is verified."""
    user = request.user
    if not user_has_device(user, confirmed=True):
        return redirect("mfa_enrol")
    if not user.is_verified():
        return redirect(_with_next("mfa_verify", request, reverse("mfa_manage")))
    with transaction.atomic():
        codes = _new_recovery_codes(user)
    security_log.mfa_event(request, "new recovery codes")
    return _render_codes(request, codes, enrolled=False)


urlpatterns = [
    path("", manage, name="mfa_manage"),
    path("enrol/", enrol, name="mfa_enrol"),
    path("verify/", verify, name="mfa_verify"),
    path("recovery-codes/", recovery_codes, name="mfa_recovery_codes"),
]
