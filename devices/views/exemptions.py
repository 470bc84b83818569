"""Exemptions (policy sections 5, 6 and 7): asked for, decided by the headteacher, agreed in
writing, signed in person, in force until they end or are revoked.

The approvals queue; the request form; one page per exemption with its timeline and the
actions this user may take now; the agreement with its signatures, its PDF, the paper scans;
and a page that checks a fingerprint. Every action is a POST to one transition in
`devices.services`. A role without the right gets 403; a step the policy refuses comes back
to the page with the reason, and what was typed is still there.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance import services as compliance_services
from compliance.access import has_role, visible
from compliance.dashboard import Panel, register_panel
from compliance.filters import filter_fields
from compliance.listing import short_day, url_maker
from compliance.models import ParentCarer, RecordAccess, StaffMember, User, Visitor
from compliance.params import key_from
from compliance.policy import PolicyRule
from compliance.roles import Role
from compliance.transitions import Refused
from devices import forms, services
from devices.access import (
    exemptions_for,
    get_exemption,
    learners_for_requests,
    may_decide_exemptions,
    may_open_agreement,
    may_record_signatures,
    may_request_exemption,
    office_signs_at_the_desk,
    staff_member_of,
)
from devices.models import Agreement, Exemption, RiskAssessment, Signature
from devices.pdf import AgreementSubject, agreement_pdf, signature_rows, subject_of
from devices.reception import signing_blocker

SENIOR = (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)
PAGE_SIZE = 25
Status = Exemption.Status
Kind = Exemption.Kind

# The policy's own words at each step (shared/policy/mobile-and-smart-technology-policy.md).
_RULE_REQUEST = {
    "learner": PolicyRule(
        "6",
        "Learners use of mobile and smart technology",
        "If a learner requires access to a personal device in exceptional circumstances, for "
        "example medical assistance and monitoring, this will be discussed with the headteacher "
        "prior to use being permitted.",
    ),
    Exemption.Kind.STAFF_TEACHING_TIME: PolicyRule(
        "5",
        "Staff use of mobile and smart technology",
        "Not use personal devices during teaching periods unless written permission has been "
        "given by the headteacher, such as in emergency circumstances.",
    ),
    Exemption.Kind.STAFF_REMOTE_LEARNING: PolicyRule(
        "5",
        "Staff use of mobile and smart technology",
        "If this is not available, staff will only use personal devices with prior approval "
        "from the headteacher, following a formal risk assessment.",
    ),
    "visitor": PolicyRule(
        "7",
        "Visitors' use of mobile and smart technology",
        "If visitors require access to mobile and smart technology, for example when working "
        "with learners as part of multi-agency activity, this will be discussed with the "
        "headteacher prior to use being permitted.",
    ),
}
_RULE_VISITOR_RECORD = PolicyRule(
    "7",
    "Visitors' use of mobile and smart technology",
    "Any arrangements regarding agreed visitor access to mobile/smart technology will be "
    "documented and recorded by the school. This may include undertaking appropriate risk "
    "assessments if necessary.",
)
_RULE_LEARNER_AGREEMENT = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Any specific agreements and expectations (including sanctions for misuse) will be provided "
    "in writing and agreed by the learner and their parents/carers before use is permitted.",
)
_RULE_LEARNER_RECORD = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Any arrangements regarding access to personal devices in exceptional circumstances will "
    "be documented and recorded by the school.",
)


def _rule(step: str, exemption: Exemption | None) -> PolicyRule:
    """The quote for one step of one exemption."""
    subject = exemption.subject_kind if exemption else "visitor"
    if subject == "staff":
        return _RULE_REQUEST[exemption.kind]
    if step in ("request", "decide"):
        return _RULE_REQUEST[subject]
    if subject == "visitor":
        return _RULE_VISITOR_RECORD
    if step in ("agreement", "sign"):
        return _RULE_LEARNER_AGREEMENT
    return _RULE_LEARNER_RECORD


_STATUS_TONE = {
    Status.REQUESTED: "text-bg-warning",
    Status.APPROVED: "text-bg-info",
    Status.REFUSED: "text-bg-secondary",
    Status.AGREEMENT_ISSUED: "text-bg-warning",
    Status.ACTIVE: "text-bg-success",
    Status.EXPIRED: "text-bg-secondary",
    Status.REVOKED: "text-bg-danger",
}
_STATUS_SHORT = {
    Status.REQUESTED: "Awaiting decision",
    Status.APPROVED: "Approved",
    Status.REFUSED: "Refused",
    Status.AGREEMENT_ISSUED: "Awaiting signatures",
    Status.ACTIVE: "Active",
    Status.EXPIRED: "Expired",
    Status.REVOKED: "Revoked",
}


def _decorate(exemption: Exemption) -> Exemption:
    """What the templates show for every exemption: short labels, the badge's colour."""
    exemption.status_tone = _STATUS_TONE[exemption.status]
    exemption.status_short = _STATUS_SHORT[exemption.status]
    exemption.kind_short = forms.SHORT_KIND[exemption.kind]
    return exemption


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "the system"


# Access to agreements and their scans follows the exemption they belong to; a visitor's
# device agreement at reception (no exemption) is for the office and the senior team.


