"""Filtering and monitoring (KCSIE 2023, the DfE's standards) and who was told of each policy
version.

The DSL, deputies and the headteacher open every page; governors see the annual review only
as counts in their report (tests/test_filtering.py); staff and the office nothing. Reviewing
an alert is the DSL's or a deputy's: the headteacher of these fixtures is also a deputy, so a
headteacher with no other role is tested in tests/test_filtering.py.
"""

import datetime

from django.utils import timezone

from compliance.models import FilterDecision, FilteringReview, MonitoringAlert, PolicyVersion
from tests.authz import DSL_DEPUTIES

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:filtering": DSL_DEPUTIES,
    "compliance:filtering_review_list": DSL_DEPUTIES,
    "compliance:filtering_review_add": DSL_DEPUTIES,
    "compliance:filtering_review_detail": DSL_DEPUTIES,
    "compliance:filter_decision_list": DSL_DEPUTIES,
    "compliance:filter_decision_add": DSL_DEPUTIES,
    "compliance:filter_decision_detail": DSL_DEPUTIES,
    "compliance:alert_list": DSL_DEPUTIES,
    "compliance:alert_add": DSL_DEPUTIES,
    "compliance:alert_detail": DSL_DEPUTIES,
    "compliance:alert_review": DSL_DEPUTIES,
    "compliance:policy_communication_add": DSL_DEPUTIES,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    by = objects["staff"].user
    today = timezone.localdate()
    if name == "compliance:filtering_review_detail":
        review = FilteringReview.objects.create(
            reviewed_on=today,
            what_tested="Test sites",
            findings="All blocked",
            next_review=today + datetime.timedelta(days=365),
            recorded_by=by,
        )
        review.participants.set([objects["staff"]])
        return {"pk": review.pk}
    if name == "compliance:filter_decision_detail":
        decision = FilterDecision.objects.create(
            target="site",
            what="https://example.invalid",
            action="block",
            reason="Not suitable",
            decided_by=objects["staff"],
            decided_on=today,
            recorded_by=by,
        )
        return {"pk": decision.pk}
    if name in ("compliance:alert_detail", "compliance:alert_review"):
        alert = MonitoringAlert.objects.create(
            raised_at=timezone.now(),
            system="Monitor",
            kind="bullying",
            subject="learner",
            learner=objects["learner"],
            summary="Abusive words typed",
            recorded_by=by,
        )
        return {"pk": alert.pk}
    if name == "compliance:policy_communication_add":
        version = PolicyVersion.objects.create(
            number=f"told-{PolicyVersion.objects.count()}",
            date_written=today,
            next_review=today + datetime.timedelta(days=365),
        )
        return {"pk": version.pk}
    return None
