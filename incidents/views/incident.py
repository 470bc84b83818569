"""The incident page (policy sections 5, 6 and 9): what was reported, by whom and when,
with dated notes under it; the people involved and the policies it is handled under; one
timeline of everything that has happened since, oldest first, as a court would read it;
what still stops it from closing; and the steps this user may take now.

Each step is a POST-only view with a small form that calls one transition function in
`incidents.services`. A refusal comes back to this page as a message with its reason, and
the form that was sent is shown again as it was typed. Every opening of the page (and every
re-showing after a refused step) is a read of a confidential record: it is logged, and the
DSL sees that log here.

Who sees it: the DSL, the deputies, and the headteacher for a matter involving staff
(`services.may_handle`). The person who reported it is sent to their own report's page
(`incidents.views.report`), which shows what they wrote, their notes and the people they
named; anyone else gets 404, or 403 for a role that sees no incident
(`incidents.access.get_incident`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from compliance.access import has_role, may_view_audit
from compliance.history import history_entries
from compliance.models import (
    ActionPlanItem,
    RecordAccess,
)
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.roles import Role
from compliance.services import record_access_log
from compliance.transitions import Refused
from incidents import services
from incidents.access import get_incident, may_triage_queue
from incidents.forms_dsl import (
    AttachmentRemoveForm,
    Choices,
    ConductForm,
    DebriefForm,
    EscalateForm,
    NoteForm,
    ParentsNotToldForm,
    ParentsToldForm,
    PersonForm,
    ReferralForm,
    StepForm,
    TriageForm,
    user_label,
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
from incidents.views.queue import STATUS_TONE

Status = Incident.Status
OPEN_STATUSES = (Status.TRIAGED, Status.INVESTIGATING, Status.AWAITING_DEBRIEF)
# the latest openings shown on the page; the full access log is a link away
ACCESS_LOG_SHOWN = 10

# The rules each step carries out, quoted where the DSL acts -------------------------------

TRIAGE_RULE = PolicyRule(
    "9",
    "Responding to policy breaches",
    "All members of the community are informed of the need to report policy breaches or "
    "concerns in line with existing school policies and procedures. This includes: child "
    "protection, code of conduct and behaviour for learning and conduct policy.",
)
CHILD_AT_RISK_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Where there is a concern that a child is at risk of harm, we will respond in line with "
    "our child protection policy.",
)
LEARNER_ILLEGAL_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "If there is suspicion that material on a learner's personal device or mobile phone may "
    "be illegal, or may provide evidence relating to a criminal offence, the device will be "
    "handed over to the police for further investigation.",
)
STAFF_ILLEGAL_RULE = PolicyRule(
    "5",
    "Staff use of mobile and smart technology",
    "If a member of staff is thought to have illegal content saved or stored on a mobile "
    "phone or personal device or have committed a criminal offence using a personal device "
    "or mobile phone, the police will be contacted and the LADO (Local Authority Designated "
    "Officer) will be informed in line with our allegations policy.",
)
PARENTS_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Concerns regarding policy breaches by learners will be shared with parents/carers as "
    "appropriate.",
)
CONDUCT_RULE = PolicyRule(
    "5",
    "Staff use of mobile and smart technology",
    "If a member of staff breaches our policy, action will be taken in line with our staff "
    "code of conduct and grievance policy.",
)
DEBRIEF_RULE = PolicyRule(
    "9",
    "Responding to policy breaches",
    "After any investigations are completed, leadership staff will debrief, identify lessons "
    "learnt and implement any policy or curriculum changes, as required.",
)
SEARCH_RULE = PolicyRule(
    "6",
    "Learners use of mobile and smart technology",
    "Learners' mobile phones or devices may be searched (by 2 members of staff where "
    "possible) by a DSL and/or the headteacher, with the consent of the learner or a "
    "parent/carer.",
)


def _url(name: str, *args) -> str:
    """The URL, or "" while the page it names is not there (searches are built elsewhere)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


# The steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    title: str
    url_name: str
    button: str
    make_form: Callable[..., Form]
    run: Callable[[object, Incident, dict], str]  # (user, incident, data) -> what was done
    rule: PolicyRule | None = None
    tone: str = "primary"
    note: str = ""


