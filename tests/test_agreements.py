"""Agreements as documents: the fingerprint, the verify page, the PDF, the paper scans."""

from __future__ import annotations

import hashlib
import io
import json
import re
import time

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from compliance.models import RecordAccess
from compliance.transitions import Refused
from devices import services
from devices.models import Agreement, Exemption, Signature
from devices.pdf import AgreementSubject, agreement_pdf
from tests.factories_devices_exemptions import (
    TERMS,
    exemption_in,
    issue,
    scan_pdf,
    signature_png,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Scans are written under a throwaway MEDIA_ROOT, never the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def signed(users, community) -> Agreement:
    exemption = exemption_in(
        Exemption.Status.ACTIVE,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )
    return exemption.agreements.get()


@pytest.fixture
def awaiting(users, community) -> Agreement:
    exemption = exemption_in(
        Exemption.Status.AGREEMENT_ISSUED,
        learner=community["learner"],
        requester=users["staff"],
        head=users["headteacher"],
    )
    return exemption.agreements.get()


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# The fingerprint


def test_the_fingerprint_is_the_sha256_of_canonical_json(signed):
    canonical = signed.canonical_terms
    assert signed.fingerprint == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    content = json.loads(canonical)
    # canonical: sorted keys, no spaces
    assert canonical == json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert content["terms"] == TERMS
    assert content["subject"]["name"] == "Amira Khan"
    assert [s["capacity"] for s in content["signatures"]] == sorted(
        ["learner", "parent_carer", "headteacher"]
    )
    assert all(s["signed_at"].endswith("+00:00") for s in content["signatures"])


def test_the_fingerprint_is_stable(signed, settings):
    fresh = Agreement.objects.get(pk=signed.pk)
    assert services.canonical_content(fresh) == signed.canonical_terms
    # the same record read in another time zone gives the same content
    settings.TIME_ZONE = "America/New_York"
    with timezone.override("America/New_York"):
        assert services.canonical_content(Agreement.objects.get(pk=signed.pk)) == (
            signed.canonical_terms
        )


def test_the_fingerprint_covers_the_signatures(signed):
    Signature.objects.filter(agreement=signed, capacity="learner").update(signer_name="Someone")
    assert services.canonical_content(signed) != signed.canonical_terms


# The verify page


def _verify(client, fingerprint: str) -> str:
    response = client.get(reverse("devices:agreement_verify"), {"fingerprint": fingerprint})
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_verify_an_intact_agreement(client, users, signed):
    client.force_login(users["headteacher"])
    page = _verify(client, signed.fingerprint)
    signed_on = max(s.signed_at for s in signed.signatures.all())
    assert (
        f"Matches agreement #{signed.pk}, version 1, signed on "
        f"{timezone.localtime(signed_on):%-d %B %Y}: intact"
    ) in page
    assert "nothing has changed since it was signed" in page
    assert signed.get_absolute_url() in page


def test_verify_accepts_spaces_and_capitals(client, users, signed):
    client.force_login(users["office"])
    grouped = " ".join(re.findall(".{8}", signed.fingerprint.upper()))
    page = _verify(client, grouped)
    assert f"Matches agreement #{signed.pk}" in page
    # the office may not open a learner's exemption: the answer does not link to it
    assert signed.get_absolute_url() not in page


def test_verify_an_unknown_fingerprint(client, users, signed):
    client.force_login(users["dsl"])
    page = _verify(client, hashlib.sha256(b"something else").hexdigest())
    assert "No agreement has this fingerprint" in page


def test_verify_refuses_what_is_not_a_fingerprint(client, users):
    client.force_login(users["dsl"])
    page = _verify(client, "not-a-fingerprint")
    assert "64 characters long" in page
    assert "No agreement has this fingerprint" not in page


def test_verify_detects_tampering_with_the_frozen_record(client, users, signed):
    client.force_login(users["dsl"])
    tampered = signed.canonical_terms.replace("kept in her bag", "anywhere she likes")
    Agreement.objects.filter(pk=signed.pk).update(canonical_terms=tampered)
    page = _verify(client, signed.fingerprint)
    assert "The record has changed since it was signed" in page
    assert "intact" not in page


def test_verify_detects_tampering_with_the_terms(client, users, signed):
    client.force_login(users["dsl"])
    # an edit that goes around Agreement.save (which refuses it)
    Agreement.objects.filter(pk=signed.pk).update(sanctions="None at all.")
    assert "The record has changed since it was signed" in _verify(client, signed.fingerprint)


def test_verify_detects_a_replaced_signature(client, users, signed):
    client.force_login(users["dsl"])
    Signature.objects.filter(agreement=signed, capacity="learner").update(
        drawn_png=signature_png("Forged").split(",", 1)[1]
    )
    assert "The record has changed since it was signed" in _verify(client, signed.fingerprint)


def test_verify_a_version_replaced_before_it_was_signed(client, users, awaiting):
    issue(awaiting.exemption, users["headteacher"], when="Mornings only")
    awaiting.refresh_from_db()
    client.force_login(users["headteacher"])
    page = _verify(client, awaiting.fingerprint)
    assert f"Matches agreement #{awaiting.pk}, version 1" in page
    assert "never came into force" in page


@pytest.mark.parametrize("role", ["staff", "governor", "outsider"])
def test_verify_is_for_the_office_and_the_senior_team(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("devices:agreement_verify")).status_code == 403


# The PDF


def test_the_pdf_holds_names_terms_dates_and_fingerprint(users, community, signed):
    text = _text(agreement_pdf(signed, verify_url="https://school.example/devices/verify/"))
    assert "Victoria Road Primary School" in text
    for name in ("Amira Khan", "Hana Khan", "Lisa Davis"):
        assert name in text
    for value in TERMS.values():
        assert value in text
    exemption = signed.exemption
    assert f"{exemption.starts:%-d %B %Y}" in text
    assert f"{exemption.ends:%-d %B %Y}" in text
    for signature in signed.signatures.all():
        assert f"Signed {timezone.localtime(signature.signed_at):%-d %B %Y, %H:%M}" in text
    assert signed.fingerprint in text
    assert "https://school.example/devices/verify/" in text
    assert "Parent or carer with parental responsibility" in text


def test_an_unsigned_agreement_prints_for_signing_on_paper(awaiting):
    text = _text(agreement_pdf(awaiting))
    assert "Not yet in force" in text
    assert "Amira Khan" in text
    assert text.count("Signature") >= 3  # a blank line for each who must sign


def test_a_reception_agreement_without_an_exemption_uses_the_same_pdf(users):
    """The reception desk's visitor agreements: no exemption, the caller names the subject."""
    agreement = Agreement.objects.create(exemption=None, issued_by=users["office"], **TERMS)
    assert services.required_capacities(agreement) == ["visitor", "staff"]
    for capacity, name in (("visitor", "Vera Visitor"), ("staff", "Olive Clerk")):
        services.signature_record(
            agreement=agreement,
            capacity=capacity,
            signer_name=name,
            method="drawn",
            drawn_png=signature_png(name),
            by=users["office"],
        )
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED
    subject = AgreementSubject(
        heading="Visitor device agreement",
        name="Vera Visitor",
        details=(("Organisation", "Kent Children's Services"),),
    )
    text = _text(agreement_pdf(agreement, subject=subject))
    assert "Vera Visitor" in text and "Olive Clerk" in text
    assert "Kent Children's Services" in text
    assert agreement.fingerprint in text


def test_a_signed_agreements_pdf_renders_in_under_a_second(signed):
    started = time.perf_counter()
    agreement_pdf(signed)
    cold = time.perf_counter() - started
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        agreement_pdf(signed)
        timings.append(time.perf_counter() - started)
    warm = min(timings)
    then = ", ".join(f"{t:.3f}" for t in timings)
    print(f"\nagreement PDF: first render {cold:.3f} s, then {then} s")
    # the target is one second; the bound is generous for a loaded CI machine
    assert warm < 3.0


def test_the_pdf_download_is_an_attachment_and_is_logged(client, users, signed):
    client.force_login(users["headteacher"])
    response = client.get(reverse("devices:agreement_pdf", args=[signed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert f"agreement-{signed.pk}-version-1.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")
    assert signed.fingerprint in _text(response.content)
    assert "/devices/agreements/verify/" in _text(response.content)
    log = RecordAccess.objects.get()
    assert (log.user, log.action, log.object_id) == (
        users["headteacher"],
        RecordAccess.Action.DOWNLOAD,
        str(signed.pk),
    )


@pytest.mark.parametrize(("role", "status"), [("office", 404), ("governor", 403)])
def test_the_pdf_is_not_for_those_who_may_not_see_the_exemption(
    client, users, signed, role, status
):
    client.force_login(users[role])
    assert client.get(reverse("devices:agreement_pdf", args=[signed.pk])).status_code == status
    assert not RecordAccess.objects.exists()


# Paper signatures: the scan upload


def _paper(client, agreement, scan, capacity="learner"):
    return client.post(
        reverse("devices:signature_record", args=[agreement.pk]),
        {
            "capacity": capacity,
            "signer_name": "Amira Khan",
            "method": "paper",
            "paper_scan": scan,
        },
    )


def test_a_scan_must_be_a_pdf(client, users, awaiting):
    client.force_login(users["headteacher"])
    # named and typed as a PDF, but it is not one
    fake = SimpleUploadedFile("signed.pdf", b"\x89PNG\r\n\x1a\n...", "application/pdf")
    response = _paper(client, awaiting, fake)
    assert response.status_code == 200
    assert "The scan must be a PDF file." in response.content.decode()
    assert 'value="Amira Khan"' in response.content.decode()  # what was typed is kept
    assert not awaiting.signatures.exists()


def test_a_scan_over_5_mb_is_refused(client, users, awaiting):
    client.force_login(users["headteacher"])
    response = _paper(client, awaiting, scan_pdf(size=5 * 1024 * 1024 + 1))
    assert response.status_code == 200
    assert "larger than 5 MB" in response.content.decode()
    assert not awaiting.signatures.exists()


def test_the_service_refuses_a_bad_scan_too(users, awaiting):
    bad = SimpleUploadedFile("x.pdf", b"GIF89a", content_type="application/pdf")
    with pytest.raises(Refused, match="must be a PDF"):
        services.signature_record(
            agreement=awaiting,
            capacity="learner",
            signer_name="A",
            method="paper",
            paper_scan=bad,
            by=users["office"],
        )
    with pytest.raises(Refused, match="larger than 5 MB"):
        services.signature_record(
            agreement=awaiting,
            capacity="learner",
            signer_name="A",
            method="paper",
            paper_scan=scan_pdf(size=5 * 1024 * 1024 + 1),
            by=users["office"],
        )


def test_a_scan_is_stored_under_a_name_the_server_makes(client, users, awaiting, media):
    client.force_login(users["headteacher"])
    response = _paper(client, awaiting, scan_pdf("../../etc/Amira Khan signed.pdf"))
    assert response.status_code == 302
    signature = awaiting.signatures.get()
    assert re.fullmatch(
        rf"signatures/\d{{4}}/agreement-{awaiting.pk}-\d{{20}}\.pdf", signature.paper_scan.name
    )
    assert "Amira" not in signature.paper_scan.name
    stored = media / signature.paper_scan.name
    assert stored.read_bytes().startswith(b"%PDF-")


def test_a_scan_is_served_only_to_those_who_may_see_the_agreement(client, users, awaiting):
    client.force_login(users["headteacher"])
    _paper(client, awaiting, scan_pdf())
    signature = awaiting.signatures.get()
    url = reverse("devices:signature_scan", args=[signature.pk])
    # never a media URL: the agreement's page links to the checked view
    page = client.get(awaiting.get_absolute_url()).content.decode()
    assert url in page
    assert signature.paper_scan.name not in page

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert RecordAccess.objects.filter(
        action=RecordAccess.Action.DOWNLOAD, object_id=str(signature.pk)
    ).exists()

    # the teacher asked for this exemption: they may see it, and so its scan; the office
    # opens an agreement still awaiting signatures (parents sign at the desk)
    client.force_login(users["staff"])
    assert client.get(url).status_code == 200
    for role, status in (("office", 200), ("governor", 403), ("outsider", 403)):
        client.force_login(users[role])
        assert client.get(url).status_code == status, role
    client.logout()
    assert client.get(url).status_code == 302


def test_a_drawn_signature_has_no_scan(client, users, signed):
    client.force_login(users["headteacher"])
    signature = signed.signatures.first()
    url = reverse("devices:signature_scan", args=[signature.pk])
    assert client.get(url).status_code == 404


def test_verify_says_changed_when_a_scan_has_gone(client, users, awaiting, media):
    head = users["headteacher"]
    services.signature_record(
        agreement=awaiting,
        capacity="learner",
        signer_name="Amira Khan",
        method="paper",
        paper_scan=scan_pdf(),
        by=head,
    )
    parent = awaiting.exemption.learner.parents_carers.first()
    services.signature_record(
        agreement=awaiting,
        capacity="parent_carer",
        signer_name=parent.full_name,
        method="drawn",
        drawn_png=signature_png(),
        parent=parent,
        by=head,
    )
    services.signature_record(
        agreement=awaiting,
        capacity="headteacher",
        signer_name="Lisa Davis",
        method="drawn",
        drawn_png=signature_png(),
        by=head,
    )
    awaiting.refresh_from_db()
    assert awaiting.status == Agreement.Status.SIGNED
    client.force_login(head)
    assert "intact" in _verify(client, awaiting.fingerprint)
    (media / awaiting.signatures.get(capacity="learner").paper_scan.name).unlink()
    assert "The record has changed since it was signed" in _verify(client, awaiting.fingerprint)
