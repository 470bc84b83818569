"""The steps a handler takes on an incident (policy sections 5, 6 and 9): each with its
title, the rule it carries out, a small form and the transition in `incidents.services` it
calls; and which steps are offered now. The incident page (`incidents.views.incident`)
shows them and takes them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.forms import Form
from django.utils import timezone

from compliance.access import has_role
from compliance.policy import RULES as POLICY_RULES
from compliance.policy import PolicyRule
from compliance.roles import Role
from incidents import services
from incidents.forms_dsl import (
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
from incidents.models import (
    Incident,
)

Status = Incident.Status
OPEN_STATUSES = (Status.TRIAGED, Status.INVESTIGATING, Status.AWAITING_DEBRIEF)


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


def step_keys(
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
