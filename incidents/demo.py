"""Demo incidents in every state, made through the transition functions: a new report, one
triaged, one under investigation, one awaiting its debrief, and a closed one with a search,
a referral, parents told and a debrief with its actions.

Registered with compliance's `seed_demo`. Safe to run again: made once, when no incident
exists yet.
"""

from __future__ import annotations

import datetime

from compliance.demo import DemoContext, acting_as
from compliance.models import FormClass, LinkedPolicy, StaffMember, Visitor
from devices import services as device_services
from devices.models import DeviceCategory
from incidents import concerns, services
from incidents.models import (
    Category,
    Incident,
    Involvement,
    Location,
    LowLevelConcern,
    Referral,
    Search,
)

Part = Involvement.Part


def _report(context, by, *, category, location, account, people, hours_ago, policies=()):
    # reports are made now (the time of a report is the system's, never typed); what
    # happened was earlier
    with acting_as(by):
        return services.incident_report(
            occurred_at=context.now - datetime.timedelta(hours=hours_ago),
            location=Location.objects.get(name=location),
            category=category,
            account=account,
            people=people,
            policies=LinkedPolicy.objects.filter(name__in=policies),
            by=by,
        )


def seed(context: DemoContext) -> str:
    if Incident.objects.exists():
        return "Incidents demo: 0 incidents made."
    dsl, head, teacher, office = (context.users[n] for n in ("dsl", "head", "teacher", "office"))
    learners = list(FormClass.objects.get(name="3A").learners.order_by("last_name")[:6])
    staff_member = StaffMember.objects.filter(staff_type="support", user__isnull=True).first()
    contractor = Visitor.objects.filter(visitor_type="contractor").first()
    now = context.now

    # 1. The journey the product exists for, closed: photos of pupils taken in a classroom.
    closed = _report(
        context,
        teacher,
        category=Category.UNAUTHORISED_RECORDING,
        location="Classroom",
        account="During the art lesson I saw a pupil holding a phone up and taking photos of "
        "other pupils while they worked. The phone had not been handed in that morning.",
        people=[
            services.Person(part=Part.SUBJECT, learner=learners[0]),
            services.Person(part=Part.AFFECTED, learner=learners[1]),
            services.Person(part=Part.WITNESS, staff=StaffMember.objects.get(user=teacher)),
        ],
        hours_ago=6,
        policies=["Behaviour for learning and conduct policy"],
    )
    with acting_as(dsl):
        services.incident_triage(incident=closed, by=dsl)
        services.incident_start_investigation(incident=closed, by=dsl)
        parent = learners[0].parents_carers.first()
        taken = device_services.confiscation_record(
            learner=learners[0],
            category=DeviceCategory.objects.get(name="Mobile phone"),
            description="Blue phone in a clear case",
            reason="Photos of pupils taken in class; kept for the search.",
            stored_where="DSL's office, locked drawer",
            taken_by=StaffMember.objects.get(user=dsl),
            by=dsl,
            taken_at=now - datetime.timedelta(hours=5),
        )
        services.search_record(
            incident=closed,
            learner=learners[0],
            device="Blue phone in a clear case",
            searched_at=now,
            place="DSL's office",
            led_by=dsl,
            second_staff=StaffMember.objects.get(user=head),
            grounds="Seen taking photos of other pupils in class.",
            sought="Photos or videos of pupils taken today.",
            consent_by=Search.ConsentBy.PARENT_CARER,
            consent_parent=parent,
            consent_how="By phone, before the search",
            found="Four photos of two pupils at their tables.",
            deletion=Search.Deletion.DELETED,
            deletion_reason="Images of other pupils taken without consent (behaviour policy).",
            outcome=Search.Outcome.RETAINED,
            confiscation=taken,
            parents_told_at=now,
            by=dsl,
        )
        device_services.confiscation_return(
            confiscation=taken, returned_to=f"{parent.full_name}, at the office", by=dsl
        )
        services.parent_contact_record(
            incident=closed,
            parent=parent,
            how="phone",
            summary="What happened, the search and what was deleted; the phone to be collected.",
            by=dsl,
        )
        affected_parent = learners[1].parents_carers.first()
        services.parent_contact_record(
            incident=closed,
            parent=affected_parent,
            how="in_person",
            summary="Photos of their child were taken and have been deleted.",
            by=dsl,
        )
        services.referral_record(
            incident=closed,
            agency=Referral.Agency.ESS,
            contact="Education Safeguarding Service duty line",
            advice="Handle under the behaviour policy; remind the class of the phone rules.",
            by=dsl,
        )
        services.incident_ready_for_debrief(incident=closed, by=dsl)
        services.debrief_record(
            incident=closed,
            held_on=context.today,
            attendees=list(StaffMember.objects.filter(user__in=[dsl, head])),
            lessons="The phone was not handed in: the register showed no device that day.",
            policy_changes="Remind parents that phones are handed in at the start of the day.",
            actions=[
                services.Action(
                    description="Letter to parents about handing phones in (section 6).",
                    owner=StaffMember.objects.get(user=head),
                    due=context.today + datetime.timedelta(days=14),
                )
            ],
            by=dsl,
        )
        services.incident_close(incident=closed, by=dsl)

    # 2. Awaiting debrief: an abusive message between pupils, parents told.
    debrief = _report(
        context,
        office,
        category=Category.ABUSIVE_MESSAGE,
        location="Online, off site",
        account="A parent rang the office: their child was sent unkind messages by a classmate "
        "in a group chat last night.",
        people=[
            services.Person(part=Part.AFFECTED, learner=learners[2]),
            services.Person(part=Part.SUBJECT, learner=learners[3]),
        ],
        hours_ago=30,
        policies=["Anti-bullying policy"],
    )
    with acting_as(dsl):
        services.incident_triage(incident=debrief, category=Category.CYBERBULLYING, by=dsl)
        services.incident_start_investigation(incident=debrief, by=dsl)
        services.note_add(
            incident=debrief, text="Spoke with both pupils separately; both agree.", by=dsl
        )
        services.parents_not_told(
            incident=debrief,
            reason="Both families already know: the affected family raised it, the other "
            "was told by the class teacher at pick-up (recorded here for completeness).",
            by=dsl,
        )
        services.incident_ready_for_debrief(incident=debrief, by=dsl)

    # 3. Investigating: a contractor's phone used near pupils; head told (staff matters).
    investigating = _report(
        context,
        teacher,
        category=Category.VISITOR_MISUSE,
        location="Playground",
        account="A contractor working on the fence was on a video call on his phone facing "
        "the playground at break.",
        people=[services.Person(part=Part.SUBJECT, visitor=contractor)] if contractor else [],
        hours_ago=20,
    )
    with acting_as(dsl):
        services.incident_triage(incident=investigating, by=dsl)
        services.incident_start_investigation(incident=investigating, by=dsl)

    # 4. Triaged: a member of staff's personal phone used to message a parent.
    triaged = _report(
        context,
        teacher,
        category=Category.STAFF_PERSONAL_CONTACT,
        location="Staff room",
        account="A parent showed me a message from a colleague's personal number about "
        "tomorrow's trip.",
        people=[services.Person(part=Part.SUBJECT, staff=staff_member)] if staff_member else [],
        hours_ago=4,
        policies=["Code of conduct policy"],
    )
    with acting_as(head):
        services.incident_triage(incident=triaged, by=head)

    # 5. A new report, not yet triaged.
    _report(
        context,
        teacher,
        category=Category.RESTRICTED_AREA,
        location="Classroom",
        account="A smart watch buzzed during the maths test; the pupil read a message on it.",
        people=[services.Person(part=Part.SUBJECT, learner=learners[4])],
        hours_ago=1,
    )
    return "Incidents demo: 5 incidents made (reported, triaged, investigating, debrief, closed)."


