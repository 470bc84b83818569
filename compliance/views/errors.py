"""Error pages: a refusal says why (without detail an attacker could use) and is logged."""

import logging

from django.shortcuts import render

security_log = logging.getLogger("vrps.security")


def permission_denied(request, exception=None):
    user = getattr(request, "user", None)
    security_log.warning(
        "access refused: user_id=%s method=%s path=%s",
        getattr(user, "pk", None),
        request.method,
        request.path,
    )
    reason = str(exception) if exception and str(exception) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


def server_error(request):
    # no context processors that could fail again, no detail about the error
    return render(request, "500.html", status=500)
