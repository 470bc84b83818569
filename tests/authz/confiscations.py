"""Confiscation and custody (section 6).

Any member of staff records a confiscation and sees the ones they took (the teacher here
took this one); the office, the DSL team and the headteacher see all. The custody actions
are POST-only; who may take which, and the refusals, are in tests/test_confiscations.py.
"""

from devices import services
from tests import factories
from tests.authz import POST_ONLY, WITH_TEACHERS

MATRIX: dict[str, tuple[int, ...]] = {
    "devices:confiscation_list": WITH_TEACHERS,
    "devices:confiscation_add": WITH_TEACHERS,
    "devices:confiscation_detail": WITH_TEACHERS,
    "devices:confiscation_move": POST_ONLY,
    "devices:confiscation_return": POST_ONLY,
    "devices:confiscation_police": POST_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in MATRIX and name not in {"devices:confiscation_list", "devices:confiscation_add"}:
        teacher = objects["staff"]
        confiscation = services.confiscation_record(
            learner=objects["learner"],
            category=factories.DeviceCategoryFactory(),
            description="Black phone in a red case",
            reason="Used in the classroom",
            stored_where="Office safe",
            taken_by=teacher,
            by=teacher.user,
        )
        return {"pk": confiscation.pk}
    return None
