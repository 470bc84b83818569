"""The benchmark's reference page: the 50 latest visits, each with its visitor.

Kept in the project on purpose (issue 8, bench/README.md): a minimal login-required list of
one model with one `select_related` and no other logic. Every key page's requests per second
are measured against this page's, on the same machine and database, so the targets do not
depend on the hardware. Do not add filters, panels or links here: that would move the bar.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_safe

from compliance import access
from compliance.models import Visit

ROWS = 50


@require_safe
def reference(request: HttpRequest) -> HttpResponse:
    visits = access.visible(request.user, Visit).select_related("visitor")[:ROWS]
    return render(request, "compliance/reference.html", {"visits": visits})


urlpatterns = [path("reference/", reference, name="reference")]
