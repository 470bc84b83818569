"""Incidents' records with a history page (compliance renders it, with field differences)."""

from django.core.exceptions import PermissionDenied

from compliance.history import register_history_kind
from incidents import access
from incidents.models import Incident, LowLevelConcern, Search
from incidents.services import may_handle


def _incident(user, pk) -> Incident:
    incident = access.get_incident(user, pk)
    if not may_handle(user, incident):
        raise PermissionDenied("The history of an incident is for the DSL team.")
    return incident


def register() -> None:
    register_history_kind("incident", Incident, _incident)
    register_history_kind("search", Search, access.get_search)
    # the DSL and the headteacher alone, as the concern's own page
    register_history_kind("low_level_concern", LowLevelConcern, access.get_concern)
