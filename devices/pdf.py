"""An agreement as a PDF: one mechanism for every agreement.

An exemption's agreement names its subject from the exemption. A visitor's device agreement
at reception has no exemption: its caller says who it is for, e.g.

    agreement_pdf(agreement, subject=AgreementSubject(
        heading="Visitor device agreement", name=visitor.full_name,
        details=(("Organisation", visitor.organisation), ("Visit", "12 March 2026")),
    ))

The template is self-contained (a small <style> block, fonts installed on the server, the
drawn signatures embedded as data: URIs): nothing is fetched, and it renders in well under a
second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils import timezone

from compliance.models import School
from devices.models import Agreement, Exemption, Signature
from devices.services import required_capacities


@dataclass(frozen=True)
class AgreementSubject:
    """Who and what an agreement is about, as the document heads it."""

    heading: str
    name: str
    details: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def exemption_subject(exemption: Exemption) -> AgreementSubject:
    person = exemption.subject
    details: list[tuple[str, str]] = [("Kind", exemption.get_kind_display())]
    if exemption.learner_id and exemption.learner.form_class_id:
        details.append(("Class", str(exemption.learner.form_class)))
    if exemption.staff_id and exemption.staff.job_title:
        details.append(("Role", exemption.staff.job_title))
    if exemption.visitor_id and exemption.visitor.organisation:
        details.append(("Organisation", exemption.visitor.organisation))
    details += [
        ("Device", exemption.category.name),
        ("From", f"{exemption.starts:%-d %B %Y}"),
        ("Until", f"{exemption.ends:%-d %B %Y}"),
        ("Exemption", f"#{exemption.pk}"),
    ]
    return AgreementSubject(
        heading=f"{exemption.subject_kind.capitalize()}: {person.full_name}",
        name=person.full_name,
        details=tuple(details),
    )


def signature_rows(agreement: Agreement, signatures: list[Signature]) -> list[dict]:
    """Every required signature in order, signed or still to sign."""
    by_capacity = {signature.capacity: signature for signature in signatures}
    rows = []
    for capacity in required_capacities(agreement):
        rows.append(
            {
                "capacity": capacity,
                "label": Signature.Capacity(capacity).label,
                "signature": by_capacity.get(capacity),
            }
        )
    return rows


def agreement_pdf(
    agreement: Agreement,
    *,
    subject: AgreementSubject | None = None,
    verify_url: str = "",
) -> bytes:
    """The agreement as PDF bytes: the school's header, the subject, the terms, every
    signature with its date and the fingerprint, with how to check it at `verify_url`."""
    # imported here: WeasyPrint loads Pango and fonts, which no other request needs
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    if subject is None and agreement.exemption_id is not None:
        subject = exemption_subject(agreement.exemption)
    signatures = list(agreement.signatures.order_by("signed_at", "pk"))
    superseded_by = Agreement.objects.filter(supersedes=agreement).first()
    html = render_to_string(
        "devices/agreement_pdf.html",
        {
            "school": School.current(),
            "agreement": agreement,
            "subject": subject,
            "rows": signature_rows(agreement, signatures),
            "superseded_by": superseded_by,
            "verify_url": verify_url,
            "generated_at": timezone.now(),
        },
    )
    # only the data: URIs of drawn signatures; a value that looked like a URL must never make
    # the server open a file or a connection
    fetcher = URLFetcher(allowed_protocols=frozenset({"data"}))
    return HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