def _get_agreement(user, pk) -> Agreement:
    """The agreement if this user may see it (with its signatures), else 404 or 403."""
    exemptions_for(user)  # a role that sees no exemptions sees no agreements: 403
    agreement = (
        Agreement.objects.select_related("issued_by", "supersedes")
        .prefetch_related(
            Prefetch("signatures", queryset=Signature.objects.select_related("recorded_by"))
        )
        .filter(pk=pk)
        .first()
    )
    if agreement is None:
        raise Http404("No such agreement.")
    agreement.may_open_exemption = True
    if agreement.exemption_id is None:
        if not has_role(user, *SENIOR, Role.OFFICE):
            raise Http404("No such agreement.")
    elif (
        office_signs_at_the_desk(user, agreement)
        and not exemptions_for(user).filter(pk=agreement.exemption_id).exists()
    ):
        # the agreement, to sign it; not the exemption's request and decision
        agreement.exemption = Exemption.objects.select_related(
            "learner", "learner__form_class", "staff", "visitor", "category"
        ).get(pk=agreement.exemption_id)
        agreement.may_open_exemption = False
    else:
        agreement.exemption = get_exemption(user, agreement.exemption_id)
    return agreement


def _require_decider(user) -> None:
    if not may_decide_exemptions(user):
        raise PermissionDenied("Only the headteacher decides exemptions (policy sections 5-7).")


# The approvals queue -----------------------------------------------------------------


def _status_order(status: str | None) -> tuple[str, ...]:
    if status == Status.REQUESTED:
        return ("requested_at", "pk")  # the longest waiting first
    if status == Status.ACTIVE:
        return ("ends", "pk")  # the soonest to end first
    return ("-requested_at", "-pk")


def _queue_row(exemption: Exemption, detail_url: str) -> Exemption:
    """One row of the queue: `_decorate`, and each cell as shown (compliance.listing: each
    of the 25 rows otherwise costs a URL reversal and three date filters in the template)."""
    _decorate(exemption)
    exemption.detail_url = detail_url
    exemption.subject_name = exemption.subject.full_name
    learner = exemption.learner
    exemption.form_class_name = str(learner.form_class) if learner and learner.form_class else ""
    exemption.reason_shown = exemption.get_reason_kind_display() if exemption.reason_kind else ""
    exemption.dates_shown = f"{short_day(exemption.starts)} to {short_day(exemption.ends)}"
    review_on = exemption.review_on
    exemption.review_shown = (
        short_day(review_on) if review_on and review_on != exemption.ends else ""
    )
    requested_on = timezone.localtime(exemption.requested_at).date()
    exemption.requested_shown = f"{short_day(requested_on)}, {_name(exemption.requested_by)}"
    return exemption


