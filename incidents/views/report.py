"""Reporting a concern or breach (policy section 9), and the reporter's own reports.

Every member of staff, the office and the DSL team report here, on a phone if need be;
governors and logins without a role are refused. A reporter sees the reports they made and
nothing else (section 9, confidentiality): another's report is a 404 here, and the DSL team
works on the incident's own page (`incidents:incident_detail`). Before triage the reporter
may correct their account; afterwards only add to it. Every opening of a report is logged.
Each change is a transition in `incidents.services`; a refusal comes back next to the field
with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from compliance.dashboard import Panel, register_panel
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.services import record_access_log
from compliance.transitions import Refused
from incidents import services
from incidents.access import may_report
from incidents.forms_report import (
    AmendForm,
    AttachmentForm,
    NoteForm,
    PeoplePicker,
    PersonForm,
    ReportForm,
    no_files_guidance,
    people_formset,
)
from incidents.models import Category, Incident

REPORT_RULE = PolicyRule(
    "9",
    "Responding to policy breaches",
    "All members of the community are informed of the need to report policy breaches or "
    "concerns in line with existing school policies and procedures. This includes: child "
    "protection, code of conduct and behaviour for learning and conduct policy.",
)

MY_REPORTS_PER_PAGE = 25


def _require_reporter(user) -> None:
    if not may_report(user):
        raise PermissionDenied("Your role does not report incidents here: tell the DSL.")


def _own_report(user, pk) -> Incident:
    """A report this user made; 404 for any other, so its existence is not disclosed."""
    _require_reporter(user)
    try:
        return Incident.objects.select_related("location").get(pk=pk, reported_by=user)
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404("No such report of yours.") from None


# Reporting ---------------------------------------------------------------------------------


def _prefilled(request: HttpRequest, picker: PeoplePicker):
    """A report started from a visit's record (section 7: staff challenge a visitor and tell
    the DSL or headteacher) names the visitor and the category already."""
    visitor = picker.resolve(f"visitor-{request.GET.get('visitor', '')}")
    if visitor is None:
        return ReportForm(), people_formset(None, picker)
    form = ReportForm(initial={"category": Category.VISITOR_MISUSE.value})
    people = people_formset(
        None, picker, initial=[{"person": f"visitor-{visitor.pk}", "part": "subject"}]
    )
    return form, people


def report(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_reporter(user)
    data = request.POST if request.method == "POST" else None
    picker = PeoplePicker.for_user(user)
    form, people = ReportForm(data), people_formset(data, picker)
    if data is None:
        form, people = _prefilled(request, picker)
    if data is not None:
        form_ok = form.is_valid()
        if people.is_valid() and form_ok:
            cleaned = form.cleaned_data
            try:
                incident = services.incident_report(
                    occurred_at=cleaned["occurred_at"],
                    location=cleaned["location"],
                    category=cleaned["category"],
                    account=cleaned["account"],
                    people=people.people(),
                    policies=cleaned["policies"],
                    by=user,
                )
            except Refused as refused:
                form.add_error(None, str(refused))
            else:
                return redirect("incidents:report_sent", pk=incident.pk)
    return render(
        request,
        "incidents/report_form.html",
        {
            "form": form,
            "people": people,
            # the categories under the 4 Cs, with the never-view instruction beside those
            # that accept no file
            "category_groups": form.category_groups(),
            "policy_rule": REPORT_RULE,
        },
    )


@require_GET
def report_sent(request: HttpRequest, pk: int) -> HttpResponse:
    """The confirmation: the reference, and what happens next."""
    incident = _own_report(request.user, pk)
    record_access_log(user=request.user, record=incident)
    return render(
        request,
        "incidents/report_sent.html",
        {
            "incident": incident,
            "headteacher_told": services.for_headteacher(incident),
            "guidance": no_files_guidance(incident.category),
        },
    )


# The reporter's own reports -------------------------------------------------------------


@require_GET
def my_reports(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_reporter(user)
    reports = Incident.objects.filter(reported_by=user).select_related("location")
    status = request.GET.get("status", "")
    if status in Incident.Status.values:
        reports = reports.filter(status=status)
    else:
        status = ""
    page = Paginator(reports.order_by("-reported_at", "-pk"), MY_REPORTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    base = reverse("incidents:my_reports")
    filters = [{"label": "All", "url": base, "current": not status}] + [
        {"label": choice.label, "url": f"{base}?status={choice.value}", "current": status == choice}
        for choice in Incident.Status
    ]
    return render(
        request,
        "incidents/my_reports.html",
        {
            "page_obj": page,
            "object_list": page.object_list,
            "filters": filters,
            "query_string": f"status={status}" if status else "",
            "policy_rule": POLICY_RULES["confidentiality"],
        },
    )


def _detail(request: HttpRequest, incident: Incident, bound: dict[str, Form] | None = None):
    """The reporter's view of their report; after a refused step, with the reason next to
    the field and what was typed. Every rendering is an opening of the record: logged."""
    user = request.user
    record_access_log(user=user, record=incident)
    bound = bound or {}
    untriaged = incident.status == Incident.Status.REPORTED
    still_open = incident.status != Incident.Status.CLOSED
    may_attach = incident.accepts_files and still_open
    person_form = bound.get("person")
    if person_form is None and untriaged:
        person_form = PersonForm(picker=PeoplePicker.for_user(user))
    return render(
        request,
        "incidents/my_report_detail.html",
        {
            "incident": incident,
            # what the reporter gave: the people they named, their notes, their files
            "people": incident.people.filter(added_by=user).select_related(
                "learner__form_class", "staff", "visitor"
            ),
            "notes": incident.notes.filter(written_by=user),
            "attachments": incident.attachments.filter(uploaded_by=user),
            # after triage the DSL decides the policies; the reporter no longer sees them
            "policies": incident.policies.order_by("name") if untriaged else None,
            # a form just sent is shown again, even if its step has closed meanwhile
            "amend_form": bound.get("amend")
            or (AmendForm(initial={"account": incident.account}) if untriaged else None),
            "note_form": bound.get("note") or NoteForm(),
            "person_form": person_form,
            "attachment_form": bound.get("attachment")
            or (AttachmentForm() if may_attach else None),
            "guidance": no_files_guidance(incident.category),
            "policy_rule": POLICY_RULES["confidentiality"],
            # the form just sent, if any (tests and the fuzzer find it here)
            "form": next(iter(bound.values()), None),
        },
    )


@require_GET
def my_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _own_report(request.user, pk))


def _act(
    request: HttpRequest,
    pk: int,
    *,
    key: str,
    form: Form,
    field: str | None,
    step: Callable[[Incident, dict], object],
    done: str,
) -> HttpResponse:
    """One step on the reporter's own report: the form, then the transition; a refusal
    comes back to the page next to `field`, with what was typed."""
    incident = _own_report(request.user, pk)
    if form.is_valid():
        try:
            step(incident, form.cleaned_data)
        except Refused as refused:
            form.add_error(field, str(refused))
        else:
            messages.success(request, done)
            return redirect("incidents:my_report_detail", pk=incident.pk)
    return _detail(request, incident, {key: form})


@require_POST
def report_amend(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        key="amend",
        form=AmendForm(request.POST),
        field="account",
        step=lambda incident, data: services.incident_amend_account(
            incident=incident, account=data["account"], by=request.user
        ),
        done="Your account is corrected.",
    )


@require_POST
def report_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        key="note",
        form=NoteForm(request.POST),
        field="text",
        step=lambda incident, data: services.note_add(
            incident=incident, text=data["text"], by=request.user
        ),
        done="Your note is added.",
    )


@require_POST
def report_person(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    _require_reporter(user)
    form = PersonForm(request.POST, picker=PeoplePicker.for_user(user))
    form.fields["person"].required = True
    form.fields["part"].required = True
    return _act(
        request,
        pk,
        key="person",
        form=form,
        field="person",
        step=lambda incident, data: services.person_add(
            incident=incident, person=form.to_person(), by=user
        ),
        done="The person is added.",
    )


@require_POST
def report_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        key="attachment",
        form=AttachmentForm(request.POST, request.FILES),
        field="upload",
        step=lambda incident, data: services.attachment_add(
            incident=incident,
            upload=data["upload"],
            description=data["description"],
            by=request.user,
        ),
        done="The file is added.",
    )


urlpatterns = [
    path("report/", report, name="report"),
    path("mine/", my_reports, name="my_reports"),
    path("mine/<int:pk>/", my_report_detail, name="my_report_detail"),
    path("mine/<int:pk>/sent/", report_sent, name="report_sent"),
    path("mine/<int:pk>/amend/", report_amend, name="report_amend"),
    path("mine/<int:pk>/note/", report_note, name="report_note"),
    path("mine/<int:pk>/person/", report_person, name="report_person"),
    path("mine/<int:pk>/file/", report_attachment, name="report_attachment"),
]


# Dashboard ----------------------------------------------------------------------------


def _panel_context(request: HttpRequest) -> dict:
    # one query: this user's reports counted by status
    counts = dict(
        Incident.objects.filter(reported_by=request.user)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    listing = reverse("incidents:my_reports")
    return {
        "report_url": reverse("incidents:report"),
        "concern_raise_url": reverse("incidents:concern_raise"),
        "my_reports_url": listing,
        "total": sum(counts.values()),
        "statuses": [
            {"label": s.label, "count": counts[s.value], "url": f"{listing}?status={s.value}"}
            for s in Incident.Status
            if counts.get(s.value)
        ],
    }


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready)."""
    register_panel(
        Panel(
            key="report_concern",
            title="Report a concern",
            template="incidents/panels/report.html",
            visible=may_report,
            context=_panel_context,
            reads=(Incident,),
            order=3,
        )
    )
