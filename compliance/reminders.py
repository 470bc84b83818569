"""Daily reminders (`python manage.py send_reminders`, run by cron each morning).

Each app registers `Reminder`s (compliance here; devices and incidents from their
AppConfig.ready(), so compliance never imports them). A reminder's `collect(today)` returns,
for each login that should hear about it, the lines to send: counts, references and links,
never a child's name or a person's account (DESIGN: emails carry references and links).

Each login gets at most one email a day, holding every reminder not yet sent to them that
day; `ReminderSent` records (day, login, reminder) under a unique constraint, so running the
command twice on a day sends nothing twice, and two runs at once cannot both send.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from compliance.models import (
    ActionPlanItem,
    LinkedPolicy,
    RelationshipDeclaration,
    ReminderSent,
    School,
    StaffMember,
    User,
)
from compliance.roles import Role
from compliance.selectors import acknowledgements_in_force, current_policy

Lines = dict[int, list[str]]  # login id -> the lines for them


@dataclass(frozen=True)
class Reminder:
    key: str  # recorded in ReminderSent: lower-case, stable
    title: str  # the heading of its part of the email
    collect: Callable[[datetime.date], Lines]
    order: int = 100


_REMINDERS: dict[str, Reminder] = {}


def register_reminder(reminder: Reminder) -> None:
    _REMINDERS[reminder.key] = reminder


def reminders() -> list[Reminder]:
    return sorted(_REMINDERS.values(), key=lambda r: (r.order, r.key))


def link(name: str, *args, query: str = "") -> str:
    """An absolute link for an email (SITE_URL + the page)."""
    url = settings.SITE_URL.rstrip("/") + reverse(name, args=args)
    return f"{url}?{query}" if query else url


def holders(*roles: Role) -> list[int]:
    """Active logins holding any of these roles."""
    return list(
        User.objects.filter(is_active=True, groups__name__in=roles)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")
    )


def to_roles(roles: Iterable[Role], lines: list[str]) -> Lines:
    return {pk: list(lines) for pk in holders(*roles)} if lines else {}


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# Compliance's own reminders.

REVIEW_WARNING_DAYS = 30


def _review_due(today: datetime.date) -> Lines:
    """The policy's review (and linked policies' reviews): the DSL and head from a month
    before; governors too once it is overdue."""
    policy = current_policy()
    lines: list[str] = []
    overdue = False
    if policy is not None and policy.next_review <= today + datetime.timedelta(REVIEW_WARNING_DAYS):
        overdue = policy.next_review < today
        state = "was due" if overdue else "is due"
        lines.append(
            f"The policy review {state} on {policy.next_review:%d/%m/%Y} ({policy}): "
            f"{link('compliance:policy_detail')}"
        )
    linked = LinkedPolicy.objects.filter(next_review__lt=today).count()
    leads = list(lines)
    if linked:
        leads.append(
            f"{plural(linked, 'linked policy', 'linked policies')} past the review date: "
            f"{link('compliance:policy_detail')}"
        )
    found = to_roles((Role.DSL, Role.HEADTEACHER), leads)
    if overdue:
        for pk in holders(Role.GOVERNOR):
            found.setdefault(pk, []).extend(lines)
    return found


def _actions_overdue(today: datetime.date) -> Lines:
    """Overdue actions: the count to the DSL, deputies and head; each owner their own count."""
    overdue = ActionPlanItem.objects.filter(status=ActionPlanItem.Status.OPEN, due__lt=today)
    total = overdue.count()
    found = to_roles(
        (Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER),
        [f"{plural(total, 'action')} on the action plan overdue: {link('compliance:actions_list')}"]
        if total
        else [],
    )
    owners = (
        overdue.filter(owner__user__is_active=True)
        .values("owner__user")
        .annotate(n=Count("pk"))
        .order_by("owner__user")
    )
    for row in owners:
        found.setdefault(row["owner__user"], []).append(
            f"{plural(row['n'], 'action')} you own on the action plan overdue: "
            f"{link('compliance:actions_list')}"
        )
    return found


def _acknowledgements_due(today: datetime.date) -> Lines:
    """Each member of staff with a login who has yet to acknowledge the policy in force or
    the acceptable use policy."""
    if current_policy() is None:
        return {}
    from compliance.models import Acknowledgement

    policy = acknowledgements_in_force(Acknowledgement.Kind.POLICY).filter(staff=OuterRef("pk"))
    aup = Acknowledgement.objects.filter(staff=OuterRef("pk"), kind=Acknowledgement.Kind.AUP)
    staff = (
        StaffMember.objects.filter(active=True, user__is_active=True)
        .annotate(policy=Exists(policy), aup=Exists(aup))
        .filter(Q(policy=False) | Q(aup=False))
        .values_list("user", "policy", "aup")
        .order_by("user")
    )
    found: Lines = {}
    for user, has_policy, has_aup in staff:
        missing = []
        if not has_policy:
            missing.append("the Mobile and Smart Technology Policy")
        if not has_aup:
            missing.append("the acceptable use policy")
        found[user] = [
            f"Please read and acknowledge {' and '.join(missing)}: {link('compliance:policy_read')}"
        ]
    return found


def _relationships(today: datetime.date) -> Lines:
    """Declarations awaiting discussion (DSL and head); declarations to re-confirm since the
    last review (the member of staff who made them)."""
    from compliance.relationship_services import last_review_at, to_reconfirm

    Status = RelationshipDeclaration.Status
    awaiting = RelationshipDeclaration.objects.filter(status=Status.DECLARED).count()
    found = to_roles(
        (Role.DSL, Role.HEADTEACHER),
        [
            f"{plural(awaiting, 'pre-existing relationship declaration')} awaiting discussion: "
            f"{link('compliance:relationship_list', query='status=declared')}"
        ]
        if awaiting
        else [],
    )
    since = last_review_at()
    if since is not None:
        mine = (
            to_reconfirm(RelationshipDeclaration.objects.all(), since)
            .filter(staff__user__is_active=True)
            .values("staff__user")
            .annotate(n=Count("pk"))
            .order_by("staff__user")
        )
        for row in mine:
            found.setdefault(row["staff__user"], []).append(
                f"{plural(row['n'], 'declaration')} of a pre-existing relationship to confirm "
                f"since the policy was reviewed: {link('compliance:relationship_mine')}"
            )
    return found


def register() -> None:
    for reminder in (
        Reminder("review_due", "Policy review", _review_due, order=10),
        Reminder("actions_overdue", "Action plan", _actions_overdue, order=20),
        Reminder("acknowledgements_due", "Acknowledgements", _acknowledgements_due, order=30),
        Reminder("relationships", "Pre-existing relationships", _relationships, order=40),
    ):
        register_reminder(reminder)


# Sending.


@dataclass
class RunSummary:
    day: datetime.date
    emails: int = 0
    reminders: int = 0
    already_sent: int = 0
    no_email: int = 0

    def __str__(self) -> str:
        return (
            f"Reminders for {self.day:%d/%m/%Y}: {plural(self.emails, 'email')} sent "
            f"({plural(self.reminders, 'reminder')}), {self.already_sent} already sent today, "
            f"{plural(self.no_email, 'login')} with reminders but no email address."
        )


def _body(school: School | None, parts: list[tuple[Reminder, list[str]]]) -> str:
    lines = [f"Reminders from {school.name if school else 'the school'}'s safeguarding system.", ""]
    for reminder, reminder_lines in parts:
        lines.append(reminder.title)
        lines.extend(f"- {line}" for line in reminder_lines)
        lines.append("")
    lines += [
        "Log in to see the detail. This email holds no names and no account, by design. "
        "Do not forward it."
    ]
    return "\n".join(lines)


def send_reminders(*, today: datetime.date, dry_run: bool = False, out=None) -> RunSummary:
    """Collect every registered reminder and email each login once for the day."""
    summary = RunSummary(day=today)
    wanted: dict[int, list[tuple[Reminder, list[str]]]] = {}
    for reminder in reminders():
        for user_pk, lines in reminder.collect(today).items():
            if lines:
                wanted.setdefault(user_pk, []).append((reminder, lines))
    users = User.objects.in_bulk(list(wanted))
    school = School.current()
    for user_pk in sorted(wanted):
        user = users.get(user_pk)
        if user is None or not user.is_active:
            continue
        if not user.email:
            summary.no_email += 1
            continue
        if dry_run:
            parts = wanted[user_pk]
            if out is not None:
                out.write(f"would send to login #{user_pk}: {', '.join(r.key for r, _ in parts)}")
            continue
        with transaction.atomic():
            parts = []
            for reminder, lines in wanted[user_pk]:
                _, created = ReminderSent.objects.get_or_create(
                    day=today, recipient=user, key=reminder.key
                )
                if created:
                    parts.append((reminder, lines))
                else:
                    summary.already_sent += 1
            if not parts:
                continue
            # inside the transaction: if sending fails, nothing is recorded and the next
            # run tries again; once recorded, no later run that day sends it again
            send_mail(
                f"Reminders for {today:%d/%m/%Y}",
                _body(school, parts),
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
                fail_silently=False,
            )
        summary.emails += 1
        summary.reminders += len(parts)
    return summary
