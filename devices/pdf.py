"""An agreement as a PDF: one mechanism for every agreement.

An exemption's agreement names its subject from the exemption; a visitor's device agreement
at reception, from its visit (`subject_of`). A caller may still say who it is for, e.g.

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
from devices.models import Agreement, Exemption, Signature, VisitorDeviceAgreement
from devices.services import required_capacities, visitor_record_of


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
    if exemption.reason_kind:
        details.append(("Reason", exemption.get_reason_kind_display()))
    details += [
        ("Device", exemption.category.name),
        ("From", f"{exemption.starts:%-d %B %Y}"),
        ("Until", f"{exemption.ends:%-d %B %Y}"),
    ]
    if exemption.review_on:
        details.append(("Review by", f"{exemption.review_on:%-d %B %Y}"))
    details.append(("Exemption", f"#{exemption.pk}"))
    return AgreementSubject(
        heading=f"{exemption.subject_kind.capitalize()}: {person.full_name}",
        name=person.full_name,
        details=tuple(details),
    )


def visitor_subject(record: VisitorDeviceAgreement) -> AgreementSubject:
    visit = record.visit
    visitor = visit.visitor
    details: list[tuple[str, str]] = []
    if visitor.organisation:
        details.append(("Organisation", visitor.organisation))
    details += [
        ("Visitor", visitor.get_visitor_type_display()),
        ("Visit", f"#{visit.pk}, {timezone.localtime(visit.arrived):%-d %B %Y, %H:%M}"),
        ("Host", visit.host.full_name),
        ("Verbal briefing given by", record.briefed_by.full_name),
        ("Device use", record.get_use_display()),
    ]
    if record.agreed_by_id:
        details.append(("Agreed by", record.agreed_by.full_name))
    if record.exemption_id:
        details.append(("Use with learners", f"Headteacher's exemption #{record.exemption_id}"))
    return AgreementSubject(
        heading=f"Visitor device agreement: {visitor.full_name}",
        name=visitor.full_name,
        details=tuple(details),
    )


def subject_of(agreement: Agreement) -> AgreementSubject:
    """Who an agreement is for, as its page and its PDF head it."""
    if agreement.exemption_id is not None:
        return exemption_subject(agreement.exemption)
    record = visitor_record_of(agreement)
    if record is not None:
        return visitor_subject(record)
    return AgreementSubject(heading="Visitor device agreement (reception)", name="")


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

    if subject is None:
        subject = subject_of(agreement)
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
