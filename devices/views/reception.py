"""The office desk (policy sections 6 and 7): find or add a visitor, sign them in with the
verbal briefing and their device agreement, sign them out; who is on site now; today's
visits; the visitor log as CSV; and the calls staff make home for a learner.

It is used at a busy desk with a visitor waiting, so every step works from the keyboard:
the search box has the focus when the page opens, a search that finds one visitor offers
"Sign in" first, and each form's first field is the one the clerk fills first.

The office, the DSL team and the headteacher keep the desk. Any member of staff may see
who is on site now, with the device use each visitor agreed, and report a concern about a
visitor from the visit's record (section 7: staff challenge visitors and tell the DSL or
headteacher).
"""

from __future__ import annotations

import csv
import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from compliance.dashboard import Panel, register_panel
from compliance.forms import VisitorForm
from compliance.models import Learner, RecordAccess, Visit, Visitor
from compliance.params import key_from
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.services import record_access_log
from compliance.transitions import Refused
from devices import reception
from devices.access import (
    calls_for,
    learners_for_calls,
    may_log_calls,
    may_see_calls,
    may_see_on_site,
    may_use_desk,
    staff_member_of,
)
from devices.forms_reception import (
    CallHomeFilter,
    CallHomeForm,
    DeviceUseForm,
    ExportForm,
    FindVisitorForm,
    SignInForm,
)
from devices.models import Agreement, CallHome, Signature, VisitorDeviceAgreement
from devices.pdf import signature_rows
from devices.views.register import FilteredListView

VISITORS_RULE = POLICY_RULES["visitors"]
BRIEFING_RULE = POLICY_RULES["visits"]
WITH_LEARNERS_RULE = PolicyRule(
    "7",
    "Visitors' use of mobile and smart technology",
    "If visitors require access to mobile and smart technology, for example when working with "
    "learners as part of multi-agency activity, this will be discussed with the headteacher "
    "prior to use being permitted.",
)
CHALLENGE_RULE = PolicyRule(
    "7",
    "Visitors' use of mobile and smart technology",
    "Members of staff are expected to challenge visitors if they have concerns about their use "
    "of mobile and smart technology and will inform the DSL or headteacher of any breaches of "
    "our policy.",
)
CALLS_RULE = POLICY_RULES["calls_home"]

VISIT_RELATED = (
    "visitor",
    "host",
    "device_agreement",
    "device_agreement__agreement",
    "device_agreement__exemption",
)


def _require_desk(user) -> None:
    if not may_use_desk(user):
        raise PermissionDenied("The reception desk is kept by the office.")


def _get_visitor(pk) -> Visitor:
    try:
        return Visitor.objects.get(pk=pk)
    except (Visitor.DoesNotExist, ValueError, TypeError):
        raise Http404("No such visitor.") from None


def _signatures_prefetch() -> Prefetch:
    return Prefetch(
        "device_agreement__agreement__signatures",
        queryset=Signature.objects.only("pk", "agreement_id", "capacity"),
    )


def _decorate(visit: Visit) -> Visit:
    """What the desk shows of a visit's agreement: its state in a few words."""
    record = getattr(visit, "device_agreement", None)
    visit.record = record
    if record is None:
        visit.agreement_state, visit.agreement_tone = "No agreement recorded", "text-bg-danger"
        return visit
    agreement = record.agreement
    if agreement.status == agreement.Status.SIGNED:
        visit.agreement_state, visit.agreement_tone = "Signed", "text-bg-success"
    else:
        visit.agreement_state, visit.agreement_tone = "Awaiting signature", "text-bg-warning"
    if record.with_learners and not reception.exemption_in_force(
        record.exemption, timezone.localtime(visit.arrived).date()
    ):
        visit.agreement_state = "Waiting for the headteacher"
        visit.agreement_tone = "text-bg-warning"
    return visit


# The desk --------------------------------------------------------------------------------


@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    _require_desk(request.user)
    find = FindVisitorForm(request.GET or None)
    found: list[Visitor] | None = None
    if find.is_valid() and find.cleaned_data["q"].strip():
        found = list(reception.find_visitors(find.cleaned_data["q"])[: reception.MAX_FOUND + 1])
        on_site_ids = set(
            Visit.objects.filter(left__isnull=True, visitor__in=found).values_list(
                "visitor_id", flat=True
            )
        )
        for visitor in found:
            visitor.is_on_site = visitor.pk in on_site_ids
    context = {"form": find, "found": found, "max_found": reception.MAX_FOUND}
    if request.htmx and request.htmx.target == "found":
        return render(request, "devices/reception_found.html", context)
    today = timezone.localdate()
    on_site = [_decorate(v) for v in reception.on_site().prefetch_related(_signatures_prefetch())]
    left_today = (
        reception.visits_on(today)
        .filter(left__isnull=False)
        .select_related("visitor", "host")
        .order_by("-left", "-pk")
    )
    context |= {
        "on_site": on_site,
        "left_today": list(left_today),
        "calls_today": CallHome.objects.filter(called_at__date=today).count(),
        "today": today,
        "policy_rule": BRIEFING_RULE,
    }
    return render(request, "devices/reception_desk.html", context)


