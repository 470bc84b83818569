"""Seed the demo school: Victoria Road Primary School, its key contacts and fictional people.

Every row is looked up by a natural key (staff and learner MIS id, username, class name, policy
number, parent email, visitor name) and saved only when it is new or differs from the plan, so a
second run creates nothing, changes nothing and writes no history, except that it resets the demo
passwords. Rows are saved one at a time, never in bulk, so each gets its history row.

The plan comes from `random.Random(SEED)` and fixed name lists; dates are worked out from today,
so the demo never shows a stale policy review or a learner in the wrong year group.
"""

from __future__ import annotations

import datetime
import random
import re
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from compliance.demo import DemoContext, demo_seeders
from compliance.models import (
    FormClass,
    Learner,
    ParentCarer,
    PolicyVersion,
    Relationship,
    School,
    StaffMember,
    StaffType,
    User,
    Visit,
    Visitor,
    VisitorType,
    YearGroup,
)
from compliance.roles import Role
from compliance.services import staff_set_login

SEED = 2026
CHANGE_REASON = "seed_demo"
STAFF_EMAIL_DOMAIN = "victoriaroad.example.com"
CLASS_LETTERS = "AB"
LEARNERS_PER_CLASS = 30
TEACHER_CLASS = "3A"

# Ofcom's ranges for drama: 01632 960000-960999 and 07700 900000-900999 are never assigned.
# The school and its contacts use 01632 9600xx-9601xx; parents get the rest.
SCHOOL = {
    "name": "Victoria Road Primary School",
    "address": "Victoria Road\nFairbrook\nKent\nTN0 0VR",
    "phone": "01632 960000",
    "local_authority": "Kent County Council",
    "lado_contact": (
        "Local Authority Designated Officer (LADO): Mrs Priya Fenwick\n"
        "01632 960110\nlado.demo@example.com"
    ),
    "safeguarding_partnership_contact": (
        "Kent Safeguarding Children Multi-agency Partnership (KSCMP): Mr Owen Hartley, "
        "business manager\n01632 960120\nkscmp.demo@example.com"
    ),
    "education_safeguarding_service_contact": (
        "The Education People, Education Safeguarding Service: Ms Grace Adebayo, "
        "area safeguarding adviser\n01632 960130\nesafeguarding.demo@example.com"
    ),
}


@dataclass(frozen=True)
class StaffPlan:
    mis_id: str
    first_name: str
    last_name: str
    staff_type: str
    job_title: str
    title: str = ""  # Mrs, Mr...: only for the logins table; StaffMember has no title.
    username: str = ""
    roles: tuple[str, ...] = ()

    @property
    def email(self) -> str:
        if self.staff_type in {StaffType.CONTRACTOR, StaffType.VOLUNTEER}:
            return ""
        return f"{_slug(self.first_name)}.{_slug(self.last_name)}@{STAFF_EMAIL_DOMAIN}"


# The policy's key details, exactly as it names them, plus an office manager and a teacher
# so every role has a demo login.
KEY_CONTACTS = (
    StaffPlan(
        "S0001", "Alice", "Hawksley", StaffType.LEADERSHIP, "Inclusion Manager",
        "Miss", "dsl", (Role.DSL,),
    ),
    StaffPlan(
        "S0002", "Lisa", "Davis", StaffType.LEADERSHIP, "Co-Head Teacher",
        "Mrs", "head", (Role.HEADTEACHER, Role.DEPUTY_DSL),
    ),
    StaffPlan(
        "S0003", "Kelly", "Collens", StaffType.LEADERSHIP, "Co-Head Teacher",
        "Mrs", "kcollens", (Role.HEADTEACHER, Role.DEPUTY_DSL),
    ),
    StaffPlan(
        "S0004", "Sue", "Vincent", StaffType.SUPPORT, "Family Liaison Officer",
        "Mrs", "deputy", (Role.DEPUTY_DSL,),
    ),
    StaffPlan(
        "S0005", "Sarah", "Revell", StaffType.SUPPORT, "After School Club Lead",
        "Mrs", "srevell", (Role.DEPUTY_DSL,),
    ),
    StaffPlan(
        "S0006", "Barbara", "Saltmarsh", StaffType.GOVERNOR, "Safeguarding Lead Governor",
        "Mrs", "governor", (Role.GOVERNOR,),
    ),
    StaffPlan(
        "S0007", "Olivia", "Pennington", StaffType.SUPPORT, "School Office Manager",
        "Mrs", "office", (Role.OFFICE,),
    ),
    StaffPlan(
        "S0008", "Tom", "Fairbairn", StaffType.TEACHING, "Class Teacher",
        "Mr", "teacher", (Role.STAFF,),
    ),
)  # fmt: skip
GOVERNOR_MIS_ID = "S0006"
TEACHER_USERNAME = "teacher"

