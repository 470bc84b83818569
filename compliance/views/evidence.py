"""The inspection evidence pack (compliance.evidence): a page and a PDF for the
headteacher, the DSL and the deputies, for the school year so far or a period they choose.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from compliance.access import has_role
from compliance.evidence import build_pack, school_year_so_far
from compliance.forms import DateRangeForm
from compliance.models import School
from compliance.policy import PolicyRule
from compliance.roles import SENIOR

# A pack covers at most a little over a school year.
MAX_DAYS = 400

EVIDENCE_RULE = PolicyRule(
    "8",
    "Policy monitoring and review",
    "Technology evolves and changes rapidly. Victoria Road Primary School will review this "
    "policy at least annually. The policy will be revised following any national or local "
    "policy updates, any local concerns and/or any changes to our technical infrastructure.",
)


class PeriodForm(DateRangeForm):
    """The period the pack covers: ending today at the latest."""

    max_days = MAX_DAYS

    def clean(self):
        data = super().clean()
        end = data.get("end")
        if end and not self.has_error("end") and end > timezone.localdate():
            self.add_error("end", "The period cannot end in the future.")
        return data


def may_see_evidence(user) -> bool:
    return has_role(user, *SENIOR)


def _period(request: HttpRequest) -> tuple[PeriodForm, datetime.date, datetime.date]:
    start, end = school_year_so_far(timezone.localdate())
    if not request.GET:
        return PeriodForm(initial={"start": start, "end": end}), start, end
    form = PeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, start, end  # the errors show; the pack shows the school year so far


def _context(start: datetime.date, end: datetime.date) -> dict:
    return {
        "school": School.current(),
        "parts": build_pack(start, end),
        "start": start,
        "end": end,
        "generated": timezone.localtime(),
    }


@require_GET
def evidence(request: HttpRequest) -> HttpResponse:
    if not may_see_evidence(request.user):
        raise PermissionDenied("The evidence pack is for the headteacher and the DSL team.")
    form, start, end = _period(request)
    context = _context(start, end) | {"form": form, "policy_rule": EVIDENCE_RULE}
    context["query"] = f"start={start.isoformat()}&end={end.isoformat()}"
    return render(request, "compliance/evidence.html", context)


def render_evidence_pdf(start: datetime.date, end: datetime.date) -> bytes:
    # imported here: WeasyPrint loads Pango and fonts, which no other request needs
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("compliance/evidence_pdf.html", _context(start, end))
    fetcher = URLFetcher(allowed_protocols=frozenset())  # nothing is fetched
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()


@require_GET
def evidence_pdf(request: HttpRequest) -> HttpResponse:
    if not may_see_evidence(request.user):
        raise PermissionDenied("The evidence pack is for the headteacher and the DSL team.")
    form, start, end = _period(request)
    if request.GET and not form.is_valid():
        return render(
            request,
            "compliance/evidence.html",
            _context(start, end) | {"form": form, "policy_rule": EVIDENCE_RULE},
            status=200,
        )
    response = HttpResponse(render_evidence_pdf(start, end), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"evidence-pack-{start.isoformat()}-to-{end.isoformat()}.pdf"
    )
    return response


urlpatterns = [
    path("evidence/", evidence, name="evidence"),
    path("evidence/pdf/", evidence_pdf, name="evidence_pdf"),
]
