"""An incident's timeline: everything that has happened to it, oldest first, as a court
would read it (the incident page, policy section 9). Built from what `incidents.views.incident`
has read: the incident's history rows, people, referrals, notes, searches, parents told, the
debrief and its actions, and files.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from compliance.history import history_entries
from compliance.listing import day_and_time, iso_moment
from compliance.models import ActionPlanItem
from incidents.forms_dsl import user_label
from incidents.models import Debrief, Incident, Referral, Search

Status = Incident.Status


def url_or_blank(name: str, *args) -> str:
    """The URL, or "" while the page it names is not there (searches are built elsewhere)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


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

    # written here, not by the `date` filter: a long timeline writes each moment twice
    @property
    def when_text(self) -> str:
        return day_and_time(self.when)

    @property
    def when_iso(self) -> str:
        return iso_moment(self.when)


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
            link=url_or_blank("incidents:search_detail", search.pk),
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


def timeline(records: dict) -> list[Event]:
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