# Everyone else: (how many, staff type, job title). With the key contacts, 60 people.
OTHER_STAFF = (
    (16, StaffType.TEACHING, "Class Teacher"),
    (1, StaffType.TEACHING, "Music Teacher"),
    (1, StaffType.TEACHING, "PE Specialist Teacher"),
    (1, StaffType.TEACHING, "Cover Teacher"),
    (1, StaffType.LEADERSHIP, "Assistant Head Teacher (EYFS Lead)"),
    (1, StaffType.LEADERSHIP, "School Business Manager"),
    (14, StaffType.SUPPORT, "Teaching Assistant"),
    (2, StaffType.SUPPORT, "Higher Level Teaching Assistant"),
    (1, StaffType.SUPPORT, "Administrative Assistant"),
    (1, StaffType.SUPPORT, "Site Manager"),
    (4, StaffType.SUPPORT, "Midday Supervisor"),
    (1, StaffType.SUPPORT, "After School Club Assistant"),
    (1, StaffType.GOVERNOR, "Chair of Governors"),
    (1, StaffType.GOVERNOR, "Parent Governor"),
    (1, StaffType.GOVERNOR, "Local Authority Governor"),
    (1, StaffType.GOVERNOR, "Co-opted Governor"),
    (1, StaffType.CONTRACTOR, "IT Technician (contractor)"),
    (2, StaffType.VOLUNTEER, "Reading Volunteer"),
    (1, StaffType.VOLUNTEER, "Forest School Volunteer"),
)


def _words(text: str) -> list[str]:
    return text.split()


FEMALE_NAMES = _words("""
Sarah Emma Claire Rebecca Laura Jennifer Rachel Hayley Kirsty Natalie Gemma Joanne Nicola
Samantha Victoria Charlotte Amy Louise Helen Kate Priya Aneta Agnieszka Funmi Nadia Leanne
Stacey Zoe Michelle Lauren Kerry Jade Lucy Sophie Hannah Katie Jess Megan Fatima Ayesha
Shabnam Sunita Anjali Monika Joanna Chantelle Roxanne Bethany Alison Deborah Karen Tracey
Julie Susan Margaret Linda Pauline Gillian Bimala Sita Abena Chiamaka Eilidh Siobhan
""")
MALE_NAMES = _words("""
James David Daniel Matthew Mark Paul Chris Andrew Richard Stephen Gareth Lee Darren Craig
Tom Ben Sam Adam Ryan Wayne Jamal Imran Tariq Piotr Marek Kwame Ravi Sunil Stuart Neil
Simon Jonathan Michael Robert Kevin Gary Dean Ashley Liam Connor Mohammed Bilal Hamza
Tomasz Lukasz Emeka Tunde Dipak Prakash Ramesh Callum Ross Declan Keith Graham Brian
""")
CHILD_NAMES = _words("""
Olivia Amelia Isla Ava Mia Freya Lily Grace Sophia Ivy Florence Willow Evie Poppy Rosie
Elsie Harper Aria Maya Zara Amira Hannah Fatima Priya Sofia Chloe Ruby Daisy Phoebe Emily
Matilda Ella Isabella Esme Aisha Layla Nia Ada Mila Eliza Maryam Zoya Lena Hallie Bonnie
Oliver George Noah Arthur Leo Muhammad Harry Oscar Archie Henry Theodore Freddie Jack
Charlie Alfie Thomas Jacob Finley Lucas Isaac Teddy Arlo Reuben Ethan Joshua Samuel Max
Adam Yusuf Ibrahim Kai Rohan Arjun Tobias Felix Hugo Elliot Jude Albie Rory Dylan Kacper
Jakub Ayaan Zain Bodhi Milo Ezra Louie Sonny Rahul Femi
""")
SURNAMES = _words("""
Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans
Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason
Mitchell Rose Cox Fletcher Palmer Barker Turner Hughes Edwards Harris Martin Cooper Ward
Morris Moore Clark Lee King Baker Harrison Morgan Allen Young Scott Bennett Carter Shaw
Lloyd Chapman Marsh Ellis Price Mills Webb Nowak Kowalski Okafor Adeyemi Mensah Begum
Hussain Ahmed Singh Kaur Gill Sharma Nguyen Chen Murphy O'Brien Kelly Gurung Rai Tamang
Pearce Knight Dixon Foster Holmes Hunt Stone Ball Cole Day Reeves Hopkins Dunn Atkinson
Barnes Lowe Sutton Gibbs Whitaker Ashby Goddard Fowler Brennan Quinn Sandhu Kamara
""")


