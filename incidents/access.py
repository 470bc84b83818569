"""Who may see which incident: confidentiality (section 9).

The DSL and deputies see every incident; the headteacher those involving staff; anyone
else only the reports they made. Governors and the office see no incident detail beyond
their own reports (the office may report).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from compliance.access import has_role
from compliance.roles import Role
from incidents.models import Category, Incident, Involvement, Search
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