def _triage(user, incident: Incident, data: dict) -> str:
    done = services.incident_triage(
        incident=incident,
        by=user,
        category=data["category"],
        child_at_risk=data["child_at_risk"],
        suspected_illegal=data["suspected_illegal"],
        staff_allegation=data["staff_allegation"],
        assignee=data["assignee"],
        policies=data["policies"],
    )
    said = [f"Triaged {done.reference}: assigned to {user_label(done.assignee)}."]
    if done.child_at_risk:
        said.append("Escalated under the child protection policy; the DSL has been alerted.")
    if done.staff_allegation:
        due = timezone.localtime(services.lado_referral_due(done))
        said.append(f"Refer it to the LADO by {due:%d/%m/%Y %H:%M}.")
    return " ".join(said)


def _escalate(user, incident: Incident, data: dict) -> str:
    services.incident_escalate(incident=incident, by=user, **data)
    return "Raised: " + ", ".join(EscalateForm.base_fields[n].label.lower() for n in data) + "."


def _person(user, incident: Incident, data: dict) -> str:
    person = services.Person(
        part=data["part"],
        learner=data.get("learner"),
        staff=data.get("staff"),
        visitor=data.get("visitor"),
    )
    involvement = services.person_add(incident=incident, person=person, by=user)
    return f"Added {involvement.person} ({involvement.get_part_display().lower()})."


def _referral(user, incident: Incident, data: dict) -> str:
    referral = services.referral_record(incident=incident, by=user, **data)
    return f"Recorded: {referral.get_agency_display()}."


def _parents_told(user, incident: Incident, data: dict) -> str:
    contact = services.parent_contact_record(incident=incident, by=user, **data)
    return f"Recorded that {contact.parent} was told ({contact.get_how_display().lower()})."


def _investigate(user, incident: Incident, data: dict) -> str:
    services.incident_start_investigation(incident=incident, by=user)
    return "The investigation has started."


def _ready(user, incident: Incident, data: dict) -> str:
    services.incident_ready_for_debrief(incident=incident, by=user)
    return "The investigation is complete: next, the debrief."


def _close(user, incident: Incident, data: dict) -> str:
    closed = services.incident_close(incident=incident, by=user)
    return f"{closed.reference} is closed."


def _parents_not_told(user, incident: Incident, data: dict) -> str:
    services.parents_not_told(incident=incident, by=user, reason=data["reason"])
    return "Recorded why parents or carers were not told."


def _conduct(user, incident: Incident, data: dict) -> str:
    services.conduct_outcome_record(incident=incident, by=user, outcome=data["outcome"])
    return "Recorded the code of conduct outcome."


def _note(user, incident: Incident, data: dict) -> str:
    services.note_add(incident=incident, by=user, text=data["text"])
    return "Note added."


def _debrief(user, incident: Incident, data: dict) -> str:
    services.debrief_record(
        incident=incident,
        by=user,
        held_on=data["held_on"],
        attendees=data["attendees"],
        lessons=data["lessons"],
        policy_changes=data["policy_changes"],
        curriculum_changes=data["curriculum_changes"],
        actions=data["actions"],
    )
    count = len(data["actions"])
    return f"Debrief recorded; {count} action{'s' if count != 1 else ''} added to the action plan."


