"""Emails about incidents: a reference, a category and a link; never a name or the account.

Sent from the transition functions (after the transaction commits), never from save().
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from compliance.models import User
from compliance.roles import Role


def _recipients(*roles: Role) -> list[str]:
    users = (
        User.objects.filter(is_active=True, groups__name__in=roles)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
        .order_by("email")
    )
    return list(users)


def _link(incident) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("incidents:incident_detail", args=[incident.pk])


def _send(subject: str, lines: list[str], recipients: list[str]) -> None:
    if recipients:
        send_mail(
            subject,
            "\n".join(lines),
            settings.DEFAULT_FROM_EMAIL,
            recipients,
            fail_silently=False,
        )


def new_report(incident) -> None:
    """The DSL and deputies on every new report; the headteacher on matters involving staff
    or visitors."""
    from incidents.services import for_headteacher

    roles = [Role.DSL, Role.DEPUTY_DSL]
    if for_headteacher(incident):
        roles.append(Role.HEADTEACHER)
    _send(
        f"New safeguarding report {incident.reference}",
        [
            f"A new report has been made: {incident.reference}.",
            f"Category: {incident.get_category_display()}.",
            "",
            f"Open it (log in required): {_link(incident)}",
            "",
            "This email holds no names and no account, by design. Do not forward it.",
        ],
        _recipients(*roles),
    )


def child_at_risk(incident) -> None:
    _send(
        f"Child protection: {incident.reference}",
        [
            f"{incident.reference} has been triaged as a child at risk of harm and escalated "
            "under the child protection policy.",
            f"Category: {incident.get_category_display()}.",
            "",
            f"Open it (log in required): {_link(incident)}",
        ],
        _recipients(Role.DSL),
    )


def staff_matter(incident) -> None:
    _send(
        f"Allegation involving staff: {incident.reference}",
        [
            f"{incident.reference} may involve a member of staff harming a child, committing "
            "an offence or showing unsuitability. The LADO is to be told within one working "
            "day.",
            f"Category: {incident.get_category_display()}.",
            "",
            f"Open it (log in required): {_link(incident)}",
        ],
        _recipients(Role.HEADTEACHER, Role.DSL),
    )


def new_low_level_concern(concern) -> None:
    """The DSL and the headteacher, except the member of staff it is about (a concern about
    the DSL is the headteacher's to read). A reference and a link: no name, no account."""
    recipients = [
        email
        for email in _recipients(Role.DSL, Role.HEADTEACHER)
        if not concern.staff.user_id or email != concern.staff.user.email
    ]
    link = settings.SITE_URL.rstrip("/") + reverse("incidents:concern_detail", args=[concern.pk])
    _send(
        f"Low-level concern {concern.reference}",
        [
            f"A low-level concern about a member of staff has been raised: {concern.reference}.",
            "",
            f"Open it (log in required; the DSL and the headteacher only): {link}",
            "",
            "This email holds no names and no account, by design. Do not forward it.",
        ],
        recipients,
    )