@require_GET
def exemption_list(request):
    """The approvals queue: counts by status, filters, search by name, pages of 25."""
    user = request.user
    filterset = forms.ExemptionFilter(request.GET or None, queryset=exemptions_for(user))
    status = filterset.form.cleaned_data.get("status") if filterset.is_valid() else None
    # the filters without the status: the counts on the tabs, then the rows of one tab
    narrowed = filterset.qs
    # grouped rather than one filtered COUNT per status: a quarter of the time to build
    counts = dict(
        narrowed.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    found = sum(counts.values())
    rows = narrowed.filter(status=status) if status else narrowed
    # staff and visitors (a few rows) read apart: with them joined too, PostgreSQL took
    # longer to plan the seven-table join than to run it
    rows = (
        rows.select_related("learner__form_class", "category", "requested_by")
        .prefetch_related("staff", "visitor")
        .order_by(*_status_order(status))
    )
    paginator = Paginator(rows, PAGE_SIZE)
    # counted with the tabs just above: no second COUNT query for the pages
    paginator.count = counts.get(status, 0) if status else found
    page = paginator.get_page(request.GET.get("page"))
    detail_url = url_maker("devices:exemption_detail")
    page_rows = [_queue_row(exemption, detail_url(exemption.pk)) for exemption in page.object_list]

    query = request.GET.copy()
    query.pop("page", None)
    query.pop("status", None)
    base = f"{request.path}?{query.urlencode()}&" if query else f"{request.path}?"
    tabs = [
        {
            "label": "All",
            "count": found,
            "url": base.rstrip("?&"),
            "current": not status,
        }
    ] + [
        {
            "label": _STATUS_SHORT[value],
            "count": counts.get(value, 0),
            "url": f"{base}status={value}",
            "current": status == value,
        }
        for value in Status.values
    ]
    page_query = request.GET.copy()
    page_query.pop("page", None)
    return render(
        request,
        "devices/exemption_list.html",
        {
            "filter": filterset,
            "filter_fields": filter_fields(filterset.form),
            "page_obj": page,
            "rows": page_rows,
            "tabs": tabs,
            "query_string": page_query.urlencode(),
            "may_request": bool(_subjects_allowed(user)),
            "may_verify": _may_verify(user),
            "policy_rule": _RULE_LEARNER_RECORD,
        },
    )


# Asking for an exemption --------------------------------------------------------------


def _subjects_allowed(user) -> list[str]:
    return [
        subject
        for subject, kinds in forms.SUBJECT_KINDS.items()
        if any(may_request_exemption(user, kind) for kind in kinds)
    ]


def _request_subjects(user, subject_for: str) -> tuple[QuerySet, StaffMember | None]:
    """The people this user may ask for, and (staff) the one they must ask for."""
    if subject_for == "learner":
        return learners_for_requests(user), None
    if subject_for == "visitor":
        return visible(user, Visitor), None
    if has_role(user, *SENIOR, Role.OFFICE):
        return StaffMember.objects.filter(active=True), None
    own = staff_member_of(user)
    if own is None:
        return StaffMember.objects.none(), None
    return StaffMember.objects.filter(pk=own.pk), own


@require_http_methods(["GET", "POST"])
def exemption_request(request):
    """Ask the headteacher for an exemption: first who it is for, then what, why and when."""
    user = request.user
    allowed = _subjects_allowed(user)
    if not allowed:
        raise PermissionDenied("Your role does not ask for exemptions.")
    subject_for = request.GET.get("for", "")
    if subject_for not in allowed:
        subject_for = allowed[0]
    subjects, own_staff = _request_subjects(user, subject_for)
    initial = {"starts": timezone.localdate()}
    wanted = key_from(request.GET.get(subject_for))
    if wanted is not None:
        initial[subject_for] = wanted
    form = forms.ExemptionRequestForm(
        request.POST or None,
        subject_for=subject_for,
        subjects=subjects,
        own_staff=own_staff,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            exemption = services.exemption_request(
                kind=data["kind"],
                subject=form.subject,
                category=data["category"],
                reason=data["reason"],
                starts=data["starts"],
                ends=data["ends"],
                reason_kind=data.get("reason_kind", ""),
                review_on=data.get("review_on"),
                by=user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Asked the headteacher: exemption #{exemption.pk} for "
                f"{exemption.subject.full_name} is awaiting a decision.",
            )
            return redirect(exemption)
    kind = form["kind"].value() if subject_for == "staff" else forms.SUBJECT_KINDS[subject_for][0]
    rule_key = kind if subject_for == "staff" and kind in _RULE_REQUEST else subject_for
    return render(
        request,
        "devices/exemption_form.html",
        {
            "form": form,
            "subject_for": subject_for,
            "subject_tabs": [
                {
                    "key": key,
                    "label": forms.SUBJECT_LABELS[key],
                    "url": f"{reverse('devices:exemption_request')}?for={key}",
                    "current": key == subject_for,
                }
                for key in allowed
            ],
            "no_subjects": not subjects.exists(),
            "policy_rule": _RULE_REQUEST.get(rule_key, _RULE_REQUEST[Kind.STAFF_TEACHING_TIME]),
        },
    )


# One exemption: its timeline and the actions open now ---------------------------------


@dataclass
class Event:
    when: datetime.datetime
    title: str
    who: str = ""
    text: str = ""
    tone: str = "secondary"
    link: str = ""
    link_label: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class Action:
    key: str
    title: str
    url: str
    form: object
    rule: PolicyRule
    note: str = ""
    open: bool = True  # shown open, or folded away (a new version of the terms)


_USER_FIELDS = ("requested_by", "decided_by", "closed_by")
_HISTORY_FIELDS = [
    (f.name, f.attname, f.verbose_name)
    for f in Exemption._meta.fields
    if f.name not in ("id", "version")
]


def _history(records: list) -> list[dict]:
    """Every saved change to the exemption, field by field, newest first."""
    ids = {getattr(record, f"{name}_id") for record in records for name in _USER_FIELDS}
    users = {user.pk: _name(user) for user in User.objects.filter(pk__in=ids - {None})}
    entries = []
    previous = None
    for record in records:
        changes = []
        if previous is not None:
            # compared by hand: simple_history's diff leaves out fields not editable in
            # forms, which are the ones that change here (status, decision, closure)
            for name, attname, label in _HISTORY_FIELDS:
                old, new = getattr(previous, attname), getattr(record, attname)
                if old == new:
                    continue
                if name == "status":
                    old, new = Status(old).label, Status(new).label
                elif name in _USER_FIELDS:
                    old, new = users.get(old, old), users.get(new, new)
                changes.append({"field": label, "old": _shown(old), "new": _shown(new)})
        entries.append(
            {
                "when": record.history_date,
                "who": _name(record.history_user),
                "type": {"+": "Created", "~": "Changed", "-": "Deleted"}[record.history_type],
                "changes": changes,
            }
        )
        previous = record
    return list(reversed(entries))


def _shown(value) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%d/%m/%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    text = str(value)
    return text if len(text) <= 120 else f"{text[:117]}..."


def _timeline(
    exemption: Exemption,
    risk: RiskAssessment | None,
    agreements: list[Agreement],
    records: list,
) -> list[Event]:
    events = [
        Event(
            exemption.requested_at,
            "Asked for",
            _name(exemption.requested_by),
            exemption.reason,
            "primary",
        )
    ]
    asked = next((record for record in records if record.risk_assessment_required), None)
    if asked is not None:
        events.append(
            Event(asked.history_date, "Risk assessment asked for", _name(asked.history_user))
        )
    if risk is not None:
        events.append(
            Event(
                risk.assessed_at,
                "Risk assessment recorded",
                _name(risk.assessed_by),
                items=[f"Risks: {risk.hazards}", f"Controls: {risk.controls}"],
                tone="info",
            )
        )
    if exemption.decided_at:
        approved = exemption.status != Status.REFUSED
        events.append(
            Event(
                exemption.decided_at,
                "Approved by the headteacher" if approved else "Refused by the headteacher",
                _name(exemption.decided_by),
                exemption.decision_reasons,
                "success" if approved else "danger",
            )
        )
    for agreement in agreements:
        events.append(
            Event(
                agreement.issued_at,
                f"Agreement version {agreement.number} issued",
                _name(agreement.issued_by),
                tone="primary",
                link=agreement.get_absolute_url(),
                link_label=f"Open version {agreement.number}",
            )
        )
        for signature in agreement.signatures.all():
            events.append(
                Event(
                    signature.signed_at,
                    f"Signed by {signature.signer_name} "
                    f"({signature.get_capacity_display().lower()}), version {agreement.number}",
                    f"recorded by {_name(signature.recorded_by)}",
                    "signed on paper (scan on file)"
                    if signature.method == Signature.Method.PAPER
                    else "drawn on screen",
                )
            )
        if agreement.frozen_at and agreement.signatures.all() and _fully_signed(agreement):
            events.append(
                Event(
                    agreement.frozen_at,
                    f"Version {agreement.number} signed by everyone: terms fixed",
                    text=f"Fingerprint {agreement.fingerprint}",
                    tone="success",
                )
            )
        superseded = agreement.status == Agreement.Status.SUPERSEDED
        if superseded and agreement.frozen_at and not _fully_signed(agreement):
            events.append(
                Event(
                    agreement.frozen_at,
                    f"Version {agreement.number} replaced before everyone had signed",
                )
            )
    if exemption.status == Status.REVOKED:
        events.append(
            Event(
                exemption.closed_at,
                "Revoked",
                _name(exemption.closed_by),
                exemption.close_reason,
                "danger",
            )
        )
    elif exemption.status == Status.EXPIRED:
        events.append(Event(exemption.closed_at, "Expired", text=exemption.close_reason))
    events.sort(key=lambda event: event.when)
    return events


def _fully_signed(agreement: Agreement) -> bool:
    signed = {signature.capacity for signature in agreement.signatures.all()}
    return signed >= set(services.required_capacities(agreement))


def _next_step(exemption: Exemption, risk, current: Agreement | None, today) -> str:
    status = exemption.status
    if status == Status.REQUESTED:
        if services.risk_assessment_needed(exemption) and risk is None:
            return (
                "A risk assessment must be recorded (by the DSL team or the headteacher) before "
                "the headteacher can approve this; the headteacher may refuse it now."
            )
        return "Waiting for the headteacher's decision."
    if status == Status.APPROVED:
        return "Approved. Next, the headteacher puts the terms in writing: issue the agreement."
    if status == Status.AGREEMENT_ISSUED and current is not None:
        missing = [
            row["label"].lower()
            for row in signature_rows(current, list(current.signatures.all()))
            if row["signature"] is None
        ]
        return (
            f"Agreement version {current.number} is waiting for signatures: "
            f"{', '.join(missing)}. Use is not permitted until everyone has signed."
        )
    if status == Status.ACTIVE:
        if exemption.in_force_on(today):
            return f"In force until {exemption.ends:%-d %B %Y}: use is permitted on its terms."
        if today < exemption.starts:
            return f"Signed; use is permitted from {exemption.starts:%-d %B %Y}."
        return f"Ended on {exemption.ends:%-d %B %Y}; it will be marked expired."
    if status == Status.REFUSED:
        return "Refused: use is not permitted."
    if status == Status.REVOKED:
        return "Revoked: use is not permitted."
    return "Expired: use is no longer permitted."


def _terms_initial(exemption: Exemption, current: Agreement | None) -> dict:
    if current is not None:
        return {name: getattr(current, name) for name in services.TERMS_FIELDS}
    return dict(forms.SUGGESTED_TERMS[exemption.subject_kind])


def _actions(request, exemption: Exemption, risk, current: Agreement | None) -> list[Action]:
    user = request.user
    status = exemption.status
    open_statuses = (Status.APPROVED, Status.AGREEMENT_ISSUED, Status.ACTIVE)
    actions = []
    need_risk = services.risk_assessment_needed(exemption) and risk is None
    if status == Status.REQUESTED and has_role(user, *SENIOR) and need_risk:
        actions.append(
            Action(
                "risk",
                "Record the risk assessment",
                reverse("devices:exemption_risk_assessment", args=[exemption.pk]),
                forms.RiskAssessmentForm(),
                _rule("risk", exemption),
            )
        )
    if status == Status.REQUESTED and may_decide_exemptions(user):
        actions.append(
            Action(
                "decide",
                "Decide",
                reverse("devices:exemption_decide", args=[exemption.pk]),
                forms.DecideForm(),
                _rule("decide", exemption),
                note="Approve is possible once the risk assessment is recorded."
                if need_risk
                else "",
            )
        )
        if not services.risk_assessment_needed(exemption):
            actions.append(
                Action(
                    "ask_risk",
                    "Ask for a risk assessment first",
                    reverse("devices:exemption_ask_risk_assessment", args=[exemption.pk]),
                    None,
                    _rule("risk", exemption),
                    note="The DSL team or you record it; approval waits for it.",
                    open=False,
                )
            )
    if status in open_statuses and may_decide_exemptions(user):
        reissue = current is not None
        actions.append(
            Action(
                "agreement",
                f"Change the terms: issue version {current.number + 1}"
                if reissue
                else "Issue the agreement",
                reverse("devices:agreement_issue", args=[exemption.pk]),
                forms.AgreementForm(initial=_terms_initial(exemption, current)),
                _rule("agreement", exemption),
                note=(
                    "A signed agreement is never changed: a new version replaces it, and use "
                    "stops until the new version is signed."
                    if reissue
                    else "Prefilled with the policy's usual terms: edit them to fit."
                ),
                open=not reissue,
            )
        )
        actions.append(
            Action(
                "revoke",
                "Revoke",
                reverse("devices:exemption_revoke", args=[exemption.pk]),
                forms.RevokeForm(),
                _rule("revoke", exemption),
                open=False,
            )
        )
    return actions


def _detail_response(request, exemption: Exemption, bound: dict | None = None):
    """The exemption's page; `bound` replaces an action's empty form with the one that was
    sent, errors and all. A refusal for an action not open to this user becomes a message."""
    risk = RiskAssessment.objects.select_related("assessed_by").filter(exemption=exemption).first()
    agreements = list(
        exemption.agreements.select_related("issued_by")
        .prefetch_related(
            Prefetch("signatures", queryset=Signature.objects.select_related("recorded_by"))
        )
        .order_by("number")
    )
    current = next(
        (a for a in reversed(agreements) if a.status != Agreement.Status.SUPERSEDED), None
    )
    records = list(
        exemption.history.select_related("history_user").order_by("history_date", "history_id")
    )
    actions = _actions(request, exemption, risk, current)
    by_key = {action.key: action for action in actions}
    for key, form in (bound or {}).items():
        if key in by_key:
            by_key[key].form = form
            by_key[key].open = True
        else:
            for error in form.non_field_errors():
                messages.error(request, error)
    today = timezone.localdate()
    _decorate(exemption)
    for agreement in agreements:
        agreement.rows = signature_rows(agreement, list(agreement.signatures.all()))
        agreement.signed_count = sum(1 for row in agreement.rows if row["signature"])
    return render(
        request,
        "devices/exemption_detail.html",
        {
            "exemption": exemption,
            "subject": exemption.subject,
            "risk": risk,
            "risk_needed": services.risk_assessment_needed(exemption),
            "agreements": list(reversed(agreements)),
            "current": current,
            "timeline": _timeline(exemption, risk, agreements, records),
            "history": _history(records),
            "actions": actions,
            "next_step": _next_step(exemption, risk, current, today),
            "in_force": exemption.in_force_on(today),
            "may_sign": may_record_signatures(request.user),
            "policy_rule": _rule("request", exemption),
            # the form that was sent, when one was (the page shows it in its action)
            "form": next(iter((bound or {}).values()), None),
        },
    )


@require_GET
def exemption_detail(request, pk: int):
    exemption = get_exemption(request.user, pk)
    # it says why a person needs an exception (a child's medical need): every read is logged
    compliance_services.record_access_log(user=request.user, record=exemption)
    return _detail_response(request, exemption)


def _done(request, exemption: Exemption, message: str) -> HttpResponseRedirect:
    messages.success(request, message)
    return redirect(exemption)


@require_POST
def exemption_decide(request, pk: int):
    exemption = get_exemption(request.user, pk)
    _require_decider(request.user)
    form = forms.DecideForm(request.POST)
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.exemption_decide(
                exemption=exemption,
                approve=approve,
                reasons=form.cleaned_data["reasons"],
                by=request.user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            if approve:
                return _done(request, exemption, "Approved. Next, issue the written agreement.")
            return _done(request, exemption, "Refused; the reasons are recorded.")
    return _detail_response(request, exemption, {"decide": form})


@require_POST
def exemption_ask_risk_assessment(request, pk: int):
    exemption = get_exemption(request.user, pk)
    _require_decider(request.user)
    try:
        services.exemption_ask_for_risk_assessment(exemption=exemption, by=request.user)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect(exemption)
    return _done(request, exemption, "A risk assessment is now needed before approval.")


@require_POST
def exemption_risk_assessment(request, pk: int):
    exemption = get_exemption(request.user, pk)
    if not has_role(request.user, *SENIOR):
        raise PermissionDenied("Risk assessments are recorded by the DSL team or the headteacher.")
    form = forms.RiskAssessmentForm(request.POST)
    if form.is_valid():
        try:
            services.risk_assessment_record(
                exemption=exemption,
                hazards=form.cleaned_data["hazards"],
                controls=form.cleaned_data["controls"],
                by=request.user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            return _done(request, exemption, "Risk assessment recorded.")
    return _detail_response(request, exemption, {"risk": form})


@require_POST
def agreement_issue(request, pk: int):
    exemption = get_exemption(request.user, pk)
    _require_decider(request.user)
    form = forms.AgreementForm(request.POST)
    if form.is_valid():
        try:
            agreement = services.agreement_issue(
                exemption=exemption, by=request.user, **form.cleaned_data
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(
                request,
                f"Agreement version {agreement.number} issued. Now record the signatures, in "
                "person.",
            )
            return redirect(agreement)
    return _detail_response(request, exemption, {"agreement": form})


@require_POST
def exemption_revoke(request, pk: int):
    exemption = get_exemption(request.user, pk)
    _require_decider(request.user)
    form = forms.RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.exemption_revoke(
                exemption=exemption, reason=form.cleaned_data["reason"], by=request.user
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            return _done(request, exemption, "Revoked: use is no longer permitted.")
    return _detail_response(request, exemption, {"revoke": form})


# The agreement: its terms, its signatures, the PDF, the scans --------------------------


def _parents_for(agreement: Agreement) -> QuerySet:
    exemption = agreement.exemption
    if exemption is None or exemption.learner_id is None:
        return ParentCarer.objects.none()
    return ParentCarer.objects.filter(learners=exemption.learner_id).order_by(
        "last_name", "first_name", "pk"
    )


def _signer_names(request, agreement: Agreement) -> dict[str, str]:
    """Who usually signs in each capacity, to prefill the name."""
    exemption = agreement.exemption
    cap = Signature.Capacity
    names = {cap.HEADTEACHER: _name(request.user) if may_decide_exemptions(request.user) else ""}
    if exemption is None:
        record = services.visitor_record_of(agreement)
        own = staff_member_of(request.user)
        names[cap.STAFF_MEMBER] = own.full_name if own else _name(request.user)
        if record is not None:
            names[cap.VISITOR] = record.visit.visitor.full_name
            if record.agreed_by_id:
                names[cap.STAFF_MEMBER] = record.agreed_by.full_name
        return names
    names[cap.LEARNER] = exemption.learner.full_name if exemption.learner_id else ""
    names[cap.STAFF_MEMBER] = exemption.staff.full_name if exemption.staff_id else ""
    names[cap.VISITOR] = exemption.visitor.full_name if exemption.visitor_id else ""
    return names


def _signature_form(request, agreement: Agreement, data=None, files=None, wanted: str = ""):
    unsigned = [
        capacity
        for capacity in services.required_capacities(agreement)
        if not any(s.capacity == capacity for s in agreement.signatures.all())
    ]
    # offer what this user can record: the headteacher signs from their own login
    offered = [
        c
        for c in unsigned
        if c != Signature.Capacity.HEADTEACHER or has_role(request.user, Role.HEADTEACHER)
    ]
    # whatever is sent is checked by the transition, which says why it refuses
    accepted = offered if data is None else services.required_capacities(agreement)
    choices = [(c, _capacity_label(agreement, c)) for c in accepted]
    parents = _parents_for(agreement)
    initial = {}
    if data is None and offered:
        selected = wanted if wanted in offered else offered[0]
        names = _signer_names(request, agreement)
        initial = {"capacity": selected, "signer_name": names.get(selected, "")}
        parent_list = list(parents)
        if len(parent_list) == 1:
            initial["parent"] = parent_list[0].pk
            if selected == Signature.Capacity.PARENT_CARER:
                initial["signer_name"] = parent_list[0].full_name
    form = forms.SignatureForm(
        data, files, capacities=choices, parents=parents, initial=initial or None
    )
    form.unsigned = unsigned
    form.offered = offered
    form.head_waiting = Signature.Capacity.HEADTEACHER in unsigned and not has_role(
        request.user, Role.HEADTEACHER
    )
    return form


def _capacity_label(agreement: Agreement, capacity: str) -> str:
    label = Signature.Capacity(capacity).label
    name = ""
    exemption = agreement.exemption
    record = services.visitor_record_of(agreement)
    if record is not None:
        if capacity == Signature.Capacity.VISITOR:
            name = record.visit.visitor.full_name
        elif capacity == Signature.Capacity.STAFF_MEMBER and record.agreed_by_id:
            name = record.agreed_by.full_name
    if exemption is not None:
        if capacity == Signature.Capacity.LEARNER and exemption.learner_id:
            name = exemption.learner.full_name
        elif capacity == Signature.Capacity.STAFF_MEMBER and exemption.staff_id:
            name = exemption.staff.full_name
        elif capacity == Signature.Capacity.VISITOR and exemption.visitor_id:
            name = exemption.visitor.full_name
    return f"{label}: {name}" if name else label


def _agreement_subject(agreement: Agreement) -> AgreementSubject:
    return subject_of(agreement)


def _signing_blocker(agreement: Agreement) -> str:
    record = services.visitor_record_of(agreement)
    if record is None or agreement.status != Agreement.Status.AWAITING_SIGNATURES:
        return ""
    return signing_blocker(record)


def _agreement_response(request, agreement: Agreement, form=None):
    """The agreement's page; `form` is a signature that was sent and refused."""
    exemption = agreement.exemption
    if exemption is not None:
        _decorate(exemption)
    signatures = list(agreement.signatures.all())
    awaiting = agreement.status == Agreement.Status.AWAITING_SIGNATURES
    sign_form = None
    if awaiting and may_record_signatures(request.user):
        sign_form = form or _signature_form(request, agreement, wanted=request.GET.get("as", ""))
    elif form is not None:
        for error in form.non_field_errors():
            messages.error(request, error)
    parents = list(_parents_for(agreement)) if sign_form is not None else []
    return render(
        request,
        "devices/agreement_detail.html",
        {
            "agreement": agreement,
            "exemption": exemption,
            "subject": _agreement_subject(agreement),
            "visit_record": services.visitor_record_of(agreement),
            "may_open_exemption": getattr(agreement, "may_open_exemption", True),
            "signing_blocker": _signing_blocker(agreement),
            "rows": signature_rows(agreement, signatures),
            "superseded_by": Agreement.objects.filter(supersedes=agreement).first(),
            "sign_form": sign_form,
            "signer_names": _signer_names(request, agreement) if sign_form else {},
            "parent_names": {str(p.pk): p.full_name for p in parents},
            "no_parents": sign_form is not None
            and exemption is not None
            and exemption.learner_id is not None
            and not parents,
            "may_verify": _may_verify(request.user),
            "policy_rule": _rule("sign", exemption),
            "form": form,  # a signature that was sent and refused
        },
    )


@require_GET
def agreement_detail(request, pk: int):
    agreement = _get_agreement(request.user, pk)
    compliance_services.record_access_log(user=request.user, record=agreement)
    return _agreement_response(request, agreement)


@require_POST
def signature_record(request, pk: int):
    agreement = _get_agreement(request.user, pk)
    if not may_record_signatures(request.user):
        raise PermissionDenied("Signatures are recorded by the headteacher, DSL team or office.")
    form = _signature_form(request, agreement, data=request.POST, files=request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            signature = services.signature_record(
                agreement=agreement,
                capacity=data["capacity"],
                signer_name=data["signer_name"],
                method=data["method"],
                drawn_png=data.get("drawn_png") or "",
                paper_scan=data.get("paper_scan"),
                parent=data.get("parent"),
                by=request.user,
            )
        except Refused as refused:
            form.add_error(None, str(refused))
        else:
            agreement.refresh_from_db()
            if agreement.status == Agreement.Status.SIGNED:
                messages.success(
                    request,
                    f"Signed by everyone: the terms are fixed with fingerprint "
                    f"{agreement.fingerprint}."
                    + (" The exemption is now active." if agreement.exemption_id else ""),
                )
            else:
                messages.success(
                    request,
                    f"Recorded the signature of {signature.signer_name} "
                    f"({signature.get_capacity_display().lower()}).",
                )
            return redirect(agreement)
    return _agreement_response(request, agreement, form=form)


@require_GET
def agreement_pdf_download(request, pk: int):
    agreement = _get_agreement(request.user, pk)
    content = agreement_pdf(
        agreement,
        subject=_agreement_subject(agreement) if agreement.exemption_id is None else None,
        verify_url=request.build_absolute_uri(reverse("devices:agreement_verify")),
    )
    compliance_services.record_access_log(
        user=request.user, record=agreement, action=RecordAccess.Action.DOWNLOAD
    )
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"agreement-{agreement.pk}-version-{agreement.number}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def signature_scan(request, pk: int):
    """The scan of a paper signature: never a media URL, only this permission-checked view."""
    exemptions_for(request.user)  # 403 for a role that sees no exemptions
    signature = Signature.objects.filter(pk=pk).only("pk", "agreement_id", "paper_scan").first()
    if signature is None or not signature.paper_scan:
        raise Http404("No such scan.")
    agreement = _get_agreement(request.user, signature.agreement_id)
    try:
        handle = signature.paper_scan.open("rb")
    except FileNotFoundError:
        raise Http404("The scan is missing from the file store: tell the DSL.") from None
    compliance_services.record_access_log(
        user=request.user, record=signature, action=RecordAccess.Action.DOWNLOAD
    )
    filename = f"agreement-{agreement.pk}-version-{agreement.number}-signature-{signature.pk}"
    return FileResponse(
        handle, as_attachment=True, filename=f"{filename}.pdf", content_type="application/pdf"
    )


# Checking a fingerprint ---------------------------------------------------------------


def _may_verify(user) -> bool:
    """The senior team and the office. The office holds the paper copies that come back to
    reception and the visitors' agreements; the senior team checks a copy in an
    investigation. The answer names no one: it links to the record only for those who may
    open it."""
    return has_role(user, *SENIOR, Role.OFFICE)


@require_GET
def agreement_verify(request):
    if not _may_verify(request.user):
        raise PermissionDenied("Agreements are checked by the office and the senior team.")
    form = forms.VerifyForm(request.GET if "fingerprint" in request.GET else None)
    result = None
    if form.is_valid():
        fingerprint = form.cleaned_data["fingerprint"]
        try:
            agreement, intact = services.agreement_verify(fingerprint)
        except OSError:
            # a paper scan the fingerprint covers is missing from the file store: the
            # record can no longer be shown to be what was signed
            agreement, intact = Agreement.objects.filter(fingerprint=fingerprint).first(), False
        result = {"agreement": agreement, "intact": intact}
        if agreement is not None:
            signatures = list(agreement.signatures.all())
            result["signed"] = _fully_signed(agreement)
            result["signed_on"] = max((s.signed_at for s in signatures), default=None)
            result["superseded_by"] = Agreement.objects.filter(supersedes=agreement).first()
            result["may_open"] = may_open_agreement(request.user, agreement)
    return render(
        request,
        "devices/agreement_verify.html",
        {"form": form, "result": result, "policy_rule": _RULE_LEARNER_RECORD},
    )


# The dashboard panel -----------------------------------------------------------------

PANEL_ROWS = 5
ENDING_WITHIN_DAYS = 14


def _panel_visible(user) -> bool:
    return has_role(user, *SENIOR, Role.OFFICE, Role.STAFF)


def _panel_rows(qs: QuerySet) -> list[Exemption]:
    return [
        _decorate(e)
        for e in qs.select_related("learner", "staff", "visitor", "category")[:PANEL_ROWS]
    ]


def _panel_context(request) -> dict:
    """The headteacher: what waits for them. Staff: their own requests. The DSL team and the
    office: the way in (no queries)."""
    user = request.user
    context = {
        "may_request": bool(_subjects_allowed(user)),
        "may_verify": _may_verify(user),
        "is_head": may_decide_exemptions(user),
        "mine": None,
    }
    if context["is_head"]:
        today = timezone.localdate()
        soon = today + datetime.timedelta(days=ENDING_WITHIN_DAYS)
        ending = Q(status=Status.ACTIVE, ends__lte=soon)
        counts = Exemption.objects.aggregate(
            deciding=Count("pk", filter=Q(status=Status.REQUESTED)),
            signing=Count("pk", filter=Q(status=Status.AGREEMENT_ISSUED)),
            ending=Count("pk", filter=ending),
        )
        context["queues"] = [
            {
                "key": "deciding",
                "title": "Awaiting your decision",
                "count": counts["deciding"],
                "rows": _panel_rows(
                    Exemption.objects.filter(status=Status.REQUESTED).order_by("requested_at")
                ),
                "url": f"{reverse('devices:exemption_list')}?status={Status.REQUESTED}",
                "empty": "Nothing waiting.",
            },
            {
                "key": "signing",
                "title": "Agreements awaiting signatures",
                "count": counts["signing"],
                "rows": _panel_rows(
                    Exemption.objects.filter(status=Status.AGREEMENT_ISSUED).order_by(
                        "decided_at", "pk"
                    )
                ),
                "url": f"{reverse('devices:exemption_list')}?status={Status.AGREEMENT_ISSUED}",
                "empty": "None.",
            },
            {
                "key": "ending",
                "title": f"Ending in the next {ENDING_WITHIN_DAYS} days",
                "count": counts["ending"],
                "rows": _panel_rows(Exemption.objects.filter(ending).order_by("ends", "pk")),
                "url": f"{reverse('devices:exemption_list')}?status={Status.ACTIVE}",
                "empty": "None.",
            },
        ]
    elif has_role(user, Role.STAFF):
        own = staff_member_of(user)
        mine = Q(requested_by=user) | Q(staff=own) if own else Q(requested_by=user)
        context["mine"] = _panel_rows(Exemption.objects.filter(mine).order_by("-requested_at"))
    return context


def register_panels() -> None:
    """Dashboard panels of this area (called from DevicesConfig.ready)."""
    register_panel(
        Panel(
            key="exemptions",
            title="Exemptions",
            template="devices/panels/exemptions.html",
            visible=_panel_visible,
            context=_panel_context,
            order=5,
        )
    )


urlpatterns = [
    path("exemptions/", exemption_list, name="exemption_list"),
    path("exemptions/request/", exemption_request, name="exemption_request"),
    path("exemptions/<int:pk>/", exemption_detail, name="exemption_detail"),
    path("exemptions/<int:pk>/decide/", exemption_decide, name="exemption_decide"),
    path(
        "exemptions/<int:pk>/ask-for-risk-assessment/",
        exemption_ask_risk_assessment,
        name="exemption_ask_risk_assessment",
    ),
    path(
        "exemptions/<int:pk>/risk-assessment/",
        exemption_risk_assessment,
        name="exemption_risk_assessment",
    ),
    path("exemptions/<int:pk>/agreement/", agreement_issue, name="agreement_issue"),
    path("exemptions/<int:pk>/revoke/", exemption_revoke, name="exemption_revoke"),
    path("agreements/verify/", agreement_verify, name="agreement_verify"),
    path("agreements/<int:pk>/", agreement_detail, name="agreement_detail"),
    path("agreements/<int:pk>/pdf/", agreement_pdf_download, name="agreement_pdf"),
    path("agreements/<int:pk>/sign/", signature_record, name="signature_record"),
    path("signatures/<int:pk>/scan/", signature_scan, name="signature_scan"),
]