@dataclass(frozen=True)
class ParentPlan:
    first_name: str
    last_name: str
    relationship: str
    phone: str
    email: str


@dataclass(frozen=True)
class LearnerPlan:
    mis_id: str
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    year_group: str
    form_class: str | None
    joined: datetime.date
    left: datetime.date | None = None


@dataclass
class FamilyPlan:
    parents: list[ParentPlan] = field(default_factory=list)
    children: list[LearnerPlan] = field(default_factory=list)


@dataclass(frozen=True)
class VisitPlan:
    arrived: datetime.datetime
    left: datetime.datetime | None
    purpose: str
    host: str  # a demo username, or a job title held by someone in OTHER_STAFF


@dataclass(frozen=True)
class VisitorPlan:
    first_name: str
    last_name: str
    organisation: str
    visitor_type: str
    regular_or_extended: bool
    visits: tuple[VisitPlan, ...]


@dataclass(frozen=True)
class Plan:
    staff: list[StaffPlan]
    class_teachers: dict[str, list[str]]  # class name -> staff MIS ids
    families: list[FamilyPlan]
    visitors: list[VisitorPlan]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def _next_year(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def school_year_start(today: datetime.date) -> datetime.date:
    """1 September of the school year that today falls in."""
    return datetime.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def class_names() -> list[tuple[str, str]]:
    """(name, year group) for the 14 classes: RA, RB, 1A, 1B ... 6B."""
    return [(f"{year}{letter}", year) for year in YearGroup.values for letter in CLASS_LETTERS]


def policy_versions(today: datetime.date) -> list[tuple[str, dict[str, datetime.date]]]:
    """The 2021 original, each November's annual review, and the current version.

    The current version was written about three months ago and is due for review a year after,
    so the demo never shows an overdue review. It is numbered by the year it was written; once
    that year has passed it becomes that year's November review, so no stale version is left
    behind as the demo is re-run over the years.
    """
    current = today - datetime.timedelta(days=91)
    fortnight = datetime.timedelta(days=14)
    versions = []
    for year in range(2021, current.year):
        written = datetime.date(year, 11, 1)
        dates = {
            "date_written": written,
            "adopted": written + fortnight,
            "next_review": datetime.date(year + 1, 11, 1),
        }
        versions.append((str(year), dates))
    dates = {
        "date_written": current,
        "adopted": current + fortnight,
        "next_review": _next_year(current),
    }
    versions.append((str(current.year), dates))
    return versions


def _unique_name(
    rng: random.Random, first_names: list[str], last_name: str | None, taken: set[tuple[str, str]]
) -> tuple[str, str]:
    while True:
        name = (rng.choice(first_names), last_name or rng.choice(SURNAMES))
        if name not in taken:
            taken.add(name)
            return name


def _plan_staff(rng: random.Random) -> list[StaffPlan]:
    taken = {(p.first_name, p.last_name) for p in KEY_CONTACTS}
    staff = list(KEY_CONTACTS)
    for count, staff_type, job_title in OTHER_STAFF:
        for _ in range(count):
            names = FEMALE_NAMES if rng.random() < 0.75 else MALE_NAMES
            first, last = _unique_name(rng, names, None, taken)
            mis_id = f"S{len(staff) + 1:04d}"
            staff.append(StaffPlan(mis_id, first, last, staff_type, job_title))
    return staff


def _plan_class_teachers(rng: random.Random, staff: list[StaffPlan]) -> dict[str, list[str]]:
    """One teacher per class, two for a few job shares; the `teacher` login has 3A alone."""
    teacher = next(p for p in staff if p.username == TEACHER_USERNAME)
    others = [p.mis_id for p in staff if p.job_title == "Class Teacher" and p is not teacher]
    names = [name for name, _ in class_names() if name != TEACHER_CLASS]
    shared = set(rng.sample(names, len(others) - len(names)))
    teachers = {TEACHER_CLASS: [teacher.mis_id]}
    queue = iter(others)
    for name in names:
        teachers[name] = [next(queue) for _ in range(2 if name in shared else 1)]
    return teachers


class _FamilyMaker:
    """Makes families with parents/carers; phone numbers and emails are unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.mobiles = [f"07700 900{n:03d}" for n in range(1000)]
        self.landlines = [f"01632 960{n:03d}" for n in range(200, 1000)]
        rng.shuffle(self.mobiles)
        rng.shuffle(self.landlines)
        self.count = 0

    def _parent(self, first: str, last: str, relationship: str) -> ParentPlan:
        phones = self.mobiles if self.rng.random() < 0.75 else self.landlines
        email = f"{_slug(first)}.{_slug(last)}{self.count:03d}@example.com"
        return ParentPlan(first, last, relationship, phones.pop(), email)

    def family(self, surname: str) -> FamilyPlan:
        rng = self.rng
        self.count += 1
        kind = rng.random()
        other_surname = rng.choice(SURNAMES)
        if kind < 0.04:  # fostered: one or two foster carers with their own surname
            parents = [
                self._parent(rng.choice(FEMALE_NAMES), other_surname, Relationship.FOSTER_CARER)
            ]
            if rng.random() < 0.5:
                parents.append(
                    self._parent(rng.choice(MALE_NAMES), other_surname, Relationship.FOSTER_CARER)
                )
        elif kind < 0.08:
            parents = [self._parent(rng.choice(FEMALE_NAMES), surname, Relationship.GRANDPARENT)]
        elif kind < 0.10:  # an aunt or family friend caring for the child
            parents = [self._parent(rng.choice(FEMALE_NAMES), other_surname, Relationship.CARER)]
        else:
            mother_surname = surname if rng.random() < 0.8 else other_surname
            mother = (rng.choice(FEMALE_NAMES), mother_surname, Relationship.MOTHER)
            father = (rng.choice(MALE_NAMES), surname, Relationship.FATHER)
            first, second = (mother, father) if rng.random() < 0.85 else (father, mother)
            parents = [self._parent(*first)]
            if rng.random() < 0.65:
                if rng.random() < 0.15:
                    second = (
                        rng.choice(MALE_NAMES),
                        rng.choice(SURNAMES),
                        Relationship.STEP_PARENT,
                    )
                parents.append(self._parent(*second))
        return FamilyPlan(parents=parents)


def _birth_date(rng: random.Random, year_start: datetime.date, year_index: int) -> datetime.date:
    """A birthday for year group `year_index` (Reception is 0) in the school year from `year_start`.

    English year groups run September to August births: a Reception child is 4 or 5 on the
    1 September the year starts, a Year N child N + 4 or N + 5.
    """
    first = datetime.date(year_start.year - 5 - year_index, 9, 1)
    return first + datetime.timedelta(days=rng.randrange(365))


def _plan_families(rng: random.Random, today: datetime.date) -> list[FamilyPlan]:
    """About 420 learners on roll (30 per class), a few leavers, and their families."""
    start = school_year_start(today)
    year_groups = list(YearGroup.values)
    by_year = {year: [name for name, y in class_names() if y == year] for year in year_groups}
    space = {name: LEARNERS_PER_CLASS for name, _ in class_names()}
    maker = _FamilyMaker(rng)
    taken: set[tuple[str, str]] = set()
    families: list[FamilyPlan] = []
    learners: list[LearnerPlan] = []

    def add_child(
        family: FamilyPlan,
        surname: str,
        year: str,
        form_class: str | None,
        *,
        year_start: datetime.date = start,
        left: datetime.date | None = None,
    ) -> None:
        """Add a child last seen in `year` in the school year starting `year_start`."""
        index = year_groups.index(year)
        joined = reception_start = datetime.date(year_start.year - index, 9, 1)
        date_of_birth = _birth_date(rng, year_start, index)
        if rng.random() < 0.1:  # joined after Reception, e.g. moved into the area
            late = reception_start + datetime.timedelta(days=rng.randrange(365 * index + 120))
            joined = min(late, year_start, left or year_start)
        first, last = _unique_name(rng, CHILD_NAMES, surname, taken)
        mis_id = f"A999{len(learners) + 1:09d}"  # UPN-like: a letter, 12 digits
        child = LearnerPlan(
            mis_id, first, last, date_of_birth, year, form_class, joined=joined, left=left
        )
        learners.append(child)
        family.children.append(child)

    def place(year: str) -> str:
        name = rng.choice([n for n in by_year[year] if space[n] > 0])
        space[name] -= 1
        return name

    # Siblings first, in different year groups, sharing their parents.
    for size in [2] * 24 + [3] * 6:
        surname = rng.choice(SURNAMES)
        family = maker.family(surname)
        for year in sorted(rng.sample(year_groups, size), key=year_groups.index):
            add_child(family, surname, year, place(year))
        families.append(family)
    for name, year in class_names():
        while space[name] > 0:
            space[name] -= 1
            surname = rng.choice(SURNAMES)
            family = maker.family(surname)
            add_child(family, surname, year, name)
            families.append(family)

    # Leavers: last year's Year 6 went to secondary school; a few moved away this year.
    last_year = start.replace(year=start.year - 1)
    for _ in range(3):
        surname = rng.choice(SURNAMES)
        family = maker.family(surname)
        left = datetime.date(start.year, 7, 22)
        add_child(family, surname, "6", None, year_start=last_year, left=left)
        families.append(family)
    for _ in range(3):
        surname = rng.choice(SURNAMES)
        family = maker.family(surname)
        moved = start + datetime.timedelta(days=rng.randrange(1, 120))
        left = min(moved, today) - datetime.timedelta(days=1)
        add_child(family, surname, rng.choice(year_groups[1:]), None, left=left)
        families.append(family)
    return families


VISITORS = (
    # first, last, organisation, type, regular, host, past visits, purposes, on site now
    ("Hannah", "Whitmore", "Kent Children's Social Work Services", VisitorType.MULTI_AGENCY,
     False, "dsl", 3, ("Meeting with the DSL", "Child in need review"), False),
    ("Deborah", "Lang", "School Public Health Service", VisitorType.MULTI_AGENCY,
     True, "deputy", 2, ("Reception health checks", "Drop-in for parents"), True),
    ("Marcus", "Ellery", "Kent Educational Psychology Service", VisitorType.MULTI_AGENCY,
     False, "dsl", 2, ("Observation and consultation",), False),
    ("Anjali", "Mehta", "Children's Speech and Language Therapy", VisitorType.MULTI_AGENCY,
     False, "dsl", 2, ("Speech and language assessment",), False),
    ("Gary", "Fenton", "Kent Police", VisitorType.MULTI_AGENCY,
     False, "head", 1, ("Online safety talk to Years 5 and 6",), False),
    ("Steve", "Marlow", "Brightwire Electrical Ltd", VisitorType.CONTRACTOR,
     False, "Site Manager", 2, ("Fixed wiring inspection",), False),
    ("Kevin", "Doyle", "Fairbrook Heating Services", VisitorType.CONTRACTOR,
     False, "Site Manager", 1, ("Boiler service",), False),
    ("Natasha", "Brook", "Snapshot School Photography", VisitorType.CONTRACTOR,
     False, "office", 1, ("Class photographs",), False),
    ("Jordan", "Pryce", "Goalpost Sports Coaching", VisitorType.CONTRACTOR,
     True, "srevell", 4, ("After-school football club",), False),
    ("Margaret", "Hollis", "", VisitorType.VOLUNTEER,
     True, "teacher", 4, ("Reading with Year 3",), False),
    ("Ian", "Bramley", "Friends of Victoria Road (PTA)", VisitorType.VOLUNTEER,
     False, "office", 2, ("Setting up the Christmas fair", "PTA meeting"), False),
    ("Chloe", "Danvers", "Garden County Supply", VisitorType.SUPPLY,
     True, "kcollens", 3, ("Cover for a class teacher",), True),
)  # fmt: skip


def _plan_visitors(
    rng: random.Random, families: list[FamilyPlan], now: datetime.datetime
) -> list[VisitorPlan]:
    """The visitors above, plus two parents of 3A; visits on recent school days."""
    today = timezone.localdate(now)
    school_days = [
        today - datetime.timedelta(days=n)
        for n in range(1, 70)
        if (today - datetime.timedelta(days=n)).weekday() < 5
    ]
    rows = list(VISITORS)
    in_3a = [f for f in families if any(c.form_class == TEACHER_CLASS for c in f.children)]
    for family in in_3a[:2]:
        parent = family.parents[0]
        purposes = ("Meeting with the class teacher", "Parents' evening appointment")
        rows.append(
            (parent.first_name, parent.last_name, "", VisitorType.PARENT_CARER, False)
            + ("teacher", 1, purposes, False)
        )
    visitors = []
    for first, last, organisation, kind, regular, host, past, purposes, on_site in rows:
        visits = []
        for day in sorted(rng.sample(school_days, past), reverse=True):
            start = datetime.time(8 + rng.randrange(7), rng.choice((0, 15, 30, 45)))
            arrived = timezone.make_aware(datetime.datetime.combine(day, start))
            left = arrived + datetime.timedelta(minutes=rng.choice((30, 45, 60, 90, 120, 180)))
            visits.append(VisitPlan(arrived, left, rng.choice(purposes), host))
        if on_site:
            arrived = now - datetime.timedelta(minutes=rng.randrange(20, 120))
            visits.insert(0, VisitPlan(arrived, None, purposes[0], host))
        visitors.append(VisitorPlan(first, last, organisation, kind, regular, tuple(visits)))
    return visitors


def make_plan(*, today: datetime.date, now: datetime.datetime) -> Plan:
    """The whole demo school. Names and structure depend only on SEED; dates on today."""
    rng = random.Random(SEED)
    staff = _plan_staff(rng)
    class_teachers = _plan_class_teachers(rng, staff)
    families = _plan_families(rng, today)
    # Visits draw from their own stream: they depend on today, and must not shift the names.
    visitors = _plan_visitors(random.Random(SEED + 1), families, now)
    return Plan(staff, class_teachers, families, visitors)


class _Writer:
    """Saves a row only when it is new or differs from the plan, and counts what it did."""

    def __init__(self) -> None:
        self.created = 0
        self.updated = 0

    def save(self, obj: models.Model, **values: object) -> bool:
        """Set these field values on obj and save it if needed; True if it was created."""
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        for name in changed:
            setattr(obj, name, values[name])
        created = obj.pk is None
        if changed and not created and hasattr(obj, "version"):
            obj.version += 1  # an edit form opened before this run must not overwrite it
        if created or changed:
            obj._change_reason = CHANGE_REASON
            obj.save()
            self.created += created
            self.updated += not created
        return created

    def set_links(self, manager, *, wanted: set[int], current: set[int], created: bool) -> None:
        """Set a many-to-many relation if it differs; the history records the change."""
        if wanted != current:
            manager.instance._change_reason = CHANGE_REASON
            manager.set(sorted(wanted))
            self.updated += not created


class Command(BaseCommand):
    help = (
        "Create or refresh the demo school: Victoria Road Primary School with the policy's key "
        "contacts, about 60 staff, 14 classes, 420 learners with their parents and carers, "
        "visitors and policy versions, all fictional. Safe to run again: it matches rows on "
        "natural keys, creates no duplicates and only resets the demo logins' passwords to "
        "DEMO_PASSWORD. Runs only with DEBUG on, unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off, for a throwaway demo site. Never on a live school's data: "
            "it makes logins with a published password.",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo makes logins with a published password, so it runs only with "
                "DEBUG=true (or --force on a throwaway demo site)."
            )
        started = time.monotonic()
        now = timezone.now()
        today = timezone.localdate(now)
        plan = make_plan(today=today, now=now)
        writer = _Writer()
        with transaction.atomic():
            staff = self._seed_staff(writer, plan.staff)
            self._seed_school(writer, staff)
            self._seed_policy_versions(writer, today)
            classes = self._seed_classes(writer, plan.class_teachers, staff)
            self._seed_families(writer, plan.families, classes)
            self._seed_visitors(writer, plan.visitors, staff)
            logins = self._seed_logins(plan.staff, staff)
            context = DemoContext(
                today=today, now=now, users={user.username: user for _, user in logins}
            )
            # the records of devices, incidents and reception, registered by those apps
            summaries = [seeder(context) for seeder in demo_seeders()]
        self._report(writer, today, time.monotonic() - started, logins)
        for summary in summaries:
            self.stdout.write(summary)

    def _seed_staff(self, writer: _Writer, plans: list[StaffPlan]) -> dict[str, StaffMember]:
        wanted = [p.mis_id for p in plans]
        existing = {s.mis_id: s for s in StaffMember.objects.filter(mis_id__in=wanted)}
        staff = {}
        for p in plans:
            member = existing.get(p.mis_id) or StaffMember(mis_id=p.mis_id)
            writer.save(
                member,
                first_name=p.first_name,
                last_name=p.last_name,
                email=p.email,
                staff_type=p.staff_type,
                job_title=p.job_title,
                active=True,
            )
            staff[p.mis_id] = member
        return staff

    def _seed_school(self, writer: _Writer, staff: dict[str, StaffMember]) -> None:
        school = School.objects.order_by("pk").first() or School()
        writer.save(school, **SCHOOL, safeguarding_lead_governor_id=staff[GOVERNOR_MIS_ID].pk)

    def _seed_policy_versions(self, writer: _Writer, today: datetime.date) -> None:
        existing = {v.number: v for v in PolicyVersion.objects.order_by("pk")}
        for number, dates in policy_versions(today):
            writer.save(existing.get(number) or PolicyVersion(number=number), **dates)

    def _seed_classes(
        self, writer: _Writer, teachers: dict[str, list[str]], staff: dict[str, StaffMember]
    ) -> dict[str, FormClass]:
        existing = {c.name: c for c in FormClass.objects.prefetch_related("teachers")}
        classes = {}
        for name, year in class_names():
            form_class = existing.get(name) or FormClass(name=name)
            created = writer.save(form_class, year_group=year)
            current = set() if created else {t.pk for t in form_class.teachers.all()}
            wanted = {staff[mis_id].pk for mis_id in teachers[name]}
            writer.set_links(form_class.teachers, wanted=wanted, current=current, created=created)
            classes[name] = form_class
        return classes

    def _seed_families(
        self, writer: _Writer, families: list[FamilyPlan], classes: dict[str, FormClass]
    ) -> None:
        mis_ids = [c.mis_id for f in families for c in f.children]
        learners = {x.mis_id: x for x in Learner.objects.filter(mis_id__in=mis_ids)}
        emails = [p.email for f in families for p in f.parents]
        parents = {p.email: p for p in ParentCarer.objects.filter(email__in=emails)}
        links: dict[int, set[int]] = {}
        through = ParentCarer.learners.through.objects.filter(
            parentcarer__in=[p.pk for p in parents.values()]
        )
        for parent_id, learner_id in through.values_list("parentcarer_id", "learner_id"):
            links.setdefault(parent_id, set()).add(learner_id)

        for family in families:
            children = set()
            for plan in family.children:
                learner = learners.get(plan.mis_id) or Learner(mis_id=plan.mis_id)
                writer.save(
                    learner,
                    first_name=plan.first_name,
                    last_name=plan.last_name,
                    date_of_birth=plan.date_of_birth,
                    year_group=plan.year_group,
                    form_class_id=classes[plan.form_class].pk if plan.form_class else None,
                    joined=plan.joined,
                    left=plan.left,
                )
                children.add(learner.pk)
            for plan in family.parents:
                parent = parents.get(plan.email) or ParentCarer(email=plan.email)
                created = writer.save(
                    parent,
                    first_name=plan.first_name,
                    last_name=plan.last_name,
                    relationship=plan.relationship,
                    phone=plan.phone,
                )
                current = links.get(parent.pk, set())
                writer.set_links(parent.learners, wanted=children, current=current, created=created)

    def _seed_visitors(
        self, writer: _Writer, visitors: list[VisitorPlan], staff: dict[str, StaffMember]
    ) -> None:
        hosts = {p.username: staff[p.mis_id] for p in KEY_CONTACTS}
        for member in sorted(staff.values(), key=lambda s: s.mis_id, reverse=True):
            hosts[member.job_title] = member  # the first holder of each job title wins
        existing = {(v.first_name, v.last_name): v for v in Visitor.objects.order_by("pk")}
        visited = set(Visit.objects.values_list("visitor_id", flat=True).distinct())
        for plan in visitors:
            visitor = existing.get((plan.first_name, plan.last_name)) or Visitor(
                first_name=plan.first_name, last_name=plan.last_name
            )
            writer.save(
                visitor,
                organisation=plan.organisation,
                visitor_type=plan.visitor_type,
                regular_or_extended=plan.regular_or_extended,
            )
            # Visits are a log, not a fixture: add them once, when the visitor has none.
            if visitor.pk in visited:
                continue
            for visit in reversed(plan.visits):
                writer.save(
                    Visit(visitor=visitor),
                    arrived=visit.arrived,
                    left=visit.left,
                    purpose=visit.purpose,
                    host_id=hosts[visit.host].pk,
                )

    def _seed_logins(
        self, plans: list[StaffPlan], staff: dict[str, StaffMember]
    ) -> list[tuple[StaffPlan, User]]:
        """Set each demo login's roles and reset its password, on every run."""
        logins = []
        for p in plans:
            if not p.username:
                continue
            member = staff[p.mis_id]
            holder = User.objects.filter(username=p.username).first()
            if holder is not None and holder.pk != member.user_id:
                other = StaffMember.objects.filter(user=holder).first()
                if other is not None:
                    raise CommandError(
                        f"The username {p.username!r} belongs to {other} (staff #{other.pk}), "
                        f"not to the demo's {member}; rename that login first."
                    )
                # An unattached login with the demo username (e.g. from createsuperuser).
                member.user = holder
                member.save(update_fields=["user"])
            user = staff_set_login(
                staff=member,
                username=p.username,
                roles=p.roles,
                password=settings.DEMO_PASSWORD,
            )
            logins.append((p, user))
        return logins

    def _report(
        self,
        writer: _Writer,
        today: datetime.date,
        seconds: float,
        logins: list[tuple[StaffPlan, User]],
    ) -> None:
        learners = Learner.objects.all()
        on_roll = learners.filter(Q(left__isnull=True) | Q(left__gte=today)).count()
        self.stdout.write(
            f"Demo school {SCHOOL['name']!r}: {StaffMember.objects.count()} staff, "
            f"{FormClass.objects.count()} classes, {on_roll} learners on roll and "
            f"{learners.count() - on_roll} left, {ParentCarer.objects.count()} parents/carers, "
            f"{Visitor.objects.count()} visitors "
            f"({Visit.objects.filter(left__isnull=True).count()} on site), "
            f"{PolicyVersion.objects.count()} policy versions; {writer.created} rows created, "
            f"{writer.updated} updated, {len(logins)} demo passwords reset in {seconds:.1f}s."
        )
        rows = [
            (
                p.username,
                f"{p.title} {p.first_name} {p.last_name}, {p.job_title}",
                ", ".join(user.role_labels()),
            )
            for p, user in logins
        ]
        widths = [max(len(row[i]) for row in [*rows, ("username", "who", "")]) for i in (0, 1)]
        self.stdout.write(f"Demo logins, all with the password {settings.DEMO_PASSWORD}:")
        self.stdout.write(f"  {'username':<{widths[0]}}  {'who':<{widths[1]}}  roles")
        for username, who, roles in rows:
            self.stdout.write(f"  {username:<{widths[0]}}  {who:<{widths[1]}}  {roles}")
