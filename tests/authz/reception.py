"""Reception (sections 6 and 7): the office desk, visits with their device agreements, the
visitor log export and calls home.

The desk (find, add, sign in, record an agreement, export) is for the office, the DSL
team and the headteacher. Any member of staff sees who is on site and a visit of today,
to challenge a visitor and report a concern; staff log calls home for their own classes
and see the calls they logged (someone else logged the one here, so a teacher gets 404).
"""

from django.utils import timezone

from devices.models import CallHome
from tests import factories
from tests.authz import POST_ONLY, SENIOR_OFFICE, WITH_TEACHERS

#                 anon outsider gov  staff office deputy head  dsl
NOT_THEIRS = (302, 403, 403, 404, 200, 200, 200, 200)

MATRIX: dict[str, tuple[int, ...]] = {
    "devices:reception": SENIOR_OFFICE,
    "devices:reception_visitor_add": SENIOR_OFFICE,
    "devices:reception_sign_in": SENIOR_OFFICE,
    "devices:reception_on_site": WITH_TEACHERS,
    "devices:reception_export": SENIOR_OFFICE,
    "devices:reception_visit": WITH_TEACHERS,
    "devices:reception_agreement": SENIOR_OFFICE,
    "devices:reception_sign_out": POST_ONLY,
    "devices:call_list": WITH_TEACHERS,
    "devices:call_add": WITH_TEACHERS,
    "devices:call_detail": NOT_THEIRS,
}

VISIT_PAGES = {
    "devices:reception_visit",
    "devices:reception_agreement",
    "devices:reception_sign_out",
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in VISIT_PAGES:
        return {"pk": objects["visit"].pk}
    if name == "devices:reception_sign_in":
        return {"pk": objects["visitor"].pk}
    if name == "devices:call_detail":
        parent = objects["parent"]
        call = CallHome.objects.create(
            learner=objects["learner"],
            direction=CallHome.Direction.TO_HOME,
            caller=objects["staff"],
            contact=parent,
            reason="Feeling unwell",
            outcome=CallHome.Outcome.SPOKE,
            called_at=timezone.now(),
            recorded_by=factories.UserFactory(username="call-recorder"),
        )
        return {"pk": call.pk}
    return None
