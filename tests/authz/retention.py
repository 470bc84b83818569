"""Retention: the DSL's page of what is due, legal holds and disposals (DSL and deputies).

The actions are POST-only; who may take which action, and the refusals, are shown in
tests/test_retention.py.
"""

from django.contrib.contenttypes.models import ContentType

from compliance.models import DisposalRecord, LegalHold
from compliance.retention import describe_visit
from tests.authz import DSL_DEPUTIES, POST_ONLY

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:retention_review": DSL_DEPUTIES,
    "compliance:retention_disposals": DSL_DEPUTIES,
    "compliance:retention_disposal_request": POST_ONLY,
    "compliance:retention_disposal_decide": POST_ONLY,
    "compliance:retention_hold_place": POST_ONLY,
    "compliance:retention_hold_lift": POST_ONLY,
}


def _generic(record) -> dict:
    return {
        "content_type": ContentType.objects.get_for_model(record),
        "object_id": str(record.pk),
    }


def url_kwargs(name: str, objects: dict) -> dict | None:
    visit = objects["visit"]
    by = objects["staff"].user
    if name == "compliance:retention_disposal_decide":
        disposal = DisposalRecord.objects.create(
            **_generic(visit),
            reference=describe_visit(visit),
            rule="visitor_log",
            due=visit.arrived.date(),
            requested_by=by,
        )
        return {"pk": disposal.pk}
    if name == "compliance:retention_hold_lift":
        hold = LegalHold.objects.create(**_generic(visit), reason="Police request", placed_by=by)
        return {"pk": hold.pk}
    return None
