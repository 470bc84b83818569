"""The incident page (policy sections 5, 6 and 9): what was reported, by whom and when,
with dated notes under it; the people involved and the policies it is handled under; one
timeline of everything that has happened since, oldest first, as a court would read it;
what still stops it from closing; and the steps this user may take now.

Each step (`incidents.steps`) is taken by a POST to its own URL, with a small form that
calls one transition function in `incidents.services`. Only the next step comes with its
form; a folded step's form is fetched by a GET to the same URL when it is opened (htmx), or
without script the page comes back with it open (`?step=`). A refusal comes back to this
page as a message with its reason, and the form that was sent is shown again as it was
typed. The timeline is built by `incidents.timeline`. Every opening of the page (and every
re-showing after a refused step) is a read of a confidential record: it is logged, and the
DSL sees that log here.

Who sees it: the DSL, the deputies, and the headteacher for a matter involving staff
(`services.may_handle`). The person who reported it is sent to their own report's page
(`incidents.views.report`), which shows what they wrote, their notes and the people they
named; anyone else gets 404, or 403 for a role that sees no incident
(`incidents.access.get_incident`).
"""

from __future__ import annotations

from functools import cache
from operator import attrgetter

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance.access import has_role, may_view_audit
from compliance.listing import day_and_time
from compliance.models import (
    ActionPlanItem,
    RecordAccess,
    User,
)
from compliance.policy import RULES as POLICY_RULES
from compliance.roles import Role
from compliance.selectors import joined, rows_exist
from compliance.services import record_access_log
from compliance.transitions import Refused
from incidents import services
from incidents.access import get_incident, may_triage_queue
from incidents.forms_dsl import (
    AttachmentRemoveForm,
    Choices,
    NoteForm,
)
from incidents.forms_report import no_files_guidance
from incidents.models import (
    Attachment,
    Debrief,
    Incident,
    Involvement,
    Note,
    ParentContact,
    Referral,
    Search,
)
from incidents.steps import (
    LEARNER_ILLEGAL_RULE,
    OPEN_STATUSES,
    SEARCH_RULE,
    STAFF_ILLEGAL_RULE,
    STEPS,
    Shown,
    step_keys,
)
from incidents.timeline import HISTORY_RELATED, timeline, url_or_blank
from incidents.views.queue import STATUS_TONE

Status = Incident.Status
# the latest openings shown on the page; the full access log is a link away
ACCESS_LOG_SHOWN = 10
# the folded part of the page that holds them (its anchor, and ?step= to open it)
ACCESS_LOG_KEY = "access-log"

# The page -------------------------------------------------------------------------------


@cache
def _history_table(model):
    """A model's historical model (`model.history` makes a new manager class on each use)."""
    return model.history.model


def _added_at(model) -> Subquery:
    """When each row was made, from its history (these records carry no date of their own)."""
    created = _history_table(model).objects.filter(id=OuterRef("pk"), history_type="+")
    return Subquery(created.order_by("history_date").values("history_date")[:1])


def _in_order(rows, *fields) -> list:
    """`rows` sorted here by `fields`. The incident page reads a few rows of each kind
    with wide joins: Django takes longer to compile an ORDER BY over every joined column
    than Python takes to sort them, so the queries below ask for no order (`order_by()`)."""
    return sorted(rows, key=attrgetter(*fields))


# The kinds of record an incident may have: the relation's name, and the model holding them.
_KINDS = {
    "people": Involvement,
    "referrals": Referral,
    "debrief": Debrief,
    "searches": Search,
    "parent_contacts": ParentContact,
    "notes": Note,
    "attachments": Attachment,
    "policies": Incident.policies.through,
}


def _kinds_recorded(incident: Incident) -> set[str]:
    """Which kinds of record the incident has, in one query: the page then asks nothing of
    the kinds it has none of (most, early in an incident's life)."""
    found = rows_exist([(model, {"incident": incident.pk}) for model in _KINDS.values()])
    return {name for name, recorded in zip(_KINDS, found, strict=True) if recorded}


# What the page reads of each kind: the people and things each row names (joined in the
# same query, but for logins: `_name_logins`), and the order they are shown in.
_READS = {
    "people": (("learner__form_class", "staff", "visitor", "added_by"), ("part", "pk")),
    "referrals": (("made_by",), ("made_at", "pk")),
    "notes": (("written_by",), ("written_at", "pk")),
    "searches": (
        (
            "learner",
            "led_by",
            "second_staff",
            "consent_parent",
            "confiscation__category",
            "confiscation__taken_by",
        ),
        ("searched_at", "pk"),
    ),
    "parent_contacts": (("parent", "told_by"), ("told_at", "pk")),
    "attachments": (("uploaded_by", "removed_by"), ("uploaded_at", "pk")),
}


