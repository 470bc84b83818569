"""Reporting a concern or breach, and the reporter's own reports (section 9).

Every role that reports opens the form and their list; governors and logins without a role
are refused. A report is seen here by the one who made it (the teacher, below) and by no one
else: the DSL team opens it on the incident's own page. The reporter's steps are POST-only;
the refusals are in tests/test_incident_report.py.
"""

from django.utils import timezone

from incidents import services
from tests import factories
from tests.authz import POST_ONLY, WITH_TEACHERS

#              anon outsider gov  staff office deputy head  dsl
REPORTER_ONLY = (302, 403, 403, 200, 404, 404, 404, 404)

MATRIX: dict[str, tuple[int, ...]] = {
    "incidents:report": WITH_TEACHERS,
    "incidents:my_reports": WITH_TEACHERS,
    "incidents:my_report_detail": REPORTER_ONLY,
    "incidents:report_sent": REPORTER_ONLY,
    "incidents:report_amend": POST_ONLY,
    "incidents:report_note": POST_ONLY,
    "incidents:report_person": POST_ONLY,
    "incidents:report_attachment": POST_ONLY,
}

_NEEDS_A_REPORT = set(MATRIX) - {"incidents:report", "incidents:my_reports"}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in _NEEDS_A_REPORT:
        incident = services.incident_report(
            occurred_at=timezone.now(),
            location=factories.LocationFactory(),
            category="restricted_area",
            account="A phone was used in the classroom during the lesson.",
            people=[services.Person(part="subject", learner=objects["learner"])],
            by=objects["staff"].user,
        )
        return {"pk": incident.pk}
    return None
