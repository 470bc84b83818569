"""Demo records for filtering and monitoring and for the guidance each policy version follows.

The named senior leader and governor; last year's annual review with its actions (one done,
one open); decisions to block and allow (one reversed); monitoring alerts in every outcome and
two awaiting the DSL; the guidance each seeded version follows (the current one still follows
the February 2024 phone guidance, so the review screen shows the January 2026 edition as a
reason to review); and when the current version was told to staff and parents (pupils not
yet). Registered with `seed_demo` (compliance.demo). Safe to run again: each part is made
once, when none of its records exist. Made through the services, so the history is real.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from compliance import filtering as fm
from compliance import review_services as rs
from compliance.demo import DemoContext, acting_as
from compliance.models import (
    FilterDecision,
    FilteringReview,
    Learner,
    MonitoringAlert,
    PolicyCommunication,
    PolicyVersion,
    School,
    StaffMember,
    StaffType,
)
from compliance.selectors import current_policy

# what each seeded version (numbered by year) follows: KCSIE, phones, filtering standards
FOLLOWS = {
    "2021": ("2021", "", ""),
    "2022": ("2022", "", ""),
    "2023": ("2023", "", "2023"),
    "2024": ("2024", "2024-02", "2023"),
    "2025": ("2025", "2024-02", "2023"),
}
LATEST = ("2025", "2024-02", "2023")
SYSTEM = "Smoothwall Monitor"


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _staff_of(user) -> StaffMember | None:
    return StaffMember.objects.filter(user=user).first() if user else None


def _guidance(ctx: DemoContext, dsl) -> str:
    versions = PolicyVersion.objects.filter(
        follows_kcsie="", follows_phone_guidance="", follows_filtering_standards=""
    ).order_by("date_written")
    named = 0
    with acting_as(dsl):
        for version in versions:
            kcsie, phones, filtering = FOLLOWS.get(version.number, LATEST)
            version.follows_kcsie = kcsie
            version.follows_phone_guidance = phones
            version.follows_filtering_standards = filtering
            version.save()
            named += 1
    return f"guidance for {named} versions" if named else ""


def _communications(ctx: DemoContext, dsl) -> str:
    policy = current_policy()
    if policy is None or PolicyCommunication.objects.filter(policy_version=policy).exists():
        return ""
    told = policy.adopted or policy.date_written
    with acting_as(dsl):
        for audience, method, days, note in (
            ("staff", "meeting", 0, "Staff meeting: the key points and the hand-in routine."),
            ("staff", "email", 1, "The policy and the AUP by email."),
            ("parents", "newsletter", 7, "Newsletter: phones handed in each morning."),
            ("parents", "website", 7, "The policy on the school website."),
        ):
            day = min(told + datetime.timedelta(days=days), ctx.today)
            rs.communication_record(
                by=dsl,
                policy_version=policy,
                audience=audience,
                communicated_on=day,
                method=method,
                note=note,
            )
    return "the current version told to staff and parents (pupils not yet)"


def seed(ctx: DemoContext) -> str:
    dsl, head = ctx.users.get("dsl"), ctx.users.get("head")
    if dsl is None:
        return "Filtering demo: skipped (no DSL login)."
    made = [part for part in (_guidance(ctx, dsl), _communications(ctx, dsl)) if part]
    leader = _staff_of(head) or _staff_of(dsl)
    school = School.current()
    if school is not None and school.filtering_senior_leader_id is None:
        governor = (
            StaffMember.objects.filter(staff_type=StaffType.GOVERNOR, active=True)
            .exclude(pk=school.safeguarding_lead_governor_id)
            .order_by("pk")
            .first()
        ) or school.safeguarding_lead_governor
        with acting_as(dsl):
            school.filtering_senior_leader = leader
            school.filtering_governor = governor
            school.version += 1
            school.save()
        made.append("the named senior leader and governor")

    if not FilteringReview.objects.exists() and leader is not None:
        school = School.current()
        day = ctx.today - datetime.timedelta(days=300)
        people = [p for p in (_staff_of(dsl), leader, school and school.filtering_governor) if p]
        with acting_as(dsl):
            fm.filtering_review_record(
                by=dsl,
                reviewed_on=day,
                participants=people,
                other_participants="The school's IT provider",
                what_tested="Test sites for each blocked category on a pupil tablet, a staff "
                "laptop and the guest wifi; a monitoring alert raised on purpose reached the DSL "
                "within the hour; the filter's reports for the term.",
                findings="Filtering worked on every school device. The guest wifi let through "
                "one proxy site. Alerts reach the DSL only by email, not when she is away.",
                actions=[
                    {
                        "description": "Block proxy and VPN sites on the guest wifi.",
                        "owner": leader,
                        "due": day + datetime.timedelta(days=14),
                    },
                    {
                        "description": "Send monitoring alerts to a deputy DSL as well.",
                        "owner": _staff_of(dsl) or leader,
                        "due": ctx.today + datetime.timedelta(days=30),
                    },
                ],
            )
            first = fm.review_actions(FilteringReview.objects.get()).order_by("due").first()
            rs.action_close(action=first, by=dsl, status="done")
        made.append("last year's annual review with its actions")

    if not FilterDecision.objects.exists() and leader is not None:
        start = ctx.today - datetime.timedelta(days=290)
        with acting_as(dsl):
            fm.filter_decision_record(
                by=dsl,
                target="category",
                what="Proxies and VPNs",
                action="block",
                reason="Found open on the guest wifi at the annual review.",
                decided_by=leader,
                decided_on=start,
            )
            blocked = fm.filter_decision_record(
                by=dsl,
                target="site",
                what="https://www.bbc.co.uk/bitesize",
                action="block",
                reason="Blocked with the video category by the supplier's update.",
                decided_by=leader,
                decided_on=start + datetime.timedelta(days=20),
            )
            fm.filter_decision_record(
                by=dsl,
                action="allow",
                reason="Needed for homework and lessons; the videos are checked by the BBC.",
                decided_by=leader,
                decided_on=start + datetime.timedelta(days=22),
                reverses=blocked,
            )
            fm.filter_decision_record(
                by=dsl,
                target="category",
                what="Generative AI chat",
                action="block",
                reason="Not age-appropriate for primary pupils without supervision.",
                decided_by=leader,
                decided_on=start + datetime.timedelta(days=120),
            )
        made.append("decisions to block and allow")

    if not MonitoringAlert.objects.exists():
        learners = list(Learner.objects.filter(left__isnull=True).order_by("pk")[:4])
        alerts = [
            (
                200,
                "bullying",
                "learner",
                "Typed 'you are so stupid' in a shared document.",
                ("spoke_to", "Spoke to the pupil and the class teacher; apologised.", ""),
            ),
            (
                150,
                "bypass",
                "learner",
                "Searched 'how to get past school filter'.",
                ("spoke_to", "Talked about why the filter is there; parents told.", ""),
            ),
            (
                90,
                "sexual",
                "unknown",
                "Blocked image search on a shared tablet.",
                ("no_action", "A misspelt search for a lesson on animals.", ""),
            ),
            (
                40,
                "self_harm",
                "learner",
                "Searched for ways to hurt yourself.",
                ("incident", "Child protection procedures followed.", "INC-2026-DEMO01"),
            ),
            (2, "violence", "learner", "Searched for knives to buy.", None),
            (1, "other", "guest", "Gaming site attempts on the guest wifi.", None),
        ]
        with acting_as(dsl):
            for index, (days, kind, subject, summary, review) in enumerate(alerts):
                learner = (
                    learners[index % len(learners)] if subject == "learner" and learners else None
                )
                alert = fm.alert_record(
                    by=dsl,
                    raised_at=_at(ctx.today - datetime.timedelta(days=days), 11),
                    system=SYSTEM,
                    kind=kind,
                    subject=subject,
                    learner=learner,
                    device=f"TAB-{index + 1:03d}",
                    summary=summary,
                )
                if review is not None:
                    outcome, note, reference = review
                    fm.alert_review(
                        alert=alert,
                        by=dsl,
                        outcome=outcome,
                        note=note,
                        incident_reference=reference,
                    )
        made.append("monitoring alerts, two awaiting the DSL")

    return "Filtering demo: " + (", ".join(made) if made else "already there") + "."