def _logins(model, relations) -> tuple[list[str], list]:
    """`relations` parted into those to join and the fields naming logins (who added,
    wrote, made or told) to leave to `_name_logins`."""
    logins = [
        model._meta.get_field(n)
        for n in relations
        if "__" not in n and model._meta.get_field(n).related_model is User
    ]
    named = {field.name for field in logins}
    return [n for n in relations if n not in named], logins


# Each kind's relations parted once, not on every view; the debrief's and the history's
# logins likewise (through `_logins`, so a relation to anything but a login never gets one).
_PARTED = {name: _logins(_KINDS[name], relations) for name, (relations, _) in _READS.items()}
_DEBRIEF_LOGINS = _logins(Debrief, ["recorded_by"])[1]
_HISTORY_LOGINS = _logins(_history_table(Incident), ["history_user", *HISTORY_RELATED])[1]


def _name_logins(incident: Incident, named: list[tuple[list, list]]) -> None:
    """Give each row the logins its fields name, read in one query for the whole page.
    Joined to each kind's query instead, the same two or three people were read, and made
    again, for every row naming them: the history's four logins alone cost more than the
    rest of its query. The incident's reporter and lead, already read with it, are not read
    again."""
    known = {
        user.pk: user
        for user in (incident.reported_by, incident.assignee)
        if user is not None  # both are joined by incidents.access.get_incident
    }
    wanted = {getattr(row, f.attname) for rows, fields in named for row in rows for f in fields}
    missing = wanted - known.keys() - {None}
    if missing:
        known |= User.objects.in_bulk(missing)
    for rows, fields in named:
        for row in rows:
            for field in fields:
                field.set_cached_value(row, known.get(getattr(row, field.attname)))


def _load(incident: Incident) -> dict:
    """Everything recorded on the incident: one query to see which kinds it has, then one
    query for each of those, however much there is (a query is not even built for a kind
    it has none of), and one for the logins they name."""
    present = _kinds_recorded(incident)
    named = []

    def of_kind(name: str) -> list:
        if name not in present:
            return []
        model = _KINDS[name]
        relations, logins = _PARTED[name]
        rows = joined(model.objects.filter(incident=incident), relations).order_by()
        rows = _in_order(rows, *_READS[name][1])
        named.append((rows, logins))
        return rows

    debrief = None
    if "debrief" in present:
        found = (
            Debrief.objects.filter(incident=incident)
            .prefetch_related("attendees")
            .annotate(recorded_at=_added_at(Debrief))
            .order_by()
        )
        debrief = next(iter(found), None)
        named.append(([debrief] if debrief else [], _DEBRIEF_LOGINS))
    actions = []
    if debrief is not None:
        actions = _in_order(
            ActionPlanItem.objects.filter(
                source=ActionPlanItem.Source.DEBRIEF, source_reference=incident.reference
            )
            .select_related("owner")
            .order_by(),
            "due",
            "pk",
        )
    history = _in_order(
        _history_table(Incident).objects.filter(id=incident.pk).order_by(),
        "history_date",
        "history_id",
    )
    named.append((history, _HISTORY_LOGINS))
    records = {
        "incident": incident,
        "people": of_kind("people"),
        "referrals": of_kind("referrals"),
        "notes": of_kind("notes"),
        "searches": of_kind("searches"),
        "contacts": of_kind("parent_contacts"),
        "debrief": debrief,
        "actions": actions,
        "attachments": of_kind("attachments"),
        "history": history,
        "policies": list(incident.policies.all()) if "policies" in present else [],
    }
    _name_logins(incident, named)
    return records


def _offered(user, incident: Incident, people: list[Involvement], has_debrief: bool) -> list:
    return step_keys(
        user,
        incident,
        learners=any(p.learner_id for p in people),
        staff=any(p.staff_id for p in people),
        has_debrief=has_debrief,
    )


def _steps(
    user, incident: Incident, records: dict, bound: dict, options: Choices, wanted: str
) -> list:
    """The steps offered, the next one open. Only an open step's form is made here: a
    folded step fetches its form when opened (htmx, `step_form`), or without script the
    page is asked for again with `?step=` (`wanted`) to open it."""
    keys = _offered(user, incident, records["people"], records["debrief"] is not None)
    # a form just sent is shown again even if its step has closed meanwhile, so that what
    # was typed is not lost
    keys += [key for key in bound if key in STEPS and key not in keys and key != "note"]
    shown = []
    for position, key in enumerate(keys):
        step = STEPS[key]
        is_open = key in bound or key == wanted or (position == 0 and step.tone != "secondary")
        shown.append(
            Shown(
                key,
                step,
                bound.get(key) or (step.make_form(options) if is_open else None),
                reverse(step.url_name, args=[incident.pk]),
                open=is_open,
            )
        )
    return shown