def visitor_add(request: HttpRequest) -> HttpResponse:
    """A new visitor, then straight on to signing them in."""
    _require_desk(request.user)
    form = VisitorForm(request.POST or None, initial={"first_name": request.GET.get("name", "")})
    if request.method == "POST" and form.is_valid():
        visitor = form.save()
        messages.success(request, f"Added {visitor.full_name}. Now sign them in.")
        return redirect("devices:reception_sign_in", pk=visitor.pk)
    return render(
        request,
        "devices/reception_visitor_form.html",
        {"form": form, "policy_rule": VISITORS_RULE},
    )


def _use_form_kwargs(request: HttpRequest, visitor: Visitor) -> dict:
    return {
        "visitor": visitor,
        "aup_due": reception.aup_due(visitor),
        "briefer": staff_member_of(request.user),
    }


def sign_in(request: HttpRequest, pk: int) -> HttpResponse:
    _require_desk(request.user)
    visitor = _get_visitor(pk)
    form = SignInForm(request.POST or None, **_use_form_kwargs(request, visitor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = reception.visit_sign_in(
                visitor=visitor,
                host=data["host"],
                purpose=data["purpose_of_visit"],
                arrived=data["arrived"],
                use=form.device_use(),
                by=request.user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Signed in {visitor.full_name} at "
                f"{timezone.localtime(visit.arrived):%H:%M}. Next: the visitor signs the "
                "agreement.",
            )
            return redirect("devices:reception_visit", pk=visit.pk)
    return render(
        request,
        "devices/reception_sign_in.html",
        {
            "form": form,
            "visitor": visitor,
            "already_on_site": Visit.objects.filter(visitor=visitor, left__isnull=True).first(),
            "policy_rule": BRIEFING_RULE,
            "with_learners_rule": WITH_LEARNERS_RULE,
        },
    )


def _get_visit(user, pk) -> Visit:
    """The visit for the desk; for other staff only while the visitor is on site or came
    today (they challenge a visitor in front of them, section 7)."""
    if not may_see_on_site(user):
        raise PermissionDenied("Visits are seen by staff and the office.")
    visits = Visit.objects.select_related(*VISIT_RELATED, "device_agreement__briefed_by",
                                          "device_agreement__agreed_by")  # fmt: skip
    if not may_use_desk(user):
        visits = visits.filter(arrived__date=timezone.localdate()) | visits.filter(
            left__isnull=True
        )
    try:
        return visits.get(pk=pk)
    except (Visit.DoesNotExist, ValueError, TypeError):
        raise Http404("No such visit.") from None


@require_GET
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _decorate(_get_visit(request.user, pk))
    record = visit.record
    desk_user = may_use_desk(request.user)
    rows = []
    if record is not None and desk_user:
        rows = signature_rows(record.agreement, list(record.agreement.signatures.all()))
    return render(
        request,
        "devices/reception_visit.html",
        {
            "visit": visit,
            "record": record,
            "desk": desk_user,
            "rows": rows,
            "blocker": reception.signing_blocker(record) if record else "",
            "may_revise": desk_user
            and visit.on_site
            and (record is None or not record.agreement.signatures.exists()),
            "report_url": f"{reverse('incidents:report')}?visitor={visit.visitor_id}",
            "policy_rule": CHALLENGE_RULE,
        },
    )


def visit_agreement(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the briefing and device use for a visit without one, or record it again while
    no one has signed."""
    _require_desk(request.user)
    visit = _get_visit(request.user, pk)
    record = getattr(visit, "device_agreement", None)
    initial = None
    if record is not None:
        initial = {
            "briefing_given": record.briefing_given,
            "briefed_by": record.briefed_by_id,
            "use": record.use,
            "purpose": record.purpose,
            "where": record.where,
            "when": record.when,
            "agreed_by": record.agreed_by_id,
            "with_learners": record.with_learners,
            "exemption": record.exemption_id,
        }
    form = DeviceUseForm(
        request.POST or None, initial=initial, **_use_form_kwargs(request, visit.visitor)
    )
    if request.method == "POST" and form.is_valid():
        try:
            reception.device_agreement_record(visit=visit, use=form.device_use(), by=request.user)
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, "Recorded the briefing and the device agreement.")
            return redirect("devices:reception_visit", pk=visit.pk)
    return render(
        request,
        "devices/reception_agreement_form.html",
        {
            "form": form,
            "visit": visit,
            "visitor": visit.visitor,
            "policy_rule": VISITORS_RULE,
            "with_learners_rule": WITH_LEARNERS_RULE,
        },
    )


@require_POST
def sign_out(request: HttpRequest, pk: int) -> HttpResponse:
    _require_desk(request.user)
    visit = _get_visit(request.user, pk)
    try:
        reception.visit_sign_out(visit=visit, by=request.user)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("devices:reception_visit", pk=visit.pk)
    messages.success(
        request,
        f"Signed out {visit.visitor.full_name} at {timezone.localtime(timezone.now()):%H:%M}.",
    )
    return redirect("devices:reception")


@require_GET
def on_site(request: HttpRequest) -> HttpResponse:
    """Who is on site now and what each may use: for any member of staff."""
    if not may_see_on_site(request.user):
        raise PermissionDenied("Visitors on site are seen by staff and the office.")
    visits = [_decorate(v) for v in reception.on_site()]
    return render(
        request,
        "devices/reception_on_site.html",
        {"visits": visits, "desk": may_use_desk(request.user), "policy_rule": CHALLENGE_RULE},
    )


# The visitor log ----------------------------------------------------------------------

EXPORT_COLUMNS = (
    "Visit",
    "Visitor",
    "Organisation",
    "Visitor type",
    "Arrived",
    "Left",
    "Host",
    "Purpose",
    "Briefing given by",
    "Device use",
    "Purpose agreed",
    "Where",
    "When",
    "Agreed by",
    "With learners",
    "Exemption",
    "Agreement",
    "Fingerprint",
)


def _cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _when(moment: datetime.datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export_rows(visits: QuerySet):
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for visit in visits.iterator(chunk_size=2000):
        record = getattr(visit, "device_agreement", None)
        visitor = visit.visitor
        row = [
            visit.pk,
            visitor.full_name,
            visitor.organisation,
            visitor.get_visitor_type_display(),
            _when(visit.arrived),
            _when(visit.left),
            visit.host.full_name,
            visit.purpose,
        ]
        if record is None:
            row += ["", "No agreement recorded", "", "", "", "", "", "", "", ""]
        else:
            row += [
                record.briefed_by.full_name,
                record.get_use_display(),
                record.purpose,
                record.where,
                record.when,
                record.agreed_by.full_name if record.agreed_by_id else "",
                "yes" if record.with_learners else "no",
                f"#{record.exemption_id}" if record.exemption_id else "",
                record.agreement.get_status_display(),
                record.agreement.fingerprint,
            ]
        yield writer.writerow([_cell(value) for value in row])


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The visitor log for a range of dates as CSV, for the office and the DSL team."""
    _require_desk(request.user)
    form = ExportForm(request.GET or None)
    if request.GET and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
        last = timezone.make_aware(
            datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min)
        )
        visits = (
            Visit.objects.filter(arrived__gte=first, arrived__lt=last)
            .select_related(
                *VISIT_RELATED, "device_agreement__briefed_by", "device_agreement__agreed_by"
            )
            .order_by("arrived", "pk")
        )
        RecordAccess.objects.create(
            user=request.user,
            action=RecordAccess.Action.EXPORT,
            content_type=ContentType.objects.get_for_model(Visit),
            object_id=f"{start.isoformat()}..{end.isoformat()}",
        )
        response = StreamingHttpResponse(_export_rows(visits), content_type="text/csv")
        name = f"visitor-log-{start.isoformat()}-to-{end.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    if not request.GET:
        today = timezone.localdate()
        form = ExportForm(initial={"start": today.replace(day=1), "end": today})
    return render(
        request,
        "devices/reception_export.html",
        {"form": form, "policy_rule": BRIEFING_RULE},
    )


# Calls home ---------------------------------------------------------------------------


class CallList(FilteredListView):
    model = CallHome
    filterset_class = CallHomeFilter
    template_name = "devices/call_list.html"
    policy_rule = "calls_home"

    def records(self) -> QuerySet:
        return calls_for(self.request.user).select_related(
            "learner", "learner__form_class", "caller", "contact"
        )

    def may_add(self) -> bool:
        return may_log_calls(self.request.user)


def call_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not may_log_calls(user):
        raise PermissionDenied("Calls home are logged by the office and staff.")
    learners = learners_for_calls(user)
    initial = {}
    if (learner := key_from(request.GET.get("learner"))) is not None:
        initial["learner"] = learner
    form = CallHomeForm(
        request.POST or None, initial=initial, learners=learners, caller=staff_member_of(user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call = reception.call_home_record(
                learner=data["learner"],
                direction=data["direction"],
                caller=data["caller"],
                contact=data.get("contact"),
                contact_name=data.get("contact_name") or "",
                reason=data["reason"],
                outcome=data["outcome"],
                notes=data.get("notes") or "",
                called_at=data["called_at"],
                by=user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Logged the call for {call.learner.full_name} "
                f"({call.get_outcome_display().lower()}).",
            )
            if "another" in request.POST:
                return redirect("devices:call_add")
            return redirect("devices:call_detail", pk=call.pk)
    return render(
        request,
        "devices/call_form.html",
        {"form": form, "no_learners": not learners.exists(), "policy_rule": CALLS_RULE},
    )


@require_GET
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    calls = calls_for(request.user).select_related(
        "learner", "learner__form_class", "caller", "contact", "recorded_by"
    )
    try:
        call = calls.get(pk=pk)
    except (CallHome.DoesNotExist, ValueError, TypeError):
        raise Http404("No such call.") from None
    record_access_log(user=request.user, record=call)
    return render(request, "devices/call_detail.html", {"call": call, "policy_rule": CALLS_RULE})


# The dashboard panel ---------------------------------------------------------------------


def _panel_context(request: HttpRequest) -> dict:
    on_site = list(reception.on_site())
    awaiting = sum(
        1
        for visit in on_site
        if getattr(visit, "device_agreement", None) is None
        or visit.device_agreement.agreement.status != visit.device_agreement.agreement.Status.SIGNED
    )
    return {"on_site": len(on_site), "awaiting": awaiting, "desk": may_use_desk(request.user)}


def register_panels() -> None:
    """The reception panel (called from DevicesConfig.ready)."""
    register_panel(
        Panel(
            key="reception",
            title="Visitors on site",
            template="devices/panels/reception.html",
            visible=may_see_on_site,
            context=_panel_context,
            reads=(Agreement, Visit, VisitorDeviceAgreement),
            order=6,
        )
    )


def _visit_parts(visit: Visit) -> list:
    """A visit's device agreement and its signed terms go with it at the end of the
    visitor log's retention period (compliance.retention)."""
    record = VisitorDeviceAgreement.objects.filter(visit=visit).select_related("agreement").first()
    if record is None:
        return []
    agreement = record.agreement
    return [record, *agreement.signatures.order_by("pk"), agreement]


def register_record_links() -> None:
    """A learner's page links to their calls home; a visit's, to its reception record; and
    a visit's agreement goes with the visit when it is disposed of."""
    from compliance.record_links import RecordLink, register_record_link
    from compliance.retention import register_parts

    register_record_link(
        RecordLink(
            model=Learner,
            label="Calls home",
            url=lambda learner: (
                f"{reverse('devices:call_list')}?{urlencode({'learner': learner.pk})}"
            ),
            visible=lambda user, learner: may_see_calls(user),
            order=40,
        )
    )
    register_parts(Visit, _visit_parts)
    register_record_link(
        RecordLink(
            model=Visit,
            label="Briefing, device agreement and sign-out",
            url=lambda visit: reverse("devices:reception_visit", args=[visit.pk]),
            visible=lambda user, visit: may_use_desk(user),
            order=10,
        )
    )


urlpatterns = [
    path("reception/", desk, name="reception"),
    path("reception/visitors/add/", visitor_add, name="reception_visitor_add"),
    path("reception/visitors/<int:pk>/sign-in/", sign_in, name="reception_sign_in"),
    path("reception/on-site/", on_site, name="reception_on_site"),
    path("reception/export/", export, name="reception_export"),
    path("reception/visits/<int:pk>/", visit_detail, name="reception_visit"),
    path("reception/visits/<int:pk>/agreement/", visit_agreement, name="reception_agreement"),
    path("reception/visits/<int:pk>/sign-out/", sign_out, name="reception_sign_out"),
    path("calls-home/", CallList.as_view(), name="call_list"),
    path("calls-home/add/", call_add, name="call_add"),
    path("calls-home/<int:pk>/", call_detail, name="call_detail"),
]
