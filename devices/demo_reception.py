"""Demo records for reception (sections 6 and 7): the briefing and device agreement of the
demo school's recent visits, visitors on site now in each state an agreement can be in, and
calls home. Made through `devices.reception` and `devices.services`, as the desk would.

Run by `devices.demo.seed` after the exemptions (the social worker's approved exemption
is the one her visit today rests on). Made once: nothing is added when any visitor device
agreement exists.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from compliance.demo import DemoContext, acting_as
from compliance.models import FormClass, StaffMember, Visit, Visitor, VisitorType
from devices import reception, services
from devices.demo import signature_png
from devices.models import CallHome, DeviceCategory, Signature, VisitorDeviceAgreement
from devices.reception import DeviceUse

# Recent visits get their agreement as the desk made it at the time; older ones in the
# demo log come from before the school used the desk, and show as such.
RECENT_DAYS = 21
NONE = VisitorDeviceAgreement.Use.NONE
AGREED = VisitorDeviceAgreement.Use.AGREED

PURPOSES = {
    "Hannah Whitmore": (
        "Typing notes of the meeting into the council's case app",
        "The family room",
        "During the meeting",
    ),
    "Marcus Ellery": (
        "Timing the observation tasks on a work tablet",
        "The quiet room off the Year 4 corridor",
        "During the consultation only",
    ),
    "Anjali Mehta": (
        "Recording the assessment scores on the NHS tablet (no audio or photos)",
        "The intervention room",
        "During the assessment",
    ),
    "Gary Fenton": (
        "Showing the online safety slides from a police laptop",
        "The hall",
        "During the talk to Years 5 and 6",
    ),
    "Deborah Lang": (
        "Entering height and weight checks on the NHS tablet",
        "The medical room",
        "During the health checks",
    ),
}


def _sign(agreement, capacity: str, name: str, *, by, at: datetime.datetime) -> None:
    services.signature_record(
        agreement=agreement,
        capacity=capacity,
        signer_name=name,
        method=Signature.Method.DRAWN,
        drawn_png=signature_png(name),
        signed_at=at,
        by=by,
    )


def _use_for(visit: Visit, *, briefer: StaffMember, aup: bool, **extra) -> DeviceUse:
    visitor = visit.visitor
    planned = PURPOSES.get(visitor.full_name)
    if visitor.visitor_type != VisitorType.MULTI_AGENCY or planned is None:
        return DeviceUse(briefing_given=True, briefed_by=briefer, use=NONE, aup_acknowledged=aup)
    purpose, where, when = planned
    return DeviceUse(
        briefing_given=True,
        briefed_by=briefer,
        use=AGREED,
        purpose=purpose,
        where=where,
        when=when,
        agreed_by=visit.host,
        aup_acknowledged=aup,
        **extra,
    )


def _record_and_sign(visit: Visit, use: DeviceUse, *, office, at, sign: bool = True) -> None:
    record = reception.device_agreement_record(visit=visit, use=use, by=office, made_at=at)
    if not sign:
        return
    signed_at = at + datetime.timedelta(minutes=2)
    _sign(
        record.agreement,
        Signature.Capacity.VISITOR,
        visit.visitor.full_name,
        by=office,
        at=signed_at,
    )
    if record.use == AGREED:
        _sign(
            record.agreement,
            Signature.Capacity.STAFF_MEMBER,
            record.agreed_by.full_name,
            by=office,
            at=signed_at,
        )


def _recent_visits(context: DemoContext) -> int:
    office = context.users["office"]
    briefer = StaffMember.objects.get(user=office)
    since = context.now - datetime.timedelta(days=RECENT_DAYS)
    made = 0
    with acting_as(office):
        for visit in (
            Visit.objects.filter(arrived__gte=since, left__isnull=False)
            .select_related("visitor", "host")
            .order_by("arrived", "pk")
        ):
            aup = reception.aup_due(visit.visitor)
            at = visit.arrived + datetime.timedelta(minutes=1)
            _record_and_sign(visit, _use_for(visit, briefer=briefer, aup=aup), office=office, at=at)
            made += 1
    return made


def _on_site_now(context: DemoContext) -> int:
    """The visitors on site: one signed, one waiting for the headteacher, one at the desk
    awaiting their signature, and the social worker working with a learner under her
    approved exemption."""
    office = context.users["office"]
    briefer = StaffMember.objects.get(user=office)
    phone = DeviceCategory.objects.get(name="Mobile phone")
    tablet = DeviceCategory.objects.get(name="Tablet")
    made = 0
    with acting_as(office):
        for visit in (
            Visit.objects.filter(left__isnull=True)
            .exclude(device_agreement__isnull=False)
            .select_related("visitor", "host")
            .order_by("arrived", "pk")
        ):
            aup = reception.aup_due(visit.visitor)
            at = visit.arrived + datetime.timedelta(minutes=1)
            if visit.visitor.full_name == "Deborah Lang":
                # working with learners, and no approval yet: the head is asked from the desk
                use = _use_for(
                    visit,
                    briefer=briefer,
                    aup=aup,
                    with_learners=True,
                    ask_headteacher=True,
                    category=tablet,
                )
                _record_and_sign(visit, use, office=office, at=at, sign=False)
            else:
                _record_and_sign(
                    visit, _use_for(visit, briefer=briefer, aup=aup), office=office, at=at
                )
            made += 1

        social_worker = Visitor.objects.filter(first_name="Hannah", last_name="Whitmore").first()
        if social_worker is not None and not social_worker.visits.filter(left__isnull=True):
            host = StaffMember.objects.get(user=context.users["dsl"])
            arrived = context.now - datetime.timedelta(minutes=25)
            planned = PURPOSES["Hannah Whitmore"]
            visit = reception.visit_sign_in(
                visitor=social_worker,
                host=host,
                purpose="Meeting with a learner and the DSL",
                arrived=arrived,
                use=DeviceUse(
                    briefing_given=True,
                    briefed_by=briefer,
                    use=AGREED,
                    purpose=planned[0],
                    where=planned[1],
                    when=planned[2],
                    agreed_by=host,
                    with_learners=True,
                    category=phone,
                ),
                by=office,
            )
            record = visit.device_agreement
            signed_at = arrived + datetime.timedelta(minutes=3)
            _sign(
                record.agreement,
                Signature.Capacity.VISITOR,
                social_worker.full_name,
                by=office,
                at=signed_at,
            )
            _sign(
                record.agreement,
                Signature.Capacity.STAFF_MEMBER,
                host.full_name,
                by=office,
                at=signed_at,
            )
            made += 1

        volunteer = Visitor.objects.filter(first_name="Ian", last_name="Bramley").first()
        if volunteer is not None and not volunteer.visits.filter(left__isnull=True):
            visit = reception.visit_sign_in(
                visitor=volunteer,
                host=briefer,
                purpose="Dropping off the Christmas fair raffle prizes",
                arrived=context.now - datetime.timedelta(minutes=5),
                use=DeviceUse(briefing_given=True, briefed_by=briefer, use=NONE),
                by=office,
            )  # at the desk now: the agreement waits for his signature
            made += 1
    return made


CALLS = (
    # days ago, hour, direction, parent on record?, reason, outcome
    (0, 10, CallHome.Direction.TO_HOME, True, "Feeling sick after break", CallHome.Outcome.SPOKE),
    (1, 14, CallHome.Direction.FROM_HOME, True, "Collection by grandad today",
     CallHome.Outcome.PASSED_ON),
    (2, 9, CallHome.Direction.TO_HOME, True, "Forgot his inhaler", CallHome.Outcome.MESSAGE_LEFT),
    (3, 13, CallHome.Direction.TO_HOME, False, "Bumped head in the playground",
     CallHome.Outcome.SPOKE),
    (4, 11, CallHome.Direction.TO_HOME, True, "Upset and asking for mum",
     CallHome.Outcome.NO_ANSWER),
    (6, 15, CallHome.Direction.FROM_HOME, True, "Dentist appointment at 2pm",
     CallHome.Outcome.PASSED_ON),
)  # fmt: skip


def _calls_home(context: DemoContext) -> int:
    if CallHome.objects.exists():
        return 0
    office = context.users["office"]
    caller = StaffMember.objects.get(user=office)
    learners = list(
        FormClass.objects.get(name="3A")
        .learners.filter(left__isnull=True, parents_carers__isnull=False)
        .distinct()
        .order_by("last_name", "pk")[: len(CALLS)]
    )
    made = 0
    with acting_as(office):
        for (days, hour, direction, on_record, reason, outcome), learner in zip(
            CALLS, learners, strict=False
        ):
            day = context.today - datetime.timedelta(days=days)
            at = min(
                context.now - datetime.timedelta(minutes=30),
                timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour))),
            )
            parent = learner.parents_carers.order_by("pk").first()
            reception.call_home_record(
                learner=learner,
                direction=direction,
                caller=caller,
                contact=parent if on_record else None,
                contact_name="" if on_record else "Aunt (emergency contact on the form)",
                reason=reason,
                outcome=outcome,
                called_at=at,
                by=office,
            )
            made += 1
    return made


def seed(context: DemoContext) -> str:
    if VisitorDeviceAgreement.objects.exists():
        agreements = 0
    else:
        agreements = _recent_visits(context) + _on_site_now(context)
    calls = _calls_home(context)
    return f"Reception demo: {agreements} visitor device agreements, {calls} calls home."
