"""Searches of learners' devices and a learner's chronology (section 6; KCSIE).

Searches are seen and recorded by the DSL team (and the headteacher on staff matters: the
`headteacher` here is also a deputy DSL); the chronology is for the DSL and deputies only.
Telling parents is POST-only; the refusals are in tests/test_searches.py.
"""

from django.utils import timezone

from incidents import services
from incidents.models import Involvement
from tests import factories
from tests.authz import DSL_DEPUTIES, POST_ONLY

MATRIX: dict[str, tuple[int, ...]] = {
    "incidents:search_list": DSL_DEPUTIES,
    "incidents:search_add": DSL_DEPUTIES,
    "incidents:search_detail": DSL_DEPUTIES,
    "incidents:search_parents_told": POST_ONLY,
    "incidents:chronology": DSL_DEPUTIES,
}


def _lead():
    lead = factories.UserFactory(username="authz-search-lead", roles=["dsl"])
    if not hasattr(lead, "staff_member"):
        factories.StaffMemberFactory(user=lead)
    return lead


def _incident(objects: dict):
    """A triaged incident with the community's learner involved."""
    lead = _lead()
    incident = services.incident_report(
        occurred_at=timezone.now(),
        location=factories.LocationFactory(),
        category="restricted_area",
        account="A phone was used in the classroom.",
        people=[services.Person(part=Involvement.Part.SUBJECT, learner=objects["learner"])],
        by=objects["staff"].user,
    )
    return services.incident_triage(incident=incident, by=lead), lead


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name == "incidents:search_add":
        incident, _ = _incident(objects)
        return {"incident_pk": incident.pk}
    if name in {"incidents:search_detail", "incidents:search_parents_told"}:
        incident, lead = _incident(objects)
        search = services.search_record(
            incident=incident,
            learner=objects["learner"],
            device="Black phone in a red case",
            searched_at=timezone.now(),
            place="DSL's office",
            led_by=lead,
            no_second_reason="Nobody else was free",
            grounds="Seen filming in the classroom",
            sought="Photos of pupils",
            consent_by="learner",
            consent_how="Said yes in the DSL's office",
            outcome="returned",
            by=lead,
        )
        return {"pk": search.pk}
    if name == "incidents:chronology":
        return {"learner_pk": objects["learner"].pk}
    return None
