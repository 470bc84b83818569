"""Reception (policy sections 6 and 7): signing visitors in and out with their device
agreement, and the calls staff make home for a learner.

Every function here is one transition: it checks who is acting and what must already be
true, writes the records in one transaction and refuses with a reason the desk can show.
The agreement a visitor signs is a `devices.models.Agreement` like every other: the same
signatures, the same frozen terms and fingerprint, the same PDF.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.models import Acknowledgement, Learner, StaffMember, User, Visit, Visitor
from compliance.selectors import acknowledgement_due, current_policy
from compliance.transitions import Refused
from devices.access import (
    learners_for_calls,
    may_log_calls,
    may_use_desk,
)
from devices.models import (
    Agreement,
    CallHome,
    DeviceCategory,
    Exemption,
    VisitorDeviceAgreement,
)
from devices.services import exemption_request

# An exemption for a visitor's use of a device with learners is in force once the
# headteacher has approved it, for the days it covers.
EXEMPTION_IN_FORCE = (
    Exemption.Status.APPROVED,
    Exemption.Status.AGREEMENT_ISSUED,
    Exemption.Status.ACTIVE,
)

# The written terms every visitor agrees to (section 7), whatever use is permitted.
EXPECTATIONS = (
    "Mobile phones and personal devices are used only when agreed by a member of staff and "
    "for the purpose agreed. No photographs, video or sound recordings of learners are taken. "
    "Where learners are, devices are kept out of sight and on silent unless the agreed "
    "purpose needs them. The school's child protection policy applies throughout the visit."
)
EXPECTATIONS_REGULAR = (
    " As a visitor on site regularly or for extended periods, the visitor also follows the "
    "school's acceptable use of technology policy."
)
SANCTIONS = (
    "Staff will challenge use outside these terms and tell the Designated Safeguarding Lead "
    "or the headteacher, who may end the visit, withdraw permission for future visits and "
    "record an incident."
)
NO_USE = "No use of a mobile phone or personal device while on site."
NO_USE_WHERE = "Anywhere on the school site."


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(reason)


def _require_desk(user) -> None:
    _require(may_use_desk(user), "Visitors are signed in and out by the office.")


# Finding visitors ----------------------------------------------------------------------

MAX_FOUND = 20


def find_visitors(query: str) -> QuerySet:
    """Visitors whose name or organisation holds every word typed ("sam hill", "nhs")."""
    words = query[:200].split()[:5]
    if not words:
        return Visitor.objects.none()
    matched = Q()
    for word in words:
        matched &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(organisation__icontains=word)
        )
    return Visitor.objects.filter(matched).order_by("last_name", "first_name", "pk")


def exemptions_in_force(visitor: Visitor, day: datetime.date) -> QuerySet:
    """The visitor's approved exemptions for using a device with learners on `day`."""
    return Exemption.objects.filter(
        visitor=visitor,
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
        status__in=EXEMPTION_IN_FORCE,
        starts__lte=day,
        ends__gte=day,
    ).order_by("-decided_at", "-pk")


def exemption_in_force(exemption: Exemption | None, day: datetime.date) -> bool:
    return (
        exemption is not None
        and exemption.status in EXEMPTION_IN_FORCE
        and exemption.starts <= day <= exemption.ends
    )


def aup_due(visitor: Visitor) -> bool:
    """A regular or extended visitor acknowledges the acceptable use policy once per
    policy version, and again only after a version marked as a material change."""
    return visitor.regular_or_extended and acknowledgement_due(
        kind=Acknowledgement.Kind.AUP, visitor=visitor
    )


# The agreement -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceUse:
    """What the desk records about a visitor's device use at sign-in (section 7)."""

    briefing_given: bool
    briefed_by: StaffMember | None
    use: str
    purpose: str = ""
    where: str = ""
    when: str = ""
    agreed_by: StaffMember | None = None
    with_learners: bool = False
    exemption: Exemption | None = None
    ask_headteacher: bool = False
    category: DeviceCategory | None = None
    aup_acknowledged: bool = False


def _terms(visit: Visit, use: DeviceUse, exemption: Exemption | None) -> dict[str, str]:
    expectations = EXPECTATIONS
    if visit.visitor.regular_or_extended:
        expectations += EXPECTATIONS_REGULAR
    if use.use == VisitorDeviceAgreement.Use.NONE:
        day = timezone.localtime(visit.arrived)
        return {
            "permitted_use": NO_USE,
            "where": NO_USE_WHERE,
            "when": f"This visit, {day:%-d %B %Y}.",
            "expectations": expectations,
            "sanctions": SANCTIONS,
        }
    permitted = use.purpose.strip()
    if use.with_learners and exemption is not None:
        permitted += (
            f" This includes working with learners, under the headteacher's exemption "
            f"#{exemption.pk}."
        )
    agreed_by = use.agreed_by.full_name if use.agreed_by else ""
    return {
        "permitted_use": f"{permitted} Agreed by {agreed_by}.",
        "where": use.where.strip(),
        "when": use.when.strip(),
        "expectations": expectations,
        "sanctions": SANCTIONS,
    }