def _page(
    request: HttpRequest,
    incident: Incident,
    *,
    bound: dict | None = None,
    options: Choices | None = None,
) -> HttpResponse:
    """The page for those who handle the incident (the caller has checked `may_handle`)."""
    user = request.user
    record_access_log(user=user, record=incident)
    bound = bound or {}
    # the step to open, when the page is asked for with ?step= (the link in a folded step)
    wanted = request.GET.get("step", "")
    records = _load(incident)
    open_now = incident.status in OPEN_STATUSES
    learners = any(p.learner_id for p in records["people"])
    staff = any(p.staff_id for p in records["people"])
    lado_made = [r for r in records["referrals"] if r.agency == Referral.Agency.LADO]
    events = timeline(records)
    context = {
        "incident": incident,
        "status_tone": STATUS_TONE[incident.status],
        "occurred": day_and_time(incident.occurred_at),
        "reported": day_and_time(incident.reported_at),
        # the never-view, never-copy instruction, as the reporter saw it when reporting
        "guidance": no_files_guidance(incident.category),
        "policy_rule": POLICY_RULES["confidentiality"],
        "may_queue": may_triage_queue(user),
        # the notes as the timeline has them (who, when, what), in the same order
        "notes": [event for event in events if event.kind == "note"],
        "people": records["people"],
        "policies": records["policies"],
        "timeline": events,
        "attachments": records["attachments"],
        "may_remove_files": has_role(user, Role.DSL),
        "remove_forms": {
            a.pk: bound.get(f"remove_{a.pk}") or AttachmentRemoveForm(prefix=f"remove-{a.pk}")
            for a in records["attachments"]
            if a.removed_at is None
        },
        "lado_due": services.lado_referral_due(incident),
        "lado_made": lado_made[0] if lado_made else None,
        "lado_overdue": services.lado_overdue(incident, referrals=records["referrals"]),
        "blockers": services.close_blockers(
            incident,
            people=records["people"],
            referrals=records["referrals"],
            searches=records["searches"],
            told=bool(records["contacts"]),
            has_debrief=records["debrief"] is not None,
        )
        if open_now
        else None,
        "search_url": url_or_blank("incidents:search_add", incident.pk)
        if has_role(user, *services.SEARCH_LEADS) and open_now and learners
        else "",
        "search_rule": SEARCH_RULE,
        "illegal_rule": STAFF_ILLEGAL_RULE if staff else LEARNER_ILLEGAL_RULE,
        "steps": _steps(user, incident, records, bound, options or Choices(user, incident), wanted),
        # folded away like the steps: made only when sent back or asked for
        "note_form": bound.get("note") or (NoteForm() if wanted == "note" else None),
        "note_url": reverse("incidents:incident_note", args=[incident.pk]),
    }
    if bound:
        # the form just sent, shown again with what was typed
        context["form"] = next(iter(bound.values()))
    if may_view_audit(user):
        # folded like the steps: fetched when opened, or open when asked for (?step=)
        context["access_log_fetch"] = reverse("incidents:incident_access_log", args=[incident.pk])
        if wanted == ACCESS_LOG_KEY:
            context.update(_access_log(incident, [s.pk for s in records["searches"]]))
    return render(request, "incidents/incident_detail.html", context)


def _access_log(incident: Incident, search_pks: list[int]) -> dict:
    """Who opened this incident and its searches, newest first (the DSL only)."""
    incident_type = ContentType.objects.get_for_model(Incident)
    search_type = ContentType.objects.get_for_model(Search)
    entries = list(
        RecordAccess.objects.filter(
            Q(content_type=incident_type, object_id=str(incident.pk))
            | Q(content_type=search_type, object_id__in=[str(pk) for pk in search_pks])
        )
        .select_related("user")
        .order_by("-at", "-pk")[: ACCESS_LOG_SHOWN + 1]
    )
    rows = [
        {
            "entry": entry,
            "what": "This incident"
            if entry.content_type_id == incident_type.pk
            else f"Search #{entry.object_id}",
        }
        for entry in entries[:ACCESS_LOG_SHOWN]
    ]
    return {
        "access_log": rows,
        "access_log_more": len(entries) > ACCESS_LOG_SHOWN,
        "access_log_url": reverse("compliance:access_log") + f"?record={incident.pk}",
    }


