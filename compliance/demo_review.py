"""Demo records for the review side of compliance: last year's review signed off, training,
monitoring checks, actions open, done and overdue, and last year's summary of lessons learnt.

Registered with `seed_demo` (compliance.demo). Safe to run again: each part is made once,
when none of its records exist yet. Made through compliance.review_services, so the
history is real.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from compliance import review_services as rs
from compliance.demo import DemoContext, acting_as
from compliance.models import (
    ActionPlanItem,
    AnnualReportSummary,
    LinkedPolicy,
    MonitoringCheck,
    PolicyReview,
    PolicyVersion,
    StaffMember,
    TrainingSession,
)


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _staff_of(user) -> StaffMember | None:
    return StaffMember.objects.filter(user=user).first() if user else None


def seed(ctx: DemoContext) -> str:
    dsl, head, governor = (ctx.users.get(name) for name in ("dsl", "head", "governor"))
    if dsl is None or governor is None:
        return "Review demo: skipped (no DSL or governor login)."
    made = []
    this_year = rs.school_year_start(ctx.today)
    last_year = this_year.replace(year=this_year.year - 1)
    owner = _staff_of(dsl) or StaffMember.objects.filter(active=True).first()

    # the register of linked policies (section 2) is seeded by a migration: give each an
    # owner and a review date
    with acting_as(dsl):
        unowned = LinkedPolicy.objects.filter(owner__isnull=True).order_by("name")
        for index, linked in enumerate(unowned):
            linked.owner = owner
            linked.next_review = ctx.today + datetime.timedelta(days=60 + 30 * index)
            linked.save()

    if not PolicyReview.objects.exists():
        # the seeded versions since last September each came from a review: last year's
        # annual review is signed off by the governor; the latest awaits sign-off
        versions = list(
            PolicyVersion.objects.filter(date_written__gte=last_year).order_by("date_written")
        )
        for version in versions:
            latest = version == versions[-1]
            reviewed = version.adopted or version.date_written
            with acting_as(dsl):
                review = PolicyReview.objects.create(
                    trigger=(
                        PolicyReview.Trigger.GUIDANCE if latest else PolicyReview.Trigger.ANNUAL
                    ),
                    changes="Smart watches added to the devices handed in each morning; "
                    "reporting routes brought in line with updated national guidance.",
                    new_version=version,
                    reviewed_by=dsl,
                    reviewed_at=_at(min(reviewed, ctx.today)),
                    next_review=version.next_review,
                )
            if not latest:
                with acting_as(governor):
                    rs.review_sign_off(review=review, by=governor)
            made.append(f"a review for {version}")

    if not TrainingSession.objects.exists():
        staff = list(StaffMember.objects.filter(active=True).order_by("pk")[:30])
        with acting_as(dsl):
            for offset, topic, share in (
                (10, "Mobile and smart technology policy: induction", 1),
                (120, "Online safety and reporting concerns", 2),
                (250, "Searching, screening and confiscation", 3),
            ):
                day = last_year + datetime.timedelta(days=offset)
                if day <= ctx.today:
                    rs.training_record(by=dsl, held_on=day, topic=topic, attendees=staff[::share])
        made.append("training sessions")

    if not MonitoringCheck.objects.exists():
        with acting_as(dsl):
            for offset, what, findings in (
                (40, "Web filtering logs for school tablets", "No concerns."),
                (160, "Staff laptops: monitoring alerts", "Two alerts, both false positives."),
                (300, "Work phones: passcodes set", "One phone without a passcode; fixed."),
            ):
                day = last_year + datetime.timedelta(days=offset)
                if day <= ctx.today:
                    rs.monitoring_record(
                        by=dsl, checked_on=day, what_checked=what, findings=findings
                    )
        made.append("monitoring checks")

    if not ActionPlanItem.objects.exists() and owner is not None:
        lead = head or dsl
        with acting_as(dsl):
            done = rs.action_create(
                by=dsl,
                source="review",
                description="Update the hand-in poster for smart watches.",
                owner=owner,
                due=ctx.today - datetime.timedelta(days=120),
            )
            rs.action_close(action=done, by=dsl, status="done")
            rs.action_create(
                by=dsl,
                source="monitoring",
                description="Check passcodes on every work phone each term.",
                owner=owner,
                due=ctx.today - datetime.timedelta(days=10),
            )
            rs.action_create(
                by=dsl,
                source="debrief",
                description="Add a PSHE lesson on sharing images.",
                owner=_staff_of(lead) or owner,
                due=ctx.today + datetime.timedelta(days=45),
            )
        made.append("actions open, done and overdue")

    if not AnnualReportSummary.objects.filter(year_start=last_year).exists():
        with acting_as(dsl):
            rs.summary_save(
                by=dsl,
                year_start=last_year,
                text="Most incidents were devices used in restricted areas in the autumn term; "
                "the hand-in routine at the start of the day reduced them. Smart watches are "
                "now handed in. Staff training on reporting concerns is repeated each year.",
            )
        made.append("last year's summary")

    return "Review demo: " + (", ".join(made) if made else "already there") + "."
