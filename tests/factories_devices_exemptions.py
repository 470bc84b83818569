"""Exemptions in every state, driven through the transition functions as people would.

`exemption_in(status, ...)` reaches each status the way the school would (request, decide,
issue, sign, revoke, expire), so tests never set a status by hand.
"""

from __future__ import annotations

import base64
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from devices import services
from devices.models import Agreement, Exemption, Signature
from tests import factories

TERMS = {
    "permitted_use": "Reading her blood glucose app and receiving its alerts",
    "where": "Anywhere on the school site, kept in her bag",
    "when": "Throughout the school day",
    "expectations": "The phone stays on silent and is used only for the glucose app.",
    "sanctions": "Misuse: the phone is handed to the class teacher and parents are told.",
}


def signature_png(text: str = "A. Khan") -> str:
    """A small drawn signature as the browser sends it: a PNG data URL."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line(
        [(10, 70), (60, 20), (110, 80), (160, 25), (220, 75), (290, 30)], fill="navy", width=3
    )
    draw.text((20, 82), text, fill="navy")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def scan_pdf(name: str = "signed.pdf", size: int = 0) -> SimpleUploadedFile:
    """A PDF as a scanner makes it (only the magic number matters to the checks)."""
    body = b"%PDF-1.4\n% a signed paper agreement\n"
    if size > len(body):
        body += b"0" * (size - len(body))
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def request_for_learner(*, learner, by, category=None, **overrides) -> Exemption:
    today = timezone.localdate()
    values = {
        "kind": Exemption.Kind.LEARNER_EXCEPTIONAL,
        "subject": learner,
        "category": category or factories.DeviceCategoryFactory(),
        "reason_kind": Exemption.ReasonKind.MEDICAL_PLAN,
        "reason": "Type 1 diabetes: her glucose monitor alerts through an app on her phone.",
        "starts": today,
        "ends": today + datetime.timedelta(days=90),
        "by": by,
    }
    values.update(overrides)
    # half-way through, unless the test says otherwise (or the exemption is shorter)
    values.setdefault(
        "review_on", min(values["starts"] + datetime.timedelta(days=45), values["ends"])
    )
    return services.exemption_request(**values)


def approve(exemption: Exemption, head) -> Exemption:
    return services.exemption_decide(
        exemption=exemption, approve=True, reasons="Medical need, advised by the nurse.", by=head
    )


def issue(exemption: Exemption, head, **terms) -> Agreement:
    return services.agreement_issue(exemption=exemption, by=head, **{**TERMS, **terms})


def sign_all(agreement: Agreement, *, head, recorder=None) -> Agreement:
    """Every required signature, drawn on screen; the headteacher's by the headteacher."""
    recorder = recorder or head
    exemption = agreement.exemption
    for capacity in services.required_capacities(agreement):
        parent = None
        if capacity == Signature.Capacity.PARENT_CARER:
            parent = exemption.learner.parents_carers.first()
            name = parent.full_name
        elif capacity == Signature.Capacity.HEADTEACHER:
            name = head.get_full_name()
        elif exemption is not None:
            name = exemption.subject.full_name
        else:
            name = "A. Visitor"
        services.signature_record(
            agreement=agreement,
            capacity=capacity,
            signer_name=name,
            method=Signature.Method.DRAWN,
            drawn_png=signature_png(name),
            parent=parent,
            by=head if capacity == Signature.Capacity.HEADTEACHER else recorder,
        )
    agreement.refresh_from_db()
    return agreement


def exemption_in(status: str, *, learner, requester, head) -> Exemption:
    """A learner's exemption in `status`, reached through the transitions."""
    exemption = request_for_learner(learner=learner, by=requester)
    if status == Exemption.Status.REQUESTED:
        return exemption
    if status == Exemption.Status.REFUSED:
        return services.exemption_decide(
            exemption=exemption, approve=False, reasons="Not needed in school.", by=head
        )
    approve(exemption, head)
    if status == Exemption.Status.REVOKED:
        return services.exemption_revoke(exemption=exemption, reason="No longer needed.", by=head)
    if status == Exemption.Status.APPROVED:
        return exemption
    agreement = issue(exemption, head)
    if status == Exemption.Status.AGREEMENT_ISSUED:
        exemption.refresh_from_db()
        return exemption
    sign_all(agreement, head=head)
    exemption.refresh_from_db()
    if status == Exemption.Status.EXPIRED:
        services.exemptions_expire(today=exemption.ends + datetime.timedelta(days=1))
        exemption.refresh_from_db()
    return exemption
