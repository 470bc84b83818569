"""The security log ("vrps.security"): logins, failures, lockouts and two-step verification.

Each line carries a user id, an address and (from the log format) the time; never a name,
a password, or what was typed as a username on a failed login. People type passwords into
the username box, so that text is kept only as a short keyed digest (HMAC-SHA-256 with the
SECRET_KEY): enough to see repeated attempts at one username, useless for recovering it.
Refused access is logged by compliance.views.errors.permission_denied.
"""

from __future__ import annotations

import ipaddress
import logging

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

log = logging.getLogger("vrps.security")

_DIGEST_SALT = "vrps.security.username"


def username_digest(username: str | None) -> str | None:
    """A short keyed digest of what was typed as a username (case and spaces ignored)."""
    if not username:
        return None
    normalised = username.strip().lower()
    return salted_hmac(_DIGEST_SALT, normalised, algorithm="sha256").hexdigest()[:12]


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """What django-axes stores and locks on instead of the typed username.

    AXES_USERNAME_CALLABLE: called with the credentials, or with only the request.
    """
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = request.POST.get("username")
    return username_digest(typed)


def client_address(request: HttpRequest) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE).

    REMOTE_ADDR; behind TRUSTED_PROXY_COUNT proxies, the entry the outermost of them added to
    X-Forwarded-For (counted from the right: entries further left are the client's to forge).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        entries = [entry.strip() for entry in forwarded if entry.strip()]
        if len(entries) >= count:
            try:
                return str(ipaddress.ip_address(entries[-count]))
            except ValueError:
                pass  # not an address: the proxy is not the one configured
    return request.META.get("REMOTE_ADDR")


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return get_client_ip_address(request)


def _user_id_for(username: str | None) -> int | None:
    """The id of the account a failed login named, if there is one (never the name)."""
    if not username:
        return None
    model = get_user_model()
    return (
        model.objects.filter(**{model.USERNAME_FIELD: username})
        .values_list("pk", flat=True)
        .first()
    )


def _logged_in(sender, request, user, **kwargs) -> None:
    log.info("login: user_id=%s address=%s", user.pk, _address(request))


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        log.info("logout: user_id=%s address=%s", user.pk, _address(request))


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    typed = credentials.get("username")
    log.warning(
        "login failed: user_id=%s username_digest=%s address=%s",
        _user_id_for(typed),
        username_digest(typed),
        _address(request),
    )


def _locked_out(sender, request, username, ip_address, **kwargs) -> None:
    # `username` here is already the digest (AXES_USERNAME_CALLABLE)
    log.warning("login locked out: username_digest=%s address=%s", username, ip_address)


def mfa_verified(request: HttpRequest, *, method: str) -> None:
    log.info(
        "two-step verified: user_id=%s method=%s address=%s",
        request.user.pk,
        method,
        _address(request),
    )


def mfa_failed(request: HttpRequest, *, failures: int) -> None:
    log.warning(
        "two-step code refused: user_id=%s failures_this_session=%s address=%s",
        request.user.pk,
        failures,
        _address(request),
    )


def mfa_event(request: HttpRequest, event: str, *, user_id: int | None = None) -> None:
    """Enrolment, new recovery codes, a session ended for too many wrong codes."""
    if user_id is None:
        user_id = request.user.pk
    log.info("%s: user_id=%s address=%s", event, user_id, _address(request))


def connect() -> None:
    """Called from ComplianceConfig.ready()."""
    from compliance.middleware import stamp_login_time

    user_logged_in.connect(_logged_in, dispatch_uid="vrps.security.logged_in")
    user_logged_out.connect(_logged_out, dispatch_uid="vrps.security.logged_out")
    user_login_failed.connect(_login_failed, dispatch_uid="vrps.security.login_failed")
    user_locked_out.connect(_locked_out, dispatch_uid="vrps.security.locked_out")
    # the 8-hour limit counts from the login (SessionLifetimeMiddleware)
    user_logged_in.connect(stamp_login_time, dispatch_uid="vrps.session.login_time")
