"""Low-level concerns about staff (KCSIE; issue 9): the log is the DSL's and the
headteacher's alone (a deputy DSL, the office, governors and staff get 403); any member of
staff raises one and sees only its receipt (the teacher, below, who raised it; anyone else
404). The steps are POST-only; their refusals are in tests/test_low_level_concerns.py.
"""

from django.utils import timezone

from incidents import concerns
from tests import factories
from tests.authz import DSL_HEAD, POST_ONLY, WITH_TEACHERS

#              anon outsider gov  staff office deputy head  dsl
RAISER_ONLY = (302, 403, 403, 200, 404, 404, 404, 404)

MATRIX: dict[str, tuple[int, ...]] = {
    "incidents:concern_raise": WITH_TEACHERS,
    "incidents:concern_received": RAISER_ONLY,
    "incidents:concern_list": DSL_HEAD,
    "incidents:concern_pattern": DSL_HEAD,
    "incidents:concern_detail": DSL_HEAD,
    "incidents:concern_response": POST_ONLY,
    "incidents:concern_outcome": POST_ONLY,
    "incidents:concern_escalate": POST_ONLY,
}

_NEEDS_A_CONCERN = set(MATRIX) - {
    "incidents:concern_raise",
    "incidents:concern_list",
    "incidents:concern_pattern",
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in _NEEDS_A_CONCERN:
        concern = concerns.concern_raise(
            staff=factories.StaffMemberFactory(),
            occurred_at=timezone.now(),
            location=factories.LocationFactory(),
            account="Photographed pupils on a personal phone in the classroom.",
            by=objects["staff"].user,
        )
        return {"pk": concern.pk}
    return None