STEPS: dict[str, Step] = {
    "triage": Step(
        "Triage",
        "incidents:incident_triage",
        "Triage",
        lambda o, **kw: TriageForm(
            incident=o.incident,
            leads=o.leads,
            policies=o.policies,
            current_policies=o.current_policies,
            **kw,
        ),
        _triage,
        TRIAGE_RULE,
    ),
    "investigate": Step(
        "Start the investigation",
        "incidents:incident_investigate",
        "Start the investigation",
        lambda o, **kw: StepForm(**kw),
        _investigate,
    ),
    "ready": Step(
        "The investigation is complete",
        "incidents:incident_ready",
        "Move to the debrief",
        lambda o, **kw: StepForm(**kw),
        _ready,
        DEBRIEF_RULE,
    ),
    "debrief": Step(
        "Record the debrief",
        "incidents:incident_debrief",
        "Record the debrief",
        lambda o, **kw: DebriefForm(staff=o.staff, **kw),
        _debrief,
        DEBRIEF_RULE,
        note="Each policy or curriculum change becomes an action on the school's action plan, "
        "with an owner and a due date.",
    ),
    "close": Step(
        "Close the incident",
        "incidents:incident_close",
        "Close the incident",
        lambda o, **kw: StepForm(**kw),
        _close,
        DEBRIEF_RULE,
        tone="success",
    ),
    "referral": Step(
        "Record a referral or advice sought",
        "incidents:incident_referral",
        "Record it",
        lambda o, **kw: ReferralForm(**kw),
        _referral,
        POLICY_RULES["breaches"],
        note="Police, the LADO, children's social care, or advice from the Education "
        "Safeguarding Service.",
    ),
    "parents_told": Step(
        "Parents or carers told",
        "incidents:incident_parents_told",
        "Record that they were told",
        lambda o, **kw: ParentsToldForm(parents=o.parents, **kw),
        _parents_told,
        PARENTS_RULE,
    ),
    "parents_not_told": Step(
        "Parents or carers not told",
        "incidents:incident_parents_not_told",
        "Record why not",
        lambda o, **kw: ParentsNotToldForm(**kw),
        _parents_not_told,
        PARENTS_RULE,
        tone="secondary",
    ),
    "conduct": Step(
        "Code of conduct outcome",
        "incidents:incident_conduct",
        "Record the outcome",
        lambda o, **kw: ConductForm(**kw),
        _conduct,
        CONDUCT_RULE,
    ),
    "person": Step(
        "Add a person involved",
        "incidents:incident_person",
        "Add them",
        lambda o, **kw: PersonForm(learners=o.learners, staff=o.staff, visitors=o.visitors, **kw),
        _person,
        tone="secondary",
    ),
    "escalate": Step(
        "Raise a flag found later",
        "incidents:incident_escalate",
        "Raise it",
        lambda o, **kw: EscalateForm(incident=o.incident, **kw),
        _escalate,
        CHILD_AT_RISK_RULE,
        tone="danger",
        note="Flags are raised, never lowered. Each adds what must be done before it can close.",
    ),
    "note": Step(
        "Add a note",
        "incidents:incident_note",
        "Add the note",
        lambda o, **kw: NoteForm(**kw),
        _note,
        tone="secondary",
    ),
}


@dataclass
class Shown:
    """A step as the page offers it: its form (typed in, after a refusal), open or not."""

    key: str
    step: Step
    form: Form
    url: str
    open: bool = False


def _step_keys(
    user, incident: Incident, *, learners: bool, staff: bool, has_debrief: bool
) -> list[str]:
    """The steps a handler may take now, the next step of the workflow first. The services
    decide; this only chooses which forms the page offers."""
    status = incident.status
    keys = {
        Status.REPORTED: ["triage"],
        Status.TRIAGED: ["investigate"],
        Status.INVESTIGATING: ["ready"],
        Status.AWAITING_DEBRIEF: ([] if has_debrief else ["debrief"]) + ["close"],
    }.get(status, [])
    if status in OPEN_STATUSES:
        keys.append("referral")
        if learners:
            keys += ["parents_told", "parents_not_told"]
        if staff and has_role(user, Role.HEADTEACHER):
            keys.append("conduct")
    if status != Status.CLOSED:
        keys.append("person")
    if status in OPEN_STATUSES:
        keys.append("escalate")
    return keys


# The timeline ---------------------------------------------------------------------------


@dataclass
class Event:
    when: datetime.datetime
    title: str
    kind: str
    who: str = ""
    lines: list[str] = field(default_factory=list)
    changes: list[dict] = field(default_factory=list)
    link: str = ""
    link_label: str = ""
    tone: str = "secondary"