def _check_use(visit: Visit, use: DeviceUse, by: User) -> Exemption | None:
    """The rules of section 7, each with the reason the desk shows; returns the exemption
    the agreement rests on (raising a request for the headteacher when asked to)."""
    _require(
        use.briefing_given,
        "Give the visitor the verbal briefing on the policy, then tick that it was given.",
    )
    _require(use.briefed_by is not None, "Say who gave the briefing.")
    _require(use.use in VisitorDeviceAgreement.Use.values, "Choose the device use permitted.")
    if use.use == VisitorDeviceAgreement.Use.NONE:
        _require(
            not use.with_learners,
            "Use with learners is a specific purpose: choose that and say who agreed it.",
        )
        return None
    _require(bool(use.purpose.strip()), "Say what the device may be used for.")
    _require(bool(use.where.strip()), "Say where the device may be used.")
    _require(bool(use.when.strip()), "Say when the device may be used.")
    _require(
        use.agreed_by is not None,
        "Device use is permitted only when agreed by a named member of staff (section 7).",
    )
    _require(use.agreed_by.active, f"{use.agreed_by} is not an active member of staff.")
    if not use.with_learners:
        return None
    day = timezone.localtime(visit.arrived).date()
    if use.exemption is not None:
        _require(
            use.exemption.visitor_id == visit.visitor_id
            and use.exemption.kind == Exemption.Kind.VISITOR_WITH_LEARNERS,
            "That exemption is not this visitor's for using a device with learners.",
        )
        return use.exemption
    in_force = exemptions_in_force(visit.visitor, day).first()
    if in_force is not None:
        return in_force
    _require(
        use.ask_headteacher,
        "Using a device with learners needs the headteacher's approval (section 7): "
        "ask the headteacher from here, or record no use until it is approved.",
    )
    _require(use.category is not None, "Choose the kind of device.")
    return exemption_request(
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS,
        subject=visit.visitor,
        category=use.category,
        reason=f"At reception, visit #{visit.pk}: {use.purpose.strip()}",
        starts=day,
        ends=day,
        by=by,
    )


def _record_aup(visit: Visit, use: DeviceUse, by: User) -> None:
    if not aup_due(visit.visitor):
        return
    _require(
        use.aup_acknowledged,
        f"{visit.visitor.full_name} is on site regularly: they acknowledge the acceptable use "
        "policy before the agreement is made (section 7).",
    )
    Acknowledgement.objects.create(
        kind=Acknowledgement.Kind.AUP,
        visitor=visit.visitor,
        policy_version=current_policy(),
        recorded_by=by,
    )


@transaction.atomic
def device_agreement_record(
    *, visit: Visit, use: DeviceUse, by: User, made_at: datetime.datetime | None = None
) -> VisitorDeviceAgreement:
    """Record the briefing and the device use for a visit, with its written agreement.

    While nobody has signed, the desk may record it again (the visitor changed their mind,
    the headteacher refused): the same agreement's terms are rewritten and the history keeps
    what they said before. Once signed, the terms are fixed.

    `made_at` is when the agreement was made at the desk, for a paper form entered later
    (a busy morning); an agreement missing from a visit that has ended may be entered so,
    but one recorded already is not changed after the visitor has left.
    """
    _require_desk(by)
    visit = Visit.objects.select_for_update().select_related("visitor").get(pk=visit.pk)
    now = timezone.now()
    made_at = made_at or now
    _require(
        made_at <= now + datetime.timedelta(minutes=5), "The agreement cannot be in the future."
    )
    _require(
        made_at >= visit.arrived - datetime.timedelta(minutes=5),
        "The agreement is made at the visit, not before the visitor arrived.",
    )
    existing = (
        VisitorDeviceAgreement.objects.select_for_update()
        .select_related("agreement")
        .filter(visit=visit)
        .first()
    )
    if existing is not None:
        _require(visit.left is None, "The visitor has signed out: the visit is over.")
        _require(
            existing.agreement.status == Agreement.Status.AWAITING_SIGNATURES
            and not existing.agreement.signatures.exists(),
            "The agreement has been signed: its terms no longer change.",
        )
    exemption = _check_use(visit, use, by)
    _record_aup(visit, use, by)
    terms = _terms(visit, use, exemption)
    fields = {
        "briefing_given": True,
        "briefed_by": use.briefed_by,
        "use": use.use,
        "purpose": use.purpose.strip() if use.use == VisitorDeviceAgreement.Use.AGREED else "",
        "where": use.where.strip() if use.use == VisitorDeviceAgreement.Use.AGREED else "",
        "when": use.when.strip() if use.use == VisitorDeviceAgreement.Use.AGREED else "",
        "agreed_by": use.agreed_by if use.use == VisitorDeviceAgreement.Use.AGREED else None,
        "with_learners": bool(use.with_learners and exemption is not None),
        "exemption": exemption,
    }
    if existing is None:
        agreement = Agreement.objects.create(issued_by=by, issued_at=made_at, **terms)
        return VisitorDeviceAgreement.objects.create(
            visit=visit, agreement=agreement, recorded_by=by, **fields
        )
    agreement = existing.agreement
    for name, value in terms.items():
        setattr(agreement, name, value)
    agreement.issued_by = by
    agreement.issued_at = made_at
    agreement.save()
    for name, value in fields.items():
        setattr(existing, name, value)
    existing.recorded_by = by
    existing.recorded_at = timezone.now()
    existing.save()
    return existing


