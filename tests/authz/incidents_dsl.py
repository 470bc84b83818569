"""The DSL's triage queue and the incident page (section 9).

The queue is for the DSL and deputies (the headteacher too, for matters involving staff;
the `headteacher` here is also a deputy). The incident below was reported by the teacher:
the DSL team opens it here; the teacher, who reported it, is sent to their own report's
page; the office, who may report but did not report this, gets 404; governors and logins
without a role, 403. A step's URL takes the step by POST; a GET fetches its form (htmx,
when the step is opened on the page) or, without script, goes back to the page with the
step open (302), for those who handle the incident only; the same goes for the part
that shows who has opened it, for the DSL alone. Who may take which step, and the
refusals, are in tests/test_incident_workflow.py and tests/test_incident_pages.py.
"""

from django.utils import timezone

from incidents import services
from tests import factories
from tests.authz import DSL_DEPUTIES, POST_ONLY

#                anon outsider gov  staff office deputy head  dsl
INCIDENT_PAGE = (302, 403, 403, 302, 404, 200, 200, 200)
# the reporter (staff) does not handle it: 403
STEP_FORM = (302, 403, 403, 403, 404, 302, 302, 302)
# who has opened it: fetched like a step's form, by the DSL alone
ACCESS_LOG = (302, 403, 403, 403, 404, 403, 403, 302)

_STEPS = [
    "triage",
    "escalate",
    "investigate",
    "ready",
    "debrief",
    "close",
    "referral",
    "parents_told",
    "parents_not_told",
    "conduct",
    "person",
    "note",
]

MATRIX: dict[str, tuple[int, ...]] = {
    "incidents:queue": DSL_DEPUTIES,
    "incidents:incident_detail": INCIDENT_PAGE,
    **{f"incidents:incident_{step}": STEP_FORM for step in _STEPS},
    "incidents:incident_access_log": ACCESS_LOG,
    "incidents:incident_attachment_remove": POST_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name not in MATRIX or name == "incidents:queue":
        return None
    incident = services.incident_report(
        occurred_at=timezone.now(),
        location=factories.LocationFactory(),
        category="unauthorised_recording",
        account="A phone was used to photograph pupils in the classroom.",
        people=[services.Person(part="subject", learner=objects["learner"])],
        by=objects["staff"].user,
    )
    if name == "incidents:incident_attachment_remove":
        # POST-only: a GET is refused before the file is looked for
        return {"pk": incident.pk, "attachment_pk": 1}
    return {"pk": incident.pk}