_STATUS_TITLES = {
    Status.TRIAGED: "Triaged",
    Status.INVESTIGATING: "Investigation started",
    Status.AWAITING_DEBRIEF: "Investigation complete: awaiting the debrief",
    Status.CLOSED: "Closed",
}
# what a change to the incident is called, when its status did not change
_CHANGE_TITLES = [
    ("child_at_risk", "Flag raised", "danger"),
    ("suspected_illegal", "Flag raised", "danger"),
    ("staff_allegation", "Flag raised", "danger"),
    ("conduct_outcome", "Code of conduct outcome recorded", "secondary"),
    ("parents_not_told_reason", "Recorded why parents or carers were not told", "info"),
    ("account", "The reporter corrected their account (before triage)", "warning"),
    ("category", "Category changed", "secondary"),
    ("policies", "Policies it is handled under changed", "secondary"),
]
_FIELD_NAMES = {
    str(f.verbose_name): f.name for f in Incident._meta.get_fields() if hasattr(f, "verbose_name")
}
# Set only by the transitions (not editable): compliance.history compares them from the
# history rows; the people they name are fetched with the rows.
_WORKFLOW_FIELDS = [
    f
    for f in Incident._meta.concrete_fields
    if not f.editable and f.name not in {"id", "reference", "reported_at", "version"}
]
HISTORY_RELATED = [f.name for f in _WORKFLOW_FIELDS if f.is_relation]


def _who(user) -> str:
    return user_label(user) if user is not None else ""


def _local(moment: datetime.datetime) -> str:
    return f"{timezone.localtime(moment):%d/%m/%Y %H:%M}"


def _history_events(records: list, incident: Incident) -> list[Event]:
    """The incident's own changes: reported, each status, each flag, outcome and reason."""
    events = []
    for record, entry in zip(records, history_entries(records, Incident), strict=True):
        changes = entry["changes"]
        who = _who(entry["who"])
        if entry["type"] == "Created":
            reporter = who or _who(incident.reported_by)
            events.append(Event(entry["when"], "Reported", "status", reporter, tone="warning"))
            continue
        names = {_FIELD_NAMES.get(str(row["field"]), "") for row in changes}
        if not names:
            continue  # saved with nothing new (a flag raised twice)
        if "status" in names:
            title, tone = _STATUS_TITLES.get(record.status, "Status changed"), "primary"
        else:
            title, tone = next(
                ((t, tone) for name, t, tone in _CHANGE_TITLES if name in names),
                ("Changed", "secondary"),
            )
        events.append(Event(entry["when"], title, "status", who, changes=changes, tone=tone))
    return events


def _search_events(search: Search) -> list[Event]:
    witness = (
        f"Second member of staff: {search.second_staff}"
        if search.second_staff
        else f"No second member of staff: {search.no_second_reason}"
    )
    consent = f"Consent: {search.consent_parent or 'the learner'} ({search.consent_how})"
    told = (
        f"Parents told {_local(search.parents_told_at)}"
        if search.parents_told_at
        else "Parents not yet told of the search"
    )
    found = "Nothing found" if search.found_nothing else f"Found: {search.found}"
    lines = [f"{search.device}, at {search.place}", witness, consent, found]
    lines += [search.get_deletion_display(), search.get_outcome_display(), told]
    events = [
        Event(
            search.searched_at,
            f"Device searched: {search.learner.full_name}",
            "search",
            _who(search.led_by),
            lines,
            link=_url("incidents:search_detail", search.pk),
            link_label=f"Search #{search.pk}",
            tone="primary",
        )
    ]
    taken = search.confiscation
    if taken is not None:
        custody = f"Confiscation #{taken.pk} and its chain of custody"
        events.append(
            Event(
                taken.taken_at,
                f"Device confiscated: {taken.category}",
                "confiscation",
                taken.taken_by.full_name,
                [taken.description, taken.get_status_display()],
                link=taken.get_absolute_url(),
                link_label=custody,
            )
        )
        if taken.handed_to_police_at:
            police = [f"Officer: {taken.police_officer}", f"Reference: {taken.police_reference}"]
            events.append(
                Event(
                    taken.handed_to_police_at,
                    "Device handed to the police",
                    "confiscation",
                    lines=police,
                    link=taken.get_absolute_url(),
                    link_label=custody,
                    tone="danger",
                )
            )
    return events


