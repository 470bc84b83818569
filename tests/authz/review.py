"""The policy record, reviews and sign-off, action plan, training, monitoring, procedures and
the governors' reports.

Governors reach the reports, the policy and its reviews (and sign-off, POST-only); the
action plan, training and monitoring are for the DSL, deputies and the headteacher; reviews
are recorded by the DSL or the headteacher; the summary of lessons learnt by the DSL. The
POST actions and their refusals are in tests/test_review.py.
"""

import datetime

from django.utils import timezone

from compliance.models import (
    ActionPlanItem,
    LinkedPolicy,
    MonitoringCheck,
    PolicyReview,
    PolicyVersion,
    TrainingSession,
)
from tests.authz import ANY_ROLE, DSL_DEPUTIES, DSL_HEAD, DSL_ONLY, POST_ONLY

#                 anon outsider gov  staff office deputy head  dsl
READERS = (302, 403, 200, 403, 403, 200, 200, 200)

MATRIX: dict[str, tuple[int, ...]] = {
    "compliance:policy_detail": ANY_ROLE,
    "compliance:policy_acknowledgements": DSL_DEPUTIES,
    "compliance:procedures": ANY_ROLE,
    "compliance:review_add": DSL_HEAD,
    "compliance:review_detail": READERS,
    "compliance:review_sign_off": POST_ONLY,
    "compliance:actions_list": DSL_DEPUTIES,
    "compliance:actions_add": DSL_DEPUTIES,
    "compliance:actions_close": POST_ONLY,
    "compliance:actions_edit": DSL_DEPUTIES,
    "compliance:policy_read": ANY_ROLE,
    "compliance:linked_policy_edit": DSL_DEPUTIES,
    "compliance:training_edit": DSL_DEPUTIES,
    "compliance:monitoring_edit": DSL_DEPUTIES,
    "compliance:training_list": DSL_DEPUTIES,
    "compliance:training_add": DSL_DEPUTIES,
    "compliance:monitoring_list": DSL_DEPUTIES,
    "compliance:monitoring_add": DSL_DEPUTIES,
    "compliance:report_list": READERS,
    "compliance:report_detail": READERS,
    "compliance:report_pdf": READERS,
    "compliance:report_csv": READERS,
    "compliance:report_summary": DSL_ONLY,
}


def url_kwargs(name: str, objects: dict) -> dict | None:
    by = objects["staff"].user
    if name in ("compliance:review_detail", "compliance:review_sign_off"):
        today = timezone.localdate()
        version = PolicyVersion.objects.create(
            number=f"authz-{PolicyVersion.objects.count()}",
            date_written=today,
            next_review=today + datetime.timedelta(days=365),
        )
        review = PolicyReview.objects.create(
            trigger="annual",
            changes="None",
            new_version=version,
            reviewed_by=by,
            next_review=version.next_review,
        )
        return {"pk": review.pk}
    if name == "compliance:linked_policy_edit":
        return {"pk": LinkedPolicy.objects.order_by("pk").first().pk}
    if name == "compliance:training_edit":
        session = TrainingSession.objects.create(
            held_on=timezone.localdate(), topic="Policy briefing", recorded_by=by
        )
        return {"pk": session.pk}
    if name == "compliance:monitoring_edit":
        check = MonitoringCheck.objects.create(
            checked_on=timezone.localdate(),
            what_checked="Filtering",
            findings="None",
            checked_by=by,
        )
        return {"pk": check.pk}
    if name in ("compliance:actions_close", "compliance:actions_edit"):
        action = ActionPlanItem.objects.create(
            source="review",
            description="Update the poster.",
            owner=objects["staff"],
            due=timezone.localdate(),
            created_by=by,
        )
        return {"pk": action.pk}
    if name.startswith("compliance:report_") and name != "compliance:report_list":
        return {"year": timezone.localdate().year - 1}
    return None