@require_GET
def incident_access_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Who has opened the incident: fetched when the DSL opens that part of the page
    (htmx); without script, the page with it open. Reading the log opens no record."""
    incident = _handled(request.user, pk)
    if not may_view_audit(request.user):
        raise PermissionDenied("Only the DSL sees who has opened an incident.")
    if not request.htmx:
        return redirect(f"{incident.get_absolute_url()}?step={ACCESS_LOG_KEY}#{ACCESS_LOG_KEY}")
    searches = list(incident.searches.values_list("pk", flat=True))
    return render(request, "incidents/incident_access_log.html", _access_log(incident, searches))


def _handled(user, pk) -> Incident:
    """The incident, for someone who handles it. Its reporter works on their own report's
    page; anyone else who may not see it gets 404 (or 403 for a role that sees none)."""
    incident = get_incident(user, pk)
    if not services.may_handle(user, incident):
        raise PermissionDenied(
            "Only the DSL or a deputy (or the headteacher, for a matter involving staff) "
            "works on an incident here."
        )
    return incident


@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = get_incident(request.user, pk)
    if not services.may_handle(request.user, incident):
        # the person who reported it: their own view of what they wrote, with its notes
        return redirect("incidents:my_report_detail", pk=incident.pk)
    return _page(request, incident)


def _act(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """One step: its form, then its transition; a refusal comes back to the page with the
    reason as a message and the form as it was typed."""
    incident = _handled(request.user, pk)
    options = Choices(request.user, incident)
    step = STEPS[key]
    form = step.make_form(options, data=request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was recorded: check the form below.")
        return _page(request, incident, bound={key: form}, options=options)
    try:
        done = step.run(request.user, incident, form.cleaned_data)
    except Refused as refused:
        messages.error(request, str(refused))
        return _page(request, incident, bound={key: form}, options=options)
    messages.success(request, done)
    return redirect(incident)


def _step_form(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """A folded step's form, fetched when the step is opened (htmx); without script, the
    page with the step open."""
    incident = _handled(request.user, pk)
    if not request.htmx:
        return redirect(f"{incident.get_absolute_url()}?step={key}#step-{key}")
    people = list(incident.people.all())
    has_debrief = Debrief.objects.filter(incident=incident).exists()
    offered = _offered(request.user, incident, people, has_debrief)
    if key != "note" and key not in offered:
        return render(request, "incidents/incident_step_gone.html")
    step = STEPS[key]
    shown = Shown(
        key,
        step,
        step.make_form(Choices(request.user, incident)),
        reverse(step.url_name, args=[incident.pk]),
        open=True,
    )
    context = {
        "shown": shown,
        "blockers": services.close_blockers(incident) if key == "close" else None,
        "illegal_rule": STAFF_ILLEGAL_RULE
        if any(p.staff_id for p in people)
        else LEARNER_ILLEGAL_RULE,
    }
    return render(request, "incidents/incident_step_body.html", context)


def _step_view(key: str):
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        if request.method == "POST":
            return _act(request, pk, key)
        return _step_form(request, pk, key)

    view.__name__ = f"incident_{key}"
    view.__doc__ = f"{STEPS[key].title}: its form (GET), then the step itself (POST)."
    return view


@require_POST
def incident_attachment_remove(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    """The DSL removes a file that must not be kept; the record that it existed stays."""
    incident = _handled(request.user, pk)
    try:
        attachment = Attachment.objects.get(pk=attachment_pk, incident=incident)
    except Attachment.DoesNotExist:
        raise Http404("No such file on this incident.") from None
    form = AttachmentRemoveForm(request.POST, prefix=f"remove-{attachment.pk}")
    bound = {f"remove_{attachment.pk}": form}
    if not form.is_valid():
        messages.error(request, "Nothing was removed: check the form below.")
        return _page(request, incident, bound=bound)
    try:
        services.attachment_remove(
            attachment=attachment, reason=form.cleaned_data["reason"], by=request.user
        )
    except Refused as refused:
        messages.error(request, str(refused))
        return _page(request, incident, bound=bound)
    messages.success(request, "The file is removed; the record that it existed stays.")
    return redirect(incident)


_STEP_PATHS = {
    "triage": "triage",
    "escalate": "escalate",
    "investigate": "investigate",
    "ready": "ready-for-debrief",
    "debrief": "debrief",
    "close": "close",
    "referral": "referral",
    "parents_told": "parents-told",
    "parents_not_told": "parents-not-told",
    "conduct": "conduct",
    "person": "person",
    "note": "note",
}

urlpatterns: list = [
    path("<int:pk>/", incident_detail, name="incident_detail"),
    *[
        path(f"<int:pk>/{segment}/", _step_view(key), name=f"incident_{key}")
        for key, segment in _STEP_PATHS.items()
    ],
    path("<int:pk>/access-log/", incident_access_log, name="incident_access_log"),
    path(
        "<int:pk>/files/<int:attachment_pk>/remove/",
        incident_attachment_remove,
        name="incident_attachment_remove",
    ),
]


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready); the triage queue's
    panels are registered by `incidents.views.queue`."""