def _referral_event(referral: Referral) -> Event:
    advice = referral.agency == Referral.Agency.ESS
    lines = [
        f"Spoke to {referral.contact}",
        f"Their reference: {referral.reference}" if referral.reference else "",
        f"Advice: {referral.advice}" if referral.advice else "",
        f"Outcome: {referral.outcome}" if referral.outcome else "",
    ]
    serious = referral.agency in (Referral.Agency.POLICE, Referral.Agency.LADO)
    return Event(
        referral.made_at,
        ("Advice sought: " if advice else "Referral: ") + referral.get_agency_display(),
        "referral",
        _who(referral.made_by),
        [line for line in lines if line],
        tone="danger" if serious else "primary",
    )


def _debrief_event(debrief: Debrief, actions: list[ActionPlanItem]) -> Event:
    lines = [
        f"Held on {debrief.held_on:%d/%m/%Y}",
        "Attended: " + ", ".join(s.full_name for s in debrief.attendees.all()),
        f"Lessons learnt: {debrief.lessons}",
        f"Policy changes: {debrief.policy_changes}" if debrief.policy_changes else "",
        f"Curriculum changes: {debrief.curriculum_changes}" if debrief.curriculum_changes else "",
    ]
    lines += [f"Action: {a.description} ({a.owner}, due {a.due:%d/%m/%Y})" for a in actions]
    noon = datetime.datetime.combine(debrief.held_on, datetime.time(12))
    when = debrief.recorded_at or timezone.make_aware(noon)
    return Event(when, "Debrief", "debrief", _who(debrief.recorded_by), lines, tone="success")


def _timeline(records: dict) -> list[Event]:
    """Everything that has happened, oldest first (a court reads it in that order)."""
    events = _history_events(records["history"], records["incident"])
    events += [
        Event(n.written_at, "Note added", "note", _who(n.written_by), [n.text], tone="info")
        for n in records["notes"]
    ]
    events += [
        Event(
            p.added_at,
            "Person added",
            "person",
            _who(p.added_by),
            [f"{p.person} ({p.part})"],
        )
        for p in records["people"]
        if p.added_at is not None
    ]
    for search in records["searches"]:
        events += _search_events(search)
    events += [_referral_event(r) for r in records["referrals"]]
    events += [
        Event(
            c.told_at,
            f"Parent or carer told: {c.parent}",
            "parents",
            _who(c.told_by),
            [c.get_how_display(), c.summary],
            tone="info",
        )
        for c in records["contacts"]
    ]
    if records["debrief"] is not None:
        events.append(_debrief_event(records["debrief"], records["actions"]))
    for a in records["attachments"]:
        events.append(
            Event(
                a.uploaded_at, f"File attached: {a.description}", "attachment", _who(a.uploaded_by)
            )
        )
        if a.removed_at:
            events.append(
                Event(
                    a.removed_at,
                    f"File removed: {a.description}",
                    "attachment",
                    _who(a.removed_by),
                    [a.removal_reason],
                    tone="danger",
                )
            )
    events.sort(key=lambda event: event.when)
    return events


# The page -------------------------------------------------------------------------------


def _added_at(model) -> Subquery:
    """When each row was made, from its history (these records carry no date of their own)."""
    created = model.history.filter(id=OuterRef("pk"), history_type="+")
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
    """Which kinds of record the incident has, in one query of indexed lookups: the page
    then asks nothing of the kinds it has none of (most, early in an incident's life)."""
    connection = connections[router.db_for_read(Incident)]
    quote = connection.ops.quote_name
    parts = [
        # names and tables are this module's own, quoted; the incident's key is a parameter
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {quote(model._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(model._meta.get_field('incident').column)} = %s)"
        for name, model in _KINDS.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), [incident.pk] * len(parts))
        return {row[0] for row in cursor.fetchall()}