def signing_blocker(record: VisitorDeviceAgreement) -> str:
    """Why the visitor may not sign yet, or "" when they may."""
    if not record.with_learners:
        return ""
    day = timezone.localtime(record.visit.arrived).date()
    if exemption_in_force(record.exemption, day):
        return ""
    exemption = record.exemption
    state = exemption.get_status_display().lower() if exemption else "not asked for"
    return (
        f"Use with learners needs the headteacher's approval first: exemption "
        f"#{exemption.pk if exemption else '-'} is {state}. Record no use instead, or wait "
        "for the decision."
    )


# Signing in and out --------------------------------------------------------------------


@transaction.atomic
def visit_sign_in(
    *,
    visitor: Visitor,
    host: StaffMember,
    purpose: str,
    use: DeviceUse,
    by: User,
    arrived: datetime.datetime | None = None,
) -> Visit:
    """Sign a visitor in with the briefing and their device agreement, in one step."""
    _require_desk(by)
    _require(bool(purpose.strip()), "Say what the visit is for.")
    _require(host.active, f"{host} is not an active member of staff.")
    now = timezone.now()
    arrived = arrived or now
    _require(arrived <= now + datetime.timedelta(minutes=5), "Arrival cannot be in the future.")
    _require(
        arrived >= now - datetime.timedelta(hours=12),
        "Sign in visitors on the day they arrive; correct older visits from the visitor log.",
    )
    _require(
        not Visit.objects.filter(visitor=visitor, left__isnull=True).exists(),
        f"{visitor.full_name} is already signed in: sign them out first.",
    )
    visit = Visit.objects.create(
        visitor=visitor, host=host, purpose=purpose.strip(), arrived=arrived
    )
    device_agreement_record(visit=visit, use=use, by=by, made_at=arrived)
    return visit


@transaction.atomic
def visit_sign_out(*, visit: Visit, by: User, left: datetime.datetime | None = None) -> Visit:
    _require_desk(by)
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    _require(visit.left is None, "The visitor has already signed out.")
    left = left or timezone.now()
    _require(left >= visit.arrived, "A visitor cannot leave before they arrived.")
    visit.left = left
    visit.version += 1
    visit.save()
    return visit


def on_site() -> QuerySet:
    return (
        Visit.objects.filter(left__isnull=True)
        .select_related(
            "visitor",
            "host",
            "device_agreement",
            "device_agreement__agreement",
            "device_agreement__exemption",
        )
        .order_by("arrived", "pk")
    )


def visits_on(day: datetime.date) -> QuerySet:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    return Visit.objects.filter(arrived__gte=start, arrived__lt=end)


# Calls home ----------------------------------------------------------------------------


@transaction.atomic
def call_home_record(
    *,
    learner: Learner,
    direction: str,
    caller: StaffMember,
    reason: str,
    outcome: str,
    by: User,
    contact=None,
    contact_name: str = "",
    notes: str = "",
    called_at: datetime.datetime | None = None,
) -> CallHome:
    """Log one call made or taken for a learner (section 6)."""
    _require(may_log_calls(by), "Your role does not log calls home.")
    _require(
        learners_for_calls(by).filter(pk=learner.pk).exists(),
        "You log calls for learners on roll in the classes you teach.",
    )
    _require(direction in CallHome.Direction.values, "Say who phoned whom.")
    _require(outcome in CallHome.Outcome.values, "Choose the outcome of the call.")
    _require(bool(reason.strip()), "Say what the call was about.")
    _require(caller.active, f"{caller} is not an active member of staff.")
    contact_name = contact_name.strip()
    _require(
        (contact is None) != (contact_name == ""),
        "Choose the parent or carer on the call, or name someone else: one of the two.",
    )
    if contact is not None:
        _require(
            contact.learners.filter(pk=learner.pk).exists(),
            f"{contact} is not recorded as a parent or carer of this learner.",
        )
    called_at = called_at or timezone.now()
    _require(
        called_at <= timezone.now() + datetime.timedelta(minutes=5),
        "The call cannot be in the future.",
    )
    return CallHome.objects.create(
        learner=learner,
        direction=direction,
        caller=caller,
        contact=contact,
        contact_name=contact_name,
        reason=reason.strip(),
        outcome=outcome,
        notes=notes.strip(),
        called_at=called_at,
        recorded_by=by,
    )