def seed_concerns(context: DemoContext) -> str:
    """Low-level concerns about staff in each state: new, with the staff member's response,
    with its outcome (two about the same person, so the pattern view marks them), and one
    escalated to an allegation. Made once, when no concern exists yet."""
    if LowLevelConcern.objects.exists():
        return "Low-level concerns demo: 0 concerns made."
    dsl, head, teacher, office = (context.users[n] for n in ("dsl", "head", "teacher", "office"))
    # staff without a login: none of them is the headteacher, the DSL or a demo login
    staff = list(
        StaffMember.objects.filter(active=True, user__isnull=True).order_by("last_name", "pk")[:3]
    )
    if len(staff) < 3:
        return "Low-level concerns demo: not enough staff."
    first, second, third = staff
    hall = Location.objects.get(name="Lunch hall")
    playground = Location.objects.get(name="Playground")

    def raise_(by, about, where, account, days_ago):
        with acting_as(by):
            return concerns.concern_raise(
                staff=about,
                occurred_at=context.now - datetime.timedelta(days=days_ago),
                location=where,
                account=account,
                by=by,
            )

    closed = raise_(
        teacher,
        first,
        hall,
        "At the Harvest celebration in the hall I saw them take photos of the children on their "
        "own phone, not the school camera.",
        40,
    )
    with acting_as(head):
        concerns.concern_record_response(
            concern=closed,
            response="Said they meant to send them to the office for the newsletter and did "
            "not think; showed the photos deleted.",
            by=head,
        )
        concerns.concern_record_outcome(
            concern=closed,
            outcome=LowLevelConcern.Outcome.SPOKEN_TO,
            detail="Reminded of section 5 and the code of conduct: school devices only for "
            "photos of pupils. Photos seen deleted.",
            by=head,
        )
    raise_(
        office,
        first,
        playground,
        "Saw them filming pupils' football practice on a personal phone at lunchtime.",
        2,
    )
    responded = raise_(
        teacher,
        second,
        playground,
        "Heard them tell a Year 5 pupil to message them about the club on their own number.",
        5,
    )
    with acting_as(dsl):
        concerns.concern_record_response(
            concern=responded,
            response="Says it was the club's group number, not theirs; will check and come back.",
            by=dsl,
        )
    escalated = raise_(
        office,
        third,
        hall,
        "A parent says a staff member has been sending their child private messages on "
        "social media in the evenings.",
        1,
    )
    with acting_as(head):
        concerns.concern_escalate(
            concern=escalated,
            category=Category.STAFF_PERSONAL_CONTACT,
            reason="Private messages to a pupil out of hours: this may meet the harm threshold.",
            by=head,
        )
    return "Low-level concerns demo: 4 concerns made (open, responded, closed, escalated)."