def _load(incident: Incident) -> dict:
    """Everything recorded on the incident: one query to see which kinds it has, then one
    query for each of those, however much there is."""
    present = _kinds_recorded(incident)

    def of_kind(name: str, queryset: QuerySet, *order: str) -> list:
        return _in_order(queryset.order_by(), *order) if name in present else []

    people = Involvement.objects.select_related(
        "learner__form_class", "staff", "visitor", "added_by"
    ).annotate(added_at=_added_at(Involvement))
    # read once here; lado_overdue uses them without asking again
    prefetch_related_objects(
        [incident],
        Prefetch("people", queryset=people.order_by() if "people" in present else people.none()),
        Prefetch("referrals", queryset=Referral.objects.select_related("made_by").order_by()),
    )
    debrief = None
    if "debrief" in present:
        found = (
            Debrief.objects.filter(incident=incident)
            .select_related("recorded_by")
            .prefetch_related("attendees")
            .annotate(recorded_at=_added_at(Debrief))
            .order_by()
        )
        debrief = next(iter(found), None)
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
    searches = incident.searches.select_related(
        "learner", "led_by", "second_staff", "consent_parent", "confiscation__category"
    ).select_related("confiscation__taken_by")
    return {
        "incident": incident,
        "people": _in_order(incident.people.all(), "part", "pk"),
        "referrals": _in_order(incident.referrals.all(), "made_at", "pk"),
        "notes": of_kind("notes", incident.notes.select_related("written_by"), "written_at", "pk"),
        "searches": of_kind("searches", searches, "searched_at", "pk"),
        "contacts": of_kind(
            "parent_contacts",
            incident.parent_contacts.select_related("parent", "told_by"),
            "told_at",
            "pk",
        ),
        "debrief": debrief,
        "actions": actions,
        "attachments": of_kind(
            "attachments",
            incident.attachments.select_related("uploaded_by", "removed_by"),
            "uploaded_at",
            "pk",
        ),
        "history": _in_order(
            incident.history.select_related("history_user", *HISTORY_RELATED).order_by(),
            "history_date",
            "history_id",
        ),
        "policies": list(incident.policies.all()) if "policies" in present else [],
    }


def _offered(user, incident: Incident, people: list[Involvement], has_debrief: bool) -> list:
    return _step_keys(
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
    context = {
        "incident": incident,
        "status_tone": STATUS_TONE[incident.status],
        # the never-view, never-copy instruction, as the reporter saw it when reporting
        "guidance": no_files_guidance(incident.category),
        "policy_rule": POLICY_RULES["confidentiality"],
        "may_queue": may_triage_queue(user),
        "notes": records["notes"],
        "people": records["people"],
        "policies": records["policies"],
        "timeline": _timeline(records),
        "attachments": records["attachments"],
        "may_remove_files": has_role(user, Role.DSL),
        "remove_forms": {
            a.pk: bound.get(f"remove_{a.pk}") or AttachmentRemoveForm(prefix=f"remove-{a.pk}")
            for a in records["attachments"]
            if a.removed_at is None
        },
        "lado_due": services.lado_referral_due(incident),
        "lado_made": lado_made[0] if lado_made else None,
        "lado_overdue": services.lado_overdue(incident),
        "blockers": services.close_blockers(
            incident,
            searches=records["searches"],
            told=bool(records["contacts"]),
            has_debrief=records["debrief"] is not None,
        )
        if open_now
        else None,
        "search_url": _url("incidents:search_add", incident.pk)
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
        context.update(_access_log(incident, records["searches"]))
    return render(request, "incidents/incident_detail.html", context)


def _access_log(incident: Incident, searches: list[Search]) -> dict:
    """Who opened this incident and its searches, newest first (the DSL only)."""
    incident_type = ContentType.objects.get_for_model(Incident)
    search_type = ContentType.objects.get_for_model(Search)
    entries = list(
        RecordAccess.objects.filter(
            Q(content_type=incident_type, object_id=str(incident.pk))
            | Q(content_type=search_type, object_id__in=[str(s.pk) for s in searches])
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
    path(
        "<int:pk>/files/<int:attachment_pk>/remove/",
        incident_attachment_remove,
        name="incident_attachment_remove",
    ),
]


def register_panels() -> None:
    """Dashboard panels of this area (called from IncidentsConfig.ready); the triage queue's
    panels are registered by `incidents.views.queue`."""
