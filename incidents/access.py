"""Who may see which incident: confidentiality (section 9).

The DSL and deputies see every incident; the headteacher those involving staff; anyone
else only the reports they made. Governors and the office see no incident detail beyond
their own reports (the office may report).

Low-level concerns about staff (KCSIE) are a separate log that the DSL and the
headteacher alone read: not the deputies (unless they also hold one of those roles), and
never a concern about themselves. Anyone who may report raises one, and sees only that it
was received.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from compliance.access import has_role
from compliance.roles import Role
from incidents.models import Category, Incident, Involvement, LowLevelConcern, Search
from incidents.services import REPORTERS


def may_report(user) -> bool:
    return has_role(user, *REPORTERS)


def may_triage_queue(user) -> bool:
    """The triage queue: the DSL and deputies; the headteacher sees staff matters there."""
    return has_role(user, Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER)


def staff_matters() -> Q:
    staff_involved = Involvement.objects.filter(incident=OuterRef("pk"), staff__isnull=False)
    return (
        Q(staff_allegation=True)
        | Q(category=Category.STAFF_PERSONAL_CONTACT)
        | Q(Exists(staff_involved))
    )


def visitor_matters() -> Q:
    """A visitor's use of a device: reported to the DSL or the headteacher (section 7)."""
    visitor_involved = Involvement.objects.filter(incident=OuterRef("pk"), visitor__isnull=False)
    return Q(category=Category.VISITOR_MISUSE) | Q(Exists(visitor_involved))


def headteacher_matters() -> Q:
    """What the headteacher sees and handles: matters involving staff and visitors."""
    return staff_matters() | visitor_matters()


def incidents_for(user) -> QuerySet:
    if has_role(user, Role.DSL, Role.DEPUTY_DSL):
        return Incident.objects.all()
    if has_role(user, Role.HEADTEACHER):
        return Incident.objects.filter(headteacher_matters() | Q(reported_by=user))
    if has_role(user, *REPORTERS):
        return Incident.objects.filter(reported_by=user)
    raise PermissionDenied("Your role does not see incidents.")


def get_incident(user, pk) -> Incident:
    try:
        return incidents_for(user).select_related("location", "reported_by", "assignee").get(pk=pk)
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise Http404("No such incident.") from None


def searches_for(user) -> QuerySet:
    """Searches are seen by those who handle the incident (not by its reporter)."""
    if has_role(user, Role.DSL, Role.DEPUTY_DSL):
        return Search.objects.all()
    if has_role(user, Role.HEADTEACHER):
        return Search.objects.filter(incident__in=incidents_for(user).filter(headteacher_matters()))
    raise PermissionDenied("Searches are seen by the DSL team and the headteacher.")


def get_search(user, pk) -> Search:
    try:
        return searches_for(user).select_related("incident", "learner", "led_by").get(pk=pk)
    except (Search.DoesNotExist, ValueError, TypeError):
        raise Http404("No such search.") from None


def may_see_chronology(user) -> bool:
    """A learner's chronology: the DSL and deputies."""
    return has_role(user, Role.DSL, Role.DEPUTY_DSL)


# Low-level concerns about staff ------------------------------------------------------------

CONCERN_READERS = (Role.DSL, Role.HEADTEACHER)


def may_raise_concern(user) -> bool:
    """Any member of staff raises a low-level concern (the roles that report incidents)."""
    return has_role(user, *REPORTERS)


def may_read_concerns(user) -> bool:
    """The log is for the DSL and the headteacher alone (KCSIE): a deputy DSL is refused."""
    return has_role(user, *CONCERN_READERS)


def concerns_for(user) -> QuerySet:
    """The log this user reads: every concern except those about themselves (a concern
    about the DSL is the headteacher's to read, and the other way round)."""
    if not may_read_concerns(user):
        raise PermissionDenied("Low-level concerns are read by the DSL and the headteacher only.")
    return LowLevelConcern.objects.exclude(staff__user=user)


def get_concern(user, pk) -> LowLevelConcern:
    try:
        return (
            concerns_for(user)
            .select_related(
                "staff",
                "location",
                "raised_by",
                "incident",
                "escalated_by",
                "response_recorded_by",
                "outcome_recorded_by",
            )
            .get(pk=pk)
        )
    except (LowLevelConcern.DoesNotExist, ValueError, TypeError):
        raise Http404("No such concern.") from None


def get_raised_concern(user, pk) -> LowLevelConcern:
    """A concern this user raised, for its receipt; 404 for any other (even for the DSL:
    the log is read on its own page)."""
    if not may_raise_concern(user):
        raise PermissionDenied("Your role does not raise concerns here: tell the DSL.")
    try:
        return LowLevelConcern.objects.get(pk=pk, raised_by=user)
    except (LowLevelConcern.DoesNotExist, ValueError, TypeError):
        raise Http404("No such concern of yours.") from None
