"""Cross-cutting request handling."""

import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_otp import user_has_device

security_log = logging.getLogger("vrps.security")


class NoStoreMiddleware:
    """Pages seen after logging in hold personal data: no browser or proxy may keep them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, private, max-age=0"
        return response


# Two-step verification and the absolute session limit (docs/decisions/0008).

SESSION_LOGIN_AT = "vrps_login_at"
# what an unverified user may still open: the way in, the way out, and the two-step pages
_MFA_EXEMPT_URL_NAMES = frozenset({"login", "logout"})


def mfa_required_for(user) -> bool:
    """Whether this login must pass two-step verification.

    Every role reaches personal data (a governor sees the key contacts), and so does the
    admin (the logins); a login with no role sees nothing and needs none.
    """
    if not (settings.VRPS_REQUIRE_MFA and user.is_authenticated):
        return False
    return bool(user.roles) or user.is_staff or user.is_superuser


def _with_next(url_name: str, request) -> str:
    url = reverse(url_name)
    if request.method == "GET":
        url = f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class RequireMFAMiddleware:
    """Until a login that needs it has passed two-step verification, every page but the way
    in and out sends it to set up an authenticator app (no device yet) or to enter a code.

    Runs after OTPMiddleware, which marks `request.user.is_verified()`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.VRPS_REQUIRE_MFA:
            return None
        match = request.resolver_match
        name = match.view_name if match else ""  # with its namespace: not the admin's login
        if name in _MFA_EXEMPT_URL_NAMES or name.startswith("mfa_"):
            return None
        if request.path.startswith(settings.STATIC_URL):
            return None
        user = request.user
        if not mfa_required_for(user) or user.is_verified():
            return None
        if user_has_device(user, confirmed=True):
            return redirect(_with_next("mfa_verify", request))
        return redirect(_with_next("mfa_enrol", request))


def stamp_login_time(sender, request, user, **kwargs) -> None:
    """user_logged_in: note when this session's login happened (after Django cycled the key)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_LOGIN_AT] = int(time.time())


class SessionLifetimeMiddleware:
    """A session ends 8 hours after its login, however active (the idle limit is Django's).

    Runs after MessageMiddleware, so the login page can say why.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        if SESSION_KEY in session:
            started = session.get(SESSION_LOGIN_AT)
            now = int(time.time())
            if started is None:
                # a session from before this limit existed: its 8 hours start now
                session[SESSION_LOGIN_AT] = now
            elif now - started >= settings.SESSION_ABSOLUTE_SECONDS:
                user_id = request.user.pk
                logout(request)
                security_log.info("session ended at its time limit: user_id=%s", user_id)
                messages.info(
                    request,
                    "You have been logged out because you logged in more than "
                    f"{_duration(settings.SESSION_ABSOLUTE_SECONDS)} ago. Please log in again.",
                )
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{seconds // 60} minutes"
