"""What the incident records hold on a person, for a subject access export.

Registered with `compliance.subject_access` by `register()` (from IncidentsConfig.ready):
compliance gathers these sections without importing incidents (DESIGN: layers).

An account or a note is about everyone it mentions: it is exported whole, and the README
of every export tells the DSL to redact what is about other people before disclosure.
"""

from __future__ import annotations

from django.db.models import Model

from compliance.models import Learner, ParentCarer, StaffMember, Visitor
from compliance.subject_access import PersonKind, SubjectSection, register_section
from incidents.models import Incident, Involvement, Note, ParentContact, Search

_INVOLVED = frozenset({PersonKind.LEARNER, PersonKind.STAFF, PersonKind.VISITOR})
_PERSON_FIELD: dict[type[Model], str] = {
    Learner: "learner",
    StaffMember: "staff",
    Visitor: "visitor",
}


def _involvements(person: Model):
    return (
        Involvement.objects.filter(**{_PERSON_FIELD[type(person)]: person})
        .select_related("incident", "incident__location")
        .order_by("incident__occurred_at", "incident_id", "pk")
    )


def _incident_rows(person: Model):
    rows = [
        (
            row.incident.reference,
            row.incident.get_category_display(),
            row.incident.occurred_at,
            row.incident.location.name,
            row.incident.reported_at,
            row.get_part_display(),
            row.incident.get_status_display(),
            row.incident.closed_at,
            row.incident.account,
        )
        for row in _involvements(person)
    ]
    headers = (
        "Reference",
        "Category",
        "When it happened",
        "Where",
        "Reported",
        "Their part",
        "Status",
        "Closed",
        "Account as reported (may name others: redact before disclosure)",
    )
    return headers, rows


def _note_rows(person: Model):
    field = _PERSON_FIELD[type(person)]
    incidents = Incident.objects.filter(**{f"people__{field}": person}).values("pk")
    notes = (
        Note.objects.filter(incident__in=incidents)
        .select_related("incident")
        .order_by("incident__occurred_at", "incident_id", "written_at", "pk")
    )
    rows = [(note.incident.reference, note.written_at, note.text) for note in notes]
    return ("Incident", "Written", "Note (may name others: redact before disclosure)"), rows


def _search_rows(learner: Learner):
    searches = (
        Search.objects.filter(learner=learner)
        .select_related("incident", "led_by", "second_staff", "consent_parent")
        .order_by("searched_at", "pk")
    )
    rows = [
        (
            search.incident.reference,
            search.searched_at,
            search.place,
            search.device,
            search.led_by,
            search.second_staff.full_name if search.second_staff else "",
            search.no_second_reason,
            search.grounds,
            search.sought,
            search.consent_parent.full_name
            if search.consent_parent
            else search.get_consent_by_display(),
            search.consent_how,
            "Nothing was found" if search.found_nothing else search.found,
            search.get_deletion_display(),
            search.deletion_reason,
            search.get_outcome_display(),
            search.parents_told_at,
        )
        for search in searches
    ]
    headers = (
        "Incident",
        "When",
        "Where",
        "Device",
        "Led by",
        "Second member of staff",
        "Why no second member of staff",
        "Grounds",
        "What was looked for",
        "Consent given by",
        "How consent was given",
        "What was found",
        "Content deleted",
        "Why",
        "The device afterwards",
        "Parents told",
    )
    return headers, rows


def _parent_consent_rows(parent: ParentCarer):
    searches = (
        Search.objects.filter(consent_parent=parent)
        .select_related("incident", "learner")
        .order_by("searched_at", "pk")
    )
    rows = [
        (s.incident.reference, s.searched_at, s.learner.full_name, s.consent_how) for s in searches
    ]
    return ("Incident", "Search", "Of the device of", "How consent was given"), rows


def _parent_contact_rows(parent: ParentCarer):
    contacts = (
        ParentContact.objects.filter(parent=parent)
        .select_related("incident", "told_by")
        .order_by("told_at", "pk")
    )
    rows = [
        (c.incident.reference, c.told_at, c.get_how_display(), c.told_by, c.summary)
        for c in contacts
    ]
    return ("Incident", "When", "How", "Told by", "What they were told"), rows


SECTIONS = (
    SubjectSection(
        "incidents",
        "Incidents they were involved in",
        _INVOLVED,
        _incident_rows,
        order=50,
    ),
    SubjectSection(
        "incident-notes",
        "Notes added to those incidents",
        _INVOLVED,
        _note_rows,
        order=51,
    ),
    SubjectSection(
        "device-searches",
        "Searches of their devices",
        {PersonKind.LEARNER},
        _search_rows,
        order=52,
    ),
    SubjectSection(
        "search-consents",
        "Searches they consented to",
        {PersonKind.PARENT},
        _parent_consent_rows,
        order=50,
    ),
    SubjectSection(
        "incident-contacts",
        "Times they were told of an incident",
        {PersonKind.PARENT},
        _parent_contact_rows,
        order=51,
    ),
)


def register() -> None:
    """Add the incidents' sections to the export (from IncidentsConfig.ready)."""
    for section in SECTIONS:
        register_section(section)
