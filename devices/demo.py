"""Demo records for devices: every kind of record in every state, made through the
transition functions so that the demo shows the product working and its history is real.

Registered with compliance's `seed_demo` (compliance.demo). Safe to run again: each part
is made once, when none of its records exist yet.
"""

from __future__ import annotations

import base64
import datetime
import io
import math

from PIL import Image, ImageDraw

from compliance.demo import DemoContext, acting_as
from compliance.models import Acknowledgement, FormClass, Learner, StaffMember, Visitor
from compliance.services import acknowledgement_record
from devices import services
from devices.models import (
    EXCEPTION_KINDS,
    Confiscation,
    DeviceCategory,
    Exemption,
    HandIn,
    SchoolDevice,
    Signature,
)

DEMO_CLASS = "3A"


def signature_png(name: str) -> str:
    """A drawn-looking signature: a pen stroke that differs with the name."""
    image = Image.new("RGBA", (360, 90), (255, 255, 255, 0))
    pen = ImageDraw.Draw(image)
    seed = sum(ord(c) for c in name)
    points = []
    for step in range(120):
        x = 15 + step * 2.7
        y = 45 + 22 * math.sin(step / (5 + seed % 4)) * math.cos(step / (11 + seed % 7))
        points.append((x, y))
    pen.line(points, fill=(20, 20, 80, 255), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _category(name: str) -> DeviceCategory:
    return DeviceCategory.objects.get(name=name)


def _sign_all(agreement, *, context: DemoContext, parent=None) -> None:
    head = context.users["head"]
    recorder = context.users["dsl"]
    exemption = agreement.exemption
    for capacity in services.required_capacities(agreement):
        if capacity == Signature.Capacity.HEADTEACHER:
            name, by = head.get_full_name(), head
        elif capacity == Signature.Capacity.PARENT_CARER:
            name, by = parent.full_name, recorder
        else:
            name, by = exemption.subject.full_name, recorder
        with acting_as(by):
            services.signature_record(
                agreement=agreement,
                capacity=capacity,
                signer_name=name,
                method=Signature.Method.DRAWN,
                drawn_png=signature_png(name),
                parent=parent,
                by=by,
            )


def _acknowledgements(context: DemoContext) -> int:
    made = 0
    for username in ("dsl", "head", "deputy", "office", "teacher", "kcollens", "srevell"):
        user = context.users.get(username)
        staff = StaffMember.objects.filter(user=user).first() if user else None
        if staff is None or Acknowledgement.objects.filter(staff=staff).exists():
            continue
        with acting_as(user):
            for kind in (Acknowledgement.Kind.POLICY, Acknowledgement.Kind.AUP):
                acknowledgement_record(staff=staff, kind=kind, by=user)
                made += 1
    return made


def _school_devices(context: DemoContext) -> int:
    if SchoolDevice.objects.exists():
        return 0
    office = context.users["office"]
    phone, tablet = _category("Mobile phone"), _category("Tablet")
    rows = [
        ("VRPS-PH-01", phone, "Example Phone 12", "07700 900101", True),
        ("VRPS-PH-02", phone, "Example Phone 12", "07700 900102", True),
        ("VRPS-PH-03", phone, "Example Phone 13", "07700 900103", True),
        ("VRPS-PH-04", phone, "Example Phone 13", "07700 900104", False),
        ("VRPS-TB-01", tablet, "Example Tab 10", "", True),
        ("VRPS-TB-02", tablet, "Example Tab 10", "", True),
        ("VRPS-TB-03", tablet, "Example Tab 11", "", True),
    ]
    devices = {}
    with acting_as(office):
        for tag, category, model, number, passcode in rows:
            devices[tag] = SchoolDevice.objects.create(
                asset_tag=tag,
                category=category,
                make_model=model,
                serial_number=f"SN{tag[-5:].replace('-', '')}7731",
                work_phone_number=number,
                passcode_set=passcode,
            )
        holders = {
            "VRPS-PH-01": "dsl",
            "VRPS-PH-02": "office",
            "VRPS-TB-01": "teacher",
        }
        for tag, username in holders.items():
            staff = StaffMember.objects.get(user=context.users[username])
            services.device_issue(device=devices[tag], staff=staff, by=office)
        services.device_issue(
            device=devices["VRPS-TB-02"],
            staff=StaffMember.objects.get(user=context.users["head"]),
            by=office,
        )
        services.device_return(device=devices["VRPS-TB-02"], by=office)
        services.device_report_lost(
            device=devices["VRPS-TB-03"],
            details="Left on the school trip coach; the coach company has been asked.",
            by=office,
        )
    return len(rows)


def _school_days_before(today: datetime.date, count: int) -> list[datetime.date]:
    days, day = [], today
    while len(days) < count:
        day -= datetime.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def _hand_ins(context: DemoContext) -> int:
    if HandIn.objects.exists():
        return 0
    teacher = context.users["teacher"]
    form_class = FormClass.objects.get(name=DEMO_CLASS)
    learners = list(form_class.learners.filter(left__isnull=True).order_by("last_name"))
    phone_owners = learners[:5]
    made = 0
    with acting_as(teacher):
        for offset, day in enumerate(reversed(_school_days_before(context.today, 10))):
            made += len(
                services.hand_in_mark_class(
                    form_class=form_class, day=day, by=teacher, learners=phone_owners
                )
            )
            for index, hand_in in enumerate(
                HandIn.objects.filter(day=day, learner__in=phone_owners).select_related("learner")
            ):
                # the day before yesterday, one device was left behind overnight
                if offset == 8 and index == 0:
                    continue
                parent = hand_in.learner.parents_carers.first()
                if index % 2 and parent is not None:
                    services.hand_in_collect(
                        hand_in=hand_in,
                        collected_by=HandIn.CollectedBy.PARENT_CARER,
                        parent=parent,
                        by=teacher,
                    )
                else:
                    services.hand_in_collect(
                        hand_in=hand_in, collected_by=HandIn.CollectedBy.LEARNER, by=teacher
                    )
        if context.today.weekday() < 5:
            for learner in phone_owners[:3]:
                services.hand_in_mark(learner=learner, day=context.today, by=teacher)
                made += 1
        # an exception on the register three school days ago (the first kind the school's
        # approach has: a phone kept back, where phones are handed in)
        if len(learners) > len(phone_owners):
            services.hand_in_exception_record(
                learner=learners[len(phone_owners)],
                day=_school_days_before(context.today, 3)[-1],
                kind=EXCEPTION_KINDS[services.phone_approach()][0],
                details="Seen at break; put away at once and parents told at home time.",
                by=teacher,
            )
    return made


def _confiscations(context: DemoContext) -> int:
    if Confiscation.objects.exists():
        return 0
    dsl, office, teacher = context.users["dsl"], context.users["office"], context.users["teacher"]
    teacher_staff = StaffMember.objects.get(user=teacher)
    mine = list(Learner.objects.filter(form_class__name=DEMO_CLASS).order_by("pk")[:20])
    others = list(Learner.objects.filter(form_class__name="6B").order_by("pk")[:5])
    phone, watch = _category("Mobile phone"), _category("Smart watch")
    now = context.now
    with acting_as(teacher):
        held = services.confiscation_record(
            learner=mine[3],
            category=phone,
            description="Black phone in a blue case",
            reason="Used to message during a lesson; not handed in at the start of the day.",
            stored_where="Class 3A lockable drawer",
            taken_by=teacher_staff,
            by=teacher,
            taken_at=now - datetime.timedelta(hours=2),
        )
        returned = services.confiscation_record(
            learner=mine[12],
            category=watch,
            description="Pink smart watch",
            reason="Taking photos at break time.",
            stored_where="Class teacher's drawer",
            taken_by=teacher_staff,
            by=teacher,
            taken_at=now - datetime.timedelta(days=21),
        )
    with acting_as(office):
        services.confiscation_move(confiscation=held, stored_where="School office safe", by=office)
        services.confiscation_return(
            confiscation=returned, returned_to="Mother, at the school office", by=office
        )
    with acting_as(dsl):
        police = services.confiscation_record(
            learner=others[2],
            category=phone,
            description="Silver phone, cracked screen",
            reason="A pupil reported that it holds an indecent image of another pupil. Not "
            "viewed; the DSL was told at once.",
            stored_where="Sealed bag in the head's office safe",
            taken_by=StaffMember.objects.get(user=dsl),
            by=dsl,
            taken_at=now - datetime.timedelta(days=40),
        )
        services.confiscation_hand_to_police(
            confiscation=police,
            officer="PC 4471 Example",
            reference="KENT/46/2291/26",
            by=dsl,
            at=now - datetime.timedelta(days=39),
        )
    return 3


def _exemptions(context: DemoContext) -> int:
    if Exemption.objects.exists():
        return 0
    today = context.today
    dsl, head, office, teacher = (
        context.users[name] for name in ("dsl", "head", "office", "teacher")
    )
    phone, watch = _category("Mobile phone"), _category("Smart watch")
    form_class = FormClass.objects.get(name=DEMO_CLASS)
    learners = list(form_class.learners.filter(left__isnull=True).order_by("first_name"))
    staff_pool = list(
        StaffMember.objects.filter(staff_type="teaching", user__isnull=True).order_by("mis_id")
    )
    social_worker = Visitor.objects.filter(visitor_type="multi_agency").order_by("pk").first()
    days = datetime.timedelta

    def request(kind, subject, category, reason, ends_in, by, reason_kind="", review_in=None):
        with acting_as(by):
            return services.exemption_request(
                kind=kind,
                subject=subject,
                category=category,
                reason_kind=reason_kind,
                reason=reason,
                starts=today,
                ends=today + days(days=ends_in),
                review_on=today + days(days=review_in if review_in is not None else ends_in),
                by=by,
            )

    def approve(exemption, note="Agreed for the reasons given."):
        with acting_as(head):
            return services.exemption_decide(
                exemption=exemption, approve=True, reasons=note, by=head
            )

    def issue(exemption, **terms):
        with acting_as(head):
            return services.agreement_issue(exemption=exemption, by=head, **terms)

    medical_learner = learners[0]
    medical = request(
        Exemption.Kind.LEARNER_EXCEPTIONAL,
        medical_learner,
        phone,
        "Type 1 diabetes: her glucose sensor reports to an app on her phone, which alerts her "
        "and her parents to a low reading (medical condition plan).",
        300,
        teacher,
        reason_kind=Exemption.ReasonKind.MEDICAL_PLAN,
        review_in=90,
    )
    approve(medical, "Medical monitoring, as her care plan sets out.")
    agreement = issue(
        medical,
        permitted_use="The glucose monitoring app only, to read and respond to alerts.",
        where="Classroom, playground and lunch hall; the phone stays with the teacher on trips.",
        when="Throughout the school day.",
        expectations="The phone stays on silent in her tray; no camera, messages or other "
        "apps; staff may check it is used only for the app.",
        sanctions="Use beyond the app is discussed with her parents and the arrangement "
        "reviewed; the phone may be kept by the teacher for the rest of the day.",
    )
    _sign_all(agreement, context=context, parent=medical_learner.parents_carers.first())

    carer = request(
        Exemption.Kind.LEARNER_EXCEPTIONAL,
        learners[1],
        phone,
        "Young carer: his mother may need to reach him about his younger sister's care.",
        120,
        teacher,
        reason_kind=Exemption.ReasonKind.YOUNG_CARER,
        review_in=60,
    )
    with acting_as(head):
        services.exemption_decide(
            exemption=carer,
            approve=False,
            reasons="The office will take calls for him and pass messages at once, which "
            "meets the need without a phone in class (section 6).",
            by=head,
        )
    request(
        Exemption.Kind.LEARNER_EXCEPTIONAL,
        learners[2],
        watch,
        "Epilepsy: a seizure-alert smart watch that notifies her parents.",
        200,
        office,
        reason_kind=Exemption.ReasonKind.MEDICAL_PLAN,
        review_in=100,
    )

    emergency = request(
        Exemption.Kind.STAFF_TEACHING_TIME,
        staff_pool[0],
        phone,
        "A close relative is in hospital; the family may call during the day this week.",
        9,
        dsl,
    )
    approve(emergency, "Agreed for the week; keep it on silent and step out to answer.")
    issue(
        emergency,
        permitted_use="Receiving calls from the hospital or family about the relative.",
        where="Out of sight of pupils: the staff room or the corridor.",
        when="Until the end date, during teaching time.",
        expectations="Phone on silent and out of sight; another adult covers while away.",
        sanctions="Breaches are dealt with under the staff code of conduct.",
    )

    remote = request(
        Exemption.Kind.STAFF_REMOTE_LEARNING,
        staff_pool[1],
        _category("Tablet"),
        "Remote lessons for a pupil at home after surgery; no school laptop is free.",
        30,
        dsl,
    )
    with acting_as(dsl):
        services.risk_assessment_record(
            exemption=remote,
            hazards="Pupil images stored on a personal device; contact outside the platform.",
            controls="Only the school's platform, logged in with the school account; no "
            "recording; no personal contact details shared; device passcode on.",
            by=dsl,
        )

    revoked = request(
        Exemption.Kind.STAFF_TEACHING_TIME,
        staff_pool[2],
        phone,
        "Waiting for a call about a house move.",
        5,
        dsl,
    )
    approve(revoked)
    with acting_as(head):
        services.exemption_revoke(
            exemption=revoked,
            reason="No longer needed: the call came before school.",
            by=head,
        )

    made = 6
    if social_worker is not None:
        visit_use = request(
            Exemption.Kind.VISITOR_WITH_LEARNERS,
            social_worker,
            phone,
            "Multi-agency work: records the meeting notes on a council phone while meeting "
            "a learner with the DSL.",
            10,
            office,
        )
        approve(visit_use, "Agreed for meetings with the DSL present.")
        agreement = issue(
            visit_use,
            permitted_use="Typing meeting notes into the council's case app; no photos or "
            "recordings.",
            where="The family room, with the DSL present.",
            when="During planned meetings until the end date.",
            expectations="Phone away at all other times on site.",
            sanctions="Permission ends and the council's manager is told.",
        )
        _sign_all(agreement, context=context)
        made += 1
    return made


def seed(context: DemoContext) -> str:
    acknowledgements = _acknowledgements(context)
    devices = _school_devices(context)
    hand_ins = _hand_ins(context)
    confiscations = _confiscations(context)
    exemptions = _exemptions(context)
    from devices import demo_reception

    reception = demo_reception.seed(context)
    return (
        f"Devices demo: {acknowledgements} acknowledgements, {devices} school devices, "
        f"{hand_ins} hand-ins, {confiscations} confiscations, {exemptions} exemptions made. "
        f"{reception}"
    )
