"""Exemptions, agreements and signatures (sections 5, 6 and 7).

The records here are a learner's exemption that the teacher asked for, so the teacher may
see it; the office sees visitors' exemptions and those it raised, not this one (404, its
existence not disclosed); governors see no exemptions (403). Agreements and scans follow
their exemption, except that the office opens an agreement still awaiting signatures
(parents sign at the desk), without its exemption. The fingerprint check is for the office
and the senior team. The actions are POST-only; who may take which, and why a step is
refused, are in tests/test_exemptions.py and tests/test_exemption_views.py.
"""

from compliance.roles import Role
from devices import services
from devices.models import Exemption
from tests import factories
from tests.authz import POST_ONLY, SENIOR_OFFICE, WITH_TEACHERS
from tests.factories_devices_exemptions import exemption_in, scan_pdf

#                anon outsider gov  staff office deputy head  dsl
TEACHER_RAISED = (302, 403, 403, 200, 404, 200, 200, 200)
# an agreement awaiting signatures: the office opens it to capture them at the desk
AWAITING_SIGNATURES = (302, 403, 403, 200, 200, 200, 200, 200)

MATRIX: dict[str, tuple[int, ...]] = {
    "devices:exemption_list": WITH_TEACHERS,
    "devices:exemption_request": WITH_TEACHERS,
    "devices:exemption_detail": TEACHER_RAISED,
    "devices:exemption_decide": POST_ONLY,
    "devices:exemption_ask_risk_assessment": POST_ONLY,
    "devices:exemption_risk_assessment": POST_ONLY,
    "devices:agreement_issue": POST_ONLY,
    "devices:exemption_revoke": POST_ONLY,
    "devices:agreement_detail": AWAITING_SIGNATURES,
    "devices:agreement_pdf": AWAITING_SIGNATURES,
    "devices:signature_record": POST_ONLY,
    "devices:signature_scan": AWAITING_SIGNATURES,
    "devices:agreement_verify": SENIOR_OFFICE,
}


def _head():
    return factories.UserFactory(username="authz-head", roles=[Role.HEADTEACHER])


def url_kwargs(name: str, objects: dict) -> dict | None:
    if name in ("devices:exemption_list", "devices:exemption_request", "devices:agreement_verify"):
        return {}
    if name not in MATRIX:
        return None
    teacher = objects["staff"].user
    if name in ("devices:agreement_detail", "devices:agreement_pdf", "devices:signature_record"):
        exemption = exemption_in(
            Exemption.Status.AGREEMENT_ISSUED,
            learner=objects["learner"],
            requester=teacher,
            head=_head(),
        )
        return {"pk": exemption.agreements.get().pk}
    if name == "devices:signature_scan":
        head = _head()
        exemption = exemption_in(
            Exemption.Status.AGREEMENT_ISSUED,
            learner=objects["learner"],
            requester=teacher,
            head=head,
        )
        signature = services.signature_record(
            agreement=exemption.agreements.get(),
            capacity="learner",
            signer_name=objects["learner"].full_name,
            method="paper",
            paper_scan=scan_pdf(),
            by=head,
        )
        return {"pk": signature.pk}
    exemption = exemption_in(
        Exemption.Status.REQUESTED, learner=objects["learner"], requester=teacher, head=_head()
    )
    return {"pk": exemption.pk}
