"""seed_demo: the demo school, made twice without duplicates, with working demo logins.

Each full seed takes a few seconds, so the module seeds three times in all: twice in the
idempotence test, once in the shape test.
"""

import datetime
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import RequestFactory, override_settings
from django.utils import timezone

from compliance.management.commands.seed_demo import school_year_start
from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    PolicyVersion,
    School,
    StaffMember,
    StaffType,
    User,
    Visit,
    Visitor,
    YearGroup,
)
from compliance.roles import Role
from compliance.selectors import current_policy

DEMO_ROLES = {
    "dsl": {Role.DSL},
    "head": {Role.HEADTEACHER, Role.DEPUTY_DSL},
    "kcollens": {Role.HEADTEACHER, Role.DEPUTY_DSL},
    "deputy": {Role.DEPUTY_DSL},
    "srevell": {Role.DEPUTY_DSL},
    "governor": {Role.GOVERNOR},
    "office": {Role.OFFICE},
    "teacher": {Role.STAFF},
}
REQUIRED_LOGINS = ["dsl", "deputy", "head", "office", "teacher", "governor"]
# Logins are re-saved on every run (their passwords are reset), so User is compared by count.
DATA_MODELS = [School, PolicyVersion, StaffMember, FormClass, Learner, ParentCarer, Visitor, Visit]
LINKS = [FormClass.teachers.through, ParentCarer.learners.through, User.groups.through]


def seed() -> str:
    out = StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    """Every seeded row and link, and how many history rows each model has."""
    rows = {m.__name__: list(m.objects.order_by("pk").values()) for m in DATA_MODELS + LINKS}
    rows["users"] = list(User.objects.order_by("pk").values_list("pk", "username", "is_active"))
    history = {m.__name__: m.history.count() for m in DATA_MODELS}
    return {"rows": rows, "history": history}


def test_refuses_without_debug():
    assert not settings.DEBUG  # pytest-django runs tests with DEBUG off
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())


@pytest.mark.django_db
def test_second_run_duplicates_nothing_and_resets_passwords():
    seed()
    first = snapshot()
    dsl = User.objects.get(username="dsl")
    dsl.set_password("changed-by-someone-in-the-demo")
    dsl.save()

    out = seed()

    assert snapshot() == first  # same rows, same links, and no new history rows
    assert "0 rows created, 0 updated, 8 demo passwords reset" in out
    for username, roles in DEMO_ROLES.items():
        user = User.objects.get(username=username)
        assert user.roles == roles, username
        assert user.staff_member.mis_id, username
    for username in REQUIRED_LOGINS:
        # the lockout backend (django-axes) checks every login against its request
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=username, password=settings.DEMO_PASSWORD)
        assert user is not None and user.username == username


@pytest.mark.django_db
def test_demo_school_shape():
    # A login left over with a demo username (e.g. from createsuperuser) is taken over.
    stray = User.objects.create_user("office", password="something-else-entirely")

    out = seed()

    today = timezone.localdate()
    school = School.objects.get()
    assert school.name == "Victoria Road Primary School"
    assert school.local_authority == "Kent County Council"
    governor = school.safeguarding_lead_governor
    assert (governor.full_name, governor.staff_type) == ("Barbara Saltmarsh", StaffType.GOVERNOR)

    policy = current_policy()
    assert policy.next_review > today and not policy.review_overdue
    assert policy.date_written < today - datetime.timedelta(days=60)
    original = PolicyVersion.objects.get(number="2021")
    assert (original.date_written, original.adopted, original.next_review) == (
        datetime.date(2021, 11, 1),
        datetime.date(2021, 11, 15),
        datetime.date(2022, 11, 1),
    )

    staff = StaffMember.objects.order_by("mis_id")
    assert staff.count() == 60
    assert staff.first().mis_id == "S0001" and staff.last().mis_id == "S0060"
    assert {s.staff_type for s in staff} == set(StaffType.values) - {StaffType.OTHER}
    dsl = StaffMember.objects.get(user__username="dsl")
    assert (dsl.full_name, dsl.job_title) == ("Alice Hawksley", "Inclusion Manager")
    assert StaffMember.objects.get(user__username="office").user_id == stray.pk

    classes = FormClass.objects.annotate(
        on_roll=Count("learners", filter=Q(learners__left__isnull=True), distinct=True),
        teacher_count=Count("teachers", distinct=True),
    ).order_by("name")
    assert len(classes) == 14
    assert {c.name for c in classes} == {f"{y}{x}" for y in YearGroup.values for x in "AB"}
    for form_class in classes:
        assert form_class.on_roll == 30, form_class
        assert form_class.teacher_count in (1, 2), form_class
        teachers = form_class.teachers.all()
        assert all(t.staff_type == StaffType.TEACHING for t in teachers), form_class
    teacher = User.objects.get(username="teacher").staff_member
    assert [c.name for c in teacher.form_classes.all()] == ["3A"]

    start = school_year_start(today)
    learners = Learner.objects.select_related("form_class").order_by("mis_id")
    assert 400 <= len(learners) <= 440
    assert not learners.filter(parents_carers__isnull=True).exists()
    leavers = [x for x in learners if x.left is not None]
    assert 1 <= len(leavers) <= 10 and all(x.left < today for x in leavers)
    for learner in learners:
        assert len(learner.mis_id) == 13 and learner.mis_id.startswith("A"), learner
        assert learner.date_of_birth < learner.joined <= today, learner
        if learner.left is None:
            assert learner.form_class.year_group == learner.year_group, learner
            born = learner.date_of_birth
            age = start.year - born.year - ((start.month, start.day) < (born.month, born.day))
            index = YearGroup.values.index(learner.year_group)
            assert age in (4 + index, 5 + index), learner
    families = ParentCarer.objects.annotate(n=Count("learners")).filter(n__gt=1)
    assert families.exists()  # siblings share their parents
    for parent in ParentCarer.objects.all():
        assert parent.email.endswith("@example.com"), parent
        assert parent.phone.startswith(("01632 960", "07700 900")), parent

    seeded = Learner.history.filter(history_type="+", history_change_reason="seed_demo")
    assert seeded.count() == len(learners)
    assert ParentCarer.history.filter(history_change_reason="seed_demo").exists()

    assert 10 <= Visitor.objects.count() <= 16
    on_site = Visit.objects.filter(left__isnull=True)
    # two from the visitor log, and two the reception desk signed in this morning
    assert 2 <= on_site.count() <= 4
    assert Visit.objects.filter(left__isnull=False, left__lt=timezone.now()).count() > 10

    summary, heading, *rest = out.splitlines()
    assert "14 classes" in summary and "420 learners on roll" in summary
    assert settings.DEMO_PASSWORD in heading
    # the table of logins, then one summary line from each higher app's demo records
    table = rest[: len(DEMO_ROLES) + 1]
    assert [line.split()[0] for line in table[1:]] == list(DEMO_ROLES)
