"""Fictional data at ten years' scale, for the query budgets and the benchmark (issue 8).

A 420-learner primary (14 classes of 30, Reception to Year 6) over `years` school years with
turnover: about 60 staff on roll at a time, learners joining in Reception and leaving after
Year 6 (and a few moving away mid-year), and for ten years about 200,000 hand-in rows,
5,000 incidents with the people involved, 1,000 device searches, 2,000 exemptions with their
agreements and signatures, 20,000 visits, and a history row for every record. `factor`
scales the record counts (not the school) so a test can build a year in seconds.

Everything comes from `random.Random(seed)` and dates worked out from `today`, so the same
seed on the same day gives the same rows. Rows are written with `bulk_create_with_history`
(django-simple-history's own helper): each record gets its "created" history row dated when
the record was made, by whom; transitions written later (an agreement signed) add a "changed"
row through `bulk_update_with_history`. Many-to-many links (class teachers, a parent's
learners, an incident's policies, debrief attendees, login roles) are inserted directly and
have no m2m history rows.

Why it lives here: it writes the records of all three apps, and incidents is the top floor,
the only one that may import both devices and compliance (docs/decisions/0005). A registry in
compliance (as `compliance.demo` does for seed_demo, decision 0009) would split one generator
across three apps for a tool only the benchmark and the tests use; the layer rule is kept
either way, and this is the cheaper of the two.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from compliance.models import (
    Acknowledgement,
    FormClass,
    Learner,
    LinkedPolicy,
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
from compliance.roles import Role, role_groups
from devices import services as device_services
from devices.models import (
    Agreement,
    Confiscation,
    CustodyEvent,
    DeviceCategory,
    Exemption,
    HandIn,
    RiskAssessment,
    Signature,
)
from incidents.models import (
    Category,
    Debrief,
    Incident,
    Involvement,
    Location,
    Note,
    ParentContact,
    Referral,
    Search,
)

LONDON = ZoneInfo("Europe/London")
CHANGE_REASON = "generate_scale_data"
DSL_USERNAME = "dsl"
CLASS_SIZE = 30
CLASS_LETTERS = "AB"
STAFF_ON_ROLL = 60
BATCH = 2000

# Ten years' worth: the counts the issue asks for. `years` and `factor` scale them.
TEN_YEAR_COUNTS = {
    "hand_ins": 200_000,
    "incidents": 5_000,
    "searches": 1_000,
    "exemptions": 2_000,
    "visits": 20_000,
}


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    "Olivia Amelia Isla Ava Mia Freya Lily Grace Sophia Ivy Florence Willow Evie Poppy Rosie "
    "Elsie Harper Aria Maya Zara Amira Hannah Fatima Priya Sofia Chloe Ruby Daisy Phoebe Emily "
    "Oliver George Noah Arthur Leo Muhammad Harry Oscar Archie Henry Theodore Freddie Jack "
    "Charlie Alfie Thomas Jacob Finley Lucas Isaac Teddy Arlo Reuben Ethan Joshua Samuel Max "
    "Adam Yusuf Ibrahim Kai Rohan Arjun Tobias Felix Hugo Elliot Jude Albie Rory Dylan Kacper"
)
ADULT_NAMES = _words(
    "Sarah Emma Claire Rebecca Laura Jennifer Rachel Hayley Kirsty Natalie Gemma Joanne Nicola "
    "Samantha Victoria Charlotte Amy Louise Helen Kate Priya Aneta Agnieszka Funmi Nadia James "
    "David Daniel Matthew Mark Paul Chris Andrew Richard Stephen Gareth Lee Darren Craig Tom Ben "
    "Sam Adam Ryan Wayne Jamal Imran Tariq Piotr Marek Kwame Ravi Sunil Stuart Neil Simon"
)
SURNAMES = _words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason "
    "Mitchell Rose Cox Fletcher Palmer Barker Turner Hughes Edwards Harris Martin Cooper Ward "
    "Morris Moore Clark Lee King Baker Harrison Morgan Allen Young Scott Bennett Carter Shaw "
    "Lloyd Chapman Marsh Ellis Price Mills Webb Nowak Kowalski Okafor Adeyemi Mensah Begum "
    "Hussain Ahmed Singh Kaur Gill Sharma Nguyen Chen Murphy Kelly Gurung Rai Tamang Pearce"
)
VISIT_PURPOSES = (
    "Reading volunteer session",
    "Boiler service",
    "Speech and language therapy session",
    "Educational psychologist observation",
    "Supply teaching",
    "Parent meeting with class teacher",
    "School nurse drop-in",
    "Governor monitoring visit",
    "Fire alarm test",
    "Music lesson",
    "Early help meeting",
    "Photographer for class photos",
)
ORGANISATIONS = (
    "",
    "Kent Children's Services",
    "Fairbrook Heating Ltd",
    "NHS school nursing",
    "Kent Educational Psychology Service",
    "Supply Co-op",
    "Kent Music",
    "Speech Matters",
)
ACCOUNTS = {
    Category.RESTRICTED_AREA: "A phone was out and in use in the classroom during a lesson.",
    Category.ABUSIVE_MESSAGE: "A learner showed me unkind messages sent in a group chat.",
    Category.OFFENSIVE_CONTENT: "A learner was showing others an upsetting video on a phone.",
    Category.ILLEGAL_CONTENT: "A learner told me that an older child sent them an image.",
    Category.UNAUTHORISED_RECORDING: "A learner filmed another child in the playground.",
    Category.CYBERBULLYING: "A parent reported repeated messages to their child in a game.",
    Category.NUDES: "A learner disclosed that a picture of them was being passed around.",
    Category.STAFF_PERSONAL_CONTACT: "A member of staff messaged a parent from a personal phone.",
    Category.VISITOR_MISUSE: "A visitor took photographs in the hall while learners were there.",
    Category.LOSS_THEFT_DAMAGE: "A handed-in phone was found damaged at the end of the day.",
    Category.OTHER: "A smart watch was ringing in assembly.",
}
CATEGORY_WEIGHTS = {
    Category.RESTRICTED_AREA: 30,
    Category.ABUSIVE_MESSAGE: 15,
    Category.OFFENSIVE_CONTENT: 8,
    Category.ILLEGAL_CONTENT: 1,
    Category.UNAUTHORISED_RECORDING: 8,
    Category.CYBERBULLYING: 14,
    Category.NUDES: 2,
    Category.STAFF_PERSONAL_CONTACT: 3,
    Category.VISITOR_MISUSE: 3,
    Category.LOSS_THEFT_DAMAGE: 8,
    Category.OTHER: 8,
}
SEARCH_CATEGORIES = (
    Category.ABUSIVE_MESSAGE,
    Category.OFFENSIVE_CONTENT,
    Category.ILLEGAL_CONTENT,
    Category.UNAUTHORISED_RECORDING,
    Category.CYBERBULLYING,
    Category.NUDES,
)


def dsl_password(seed: int) -> str:
    return f"scale-data-{seed}-dsl"


def dsl_totp_key(seed: int) -> str:
    """The DSL's authenticator key (hex, 20 bytes), derived from the seed so the benchmark can
    compute codes. Scale data is fictional and throwaway: never run this on a live school."""
    return hashlib.sha1(f"vrps-scale-data-totp-{seed}".encode(), usedforsecurity=False).hexdigest()


def school_year_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def _holiday(day: datetime.date) -> bool:
    """Roughly a Kent school calendar: half terms, Christmas, Easter, summer."""
    m, d = day.month, day.day
    return (
        (m == 10 and d >= 24)
        or (m == 12 and d >= 20)
        or (m == 1 and d <= 3)
        or (m == 2 and 14 <= d <= 21)
        or (m == 4 and d <= 14)
        or (m == 5 and d >= 26)
        or (m == 7 and d >= 22)
        or m == 8
        or (m == 9 and d < 3)
    )


def school_days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Weekdays in term from `first` to `last`; `last` always counts, so the day the data is
    made has a register to show even at a weekend."""
    days = []
    day = first
    while day < last:
        if day.weekday() < 5 and not _holiday(day):
            days.append(day)
        day += datetime.timedelta(days=1)
    days.append(last)
    return days


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def _stamp(obj, when: datetime.datetime, user: User | None):
    """The date and author of the record's created history row."""
    obj._history_date = when
    obj._history_user = user
    return obj


@dataclass
class Person:
    """A learner or staff member with the dates they were at the school."""

    obj: object
    joined: datetime.date
    left: datetime.date | None
    entry_year: int = 0  # learners: the September they started Reception
    user: User | None = None
    parents: list[ParentCarer] = field(default_factory=list)

    def on_roll(self, day: datetime.date) -> bool:
        return self.joined <= day and (self.left is None or self.left >= day)

    def year_index(self, day: datetime.date) -> int:
        return school_year_start(day).year - self.entry_year


class ScaleBuilder:
    def __init__(
        self,
        *,
        years: int,
        seed: int,
        factor: float = 1.0,
        today: datetime.date | None = None,
        progress: Callable[[str], None] = print,
    ) -> None:
        if years < 1:
            raise ValueError("years must be at least 1")
        self.years = years
        self.seed = seed
        self.factor = factor
        self.rng = random.Random(seed)
        self.today = today or timezone.localdate()
        self.now = timezone.now()
        self.first_year = school_year_start(self.today).year - (years - 1)
        self.first_day = datetime.date(self.first_year, 9, 1)
        self.days = school_days(self.first_day, self.today)
        self.progress = progress
        self.started = time.monotonic()
        self.counts: dict[str, int] = {}

    # helpers -------------------------------------------------------------------------

    def target(self, name: str) -> int:
        return max(1, round(TEN_YEAR_COUNTS[name] * self.years / 10 * self.factor))

    def say(self, label: str, count: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + count
        elapsed = time.monotonic() - self.started
        self.progress(f"  {label}: {self.counts[label]:,} ({elapsed:.1f}s)")

    def write(self, objs: list, model, label: str | None = None) -> list:
        saved = []
        for start in range(0, len(objs), BATCH * 5):
            chunk = objs[start : start + BATCH * 5]
            saved.extend(
                bulk_create_with_history(
                    chunk, model, batch_size=BATCH, default_change_reason=CHANGE_REASON
                )
            )
            if label:
                self.say(label, len(chunk))
        return saved

    def link(self, through, rows: list) -> None:
        """Links of many-to-many fields (classes' teachers, logins' roles): rows of an
        automatic through table, which keeps no history of its own."""
        through.objects.bulk_create(rows, batch_size=BATCH)

    def day_time(self, day: datetime.date, first_hour: int, last_hour: int) -> datetime.datetime:
        minutes = self.rng.randrange((last_hour - first_hour) * 60)
        return _at(day, first_hour) + datetime.timedelta(minutes=minutes)

    def pick_on_roll(self, people: list[Person], day: datetime.date) -> Person | None:
        for _ in range(40):
            person = self.rng.choice(people)
            if person.on_roll(day):
                return person
        return next((p for p in people if p.on_roll(day)), None)

    def name(self, first_names: list[str]) -> tuple[str, str]:
        return self.rng.choice(first_names), self.rng.choice(SURNAMES)

    # the build -----------------------------------------------------------------------

    @transaction.atomic
    def build(self) -> dict[str, int]:
        self.progress(
            f"Scale data: {self.years} school years from {self.first_day:%d/%m/%Y} to "
            f"{self.today:%d/%m/%Y}, {len(self.days)} school days, seed {self.seed}"
            + (f", record counts x{self.factor}" if self.factor != 1 else "")
        )
        self.reference_data()
        self.staff()
        self.classes_and_learners()
        self.hand_ins()
        self.visitors()
        self.exemptions()
        self.incidents()
        self.visits()
        self.dsl_login()
        return dict(self.counts)

    def reference_data(self) -> None:
        School.objects.get_or_create(
            singleton=True,
            defaults={"name": "Fairbrook Scale Primary School", "local_authority": "Kent"},
        )
        self.categories = list(DeviceCategory.objects.order_by("pk"))
        self.locations = list(Location.objects.order_by("pk"))
        self.policies = list(LinkedPolicy.objects.order_by("pk"))
        if not self.categories or not self.locations:
            raise RuntimeError("Run the migrations first: device categories and locations.")
        self.phone = next((c for c in self.categories if c.name == "Mobile phone"), None)
        self.phone = self.phone or self.categories[0]
        versions = []
        for year in range(self.first_year, self.today.year + 1):
            written = datetime.date(year, 11, 1)
            if written > self.today:
                written = self.today - datetime.timedelta(days=30)
            if versions and written <= versions[-1].date_written:
                continue
            versions.append(
                PolicyVersion(
                    number=f"S{year}",
                    date_written=written,
                    adopted=written + datetime.timedelta(days=14),
                    next_review=written + datetime.timedelta(days=365),
                )
            )
        self.versions = self.write(versions, PolicyVersion, "policy versions")

    def staff(self) -> None:
        """About 60 on roll at any time; about one in ten leaves each year and is replaced."""
        rng = self.rng
        key = [
            ("Alice", "Hawksley", StaffType.LEADERSHIP, "Designated Safeguarding Lead", "dsl"),
            ("Lisa", "Davis", StaffType.LEADERSHIP, "Head Teacher", "head"),
            ("Sue", "Vincent", StaffType.SUPPORT, "Family Liaison Officer", "deputy"),
            ("Olivia", "Pennington", StaffType.SUPPORT, "School Office Manager", "office"),
            ("Barbara", "Saltmarsh", StaffType.GOVERNOR, "Safeguarding Lead Governor", "gov"),
        ]
        roles = {
            "dsl": [Role.DSL],
            "head": [Role.HEADTEACHER, Role.DEPUTY_DSL],
            "deputy": [Role.DEPUTY_DSL],
            "office": [Role.OFFICE],
            "gov": [Role.GOVERNOR],
        }
        plans = []  # (first, last, type, title, username, roles, joined, left)
        for first, last, kind, title, username in key:
            plans.append(
                (first, last, kind, title, username, roles[username], self.first_day, None)
            )
        slots = (
            [(StaffType.TEACHING, "Class Teacher")] * 16
            + [(StaffType.SUPPORT, "Teaching Assistant")] * 30
            + [(StaffType.GOVERNOR, "Governor")] * 4
            + [(StaffType.VOLUNTEER, "Reading Volunteer")] * 5
        )
        for kind, title in slots:
            joined = self.first_day
            while True:
                tenure = rng.randint(2, 14) * 365
                left = joined + datetime.timedelta(days=tenure)
                left = left if left < self.today else None
                first, last = self.name(ADULT_NAMES)
                with_login = kind in {StaffType.TEACHING, StaffType.SUPPORT}
                plans.append(
                    (
                        first,
                        last,
                        kind,
                        title,
                        "" if not with_login else None,
                        [Role.STAFF],
                        joined,
                        left,
                    )
                )
                if left is None:
                    break
                joined = left + datetime.timedelta(days=rng.randint(1, 30))
                if joined >= self.today:
                    break
        members = []
        for n, (first, last, kind, title, _username, _roles, joined, left) in enumerate(plans):
            members.append(
                _stamp(
                    StaffMember(
                        mis_id=f"SC{n + 1:05d}",
                        first_name=first,
                        last_name=last,
                        email=f"staff{n + 1}@scale.example.com",
                        staff_type=kind,
                        job_title=title,
                        active=left is None,
                    ),
                    _at(joined, 8),
                    None,
                )
            )
        members = self.write(members, StaffMember, "staff")
        users = []
        for n, (plan, member) in enumerate(zip(plans, members, strict=True)):
            username = plan[4]
            if username == "":
                continue
            user = User(
                username=username or f"staff{n + 1}",
                first_name=member.first_name,
                last_name=member.last_name,
                email=member.email,
                is_active=member.active,
                date_joined=_at(plan[6], 8),
            )
            user.set_unusable_password()
            users.append((user, member, plan))
        saved = self.write([_stamp(u, u.date_joined, None) for u, _, _ in users], User, "logins")
        groups = {role: role_groups([role])[0] for role in Role.values}
        links = []
        for user, (_, member, plan) in zip(saved, users, strict=True):
            member.user = user
            links.extend(
                User.groups.through(user_id=user.pk, group_id=groups[r].pk) for r in plan[5]
            )
        bulk_update_with_history(
            [m for _, m, _ in users],
            StaffMember,
            ["user"],
            batch_size=BATCH,
            default_change_reason=CHANGE_REASON,
        )
        self.link(User.groups.through, links)
        self.people = [
            Person(obj=m, joined=p[6], left=p[7], user=m.user)
            for m, p in zip(members, plans, strict=True)
        ]
        by_username = {u.username: u for u in saved}
        self.dsl = by_username["dsl"]
        self.head = by_username["head"]
        self.deputy = by_username["deputy"]
        self.office = by_username["office"]
        self.leads = [self.dsl, self.deputy, self.head]
        self.staff_with_login = [p for p in self.people if p.user is not None]
        self.teachers = [p for p in self.people if p.obj.job_title == "Class Teacher"]
        acks = []
        for version in self.versions:
            day = version.adopted
            if day > self.today:
                continue
            for person in self.staff_with_login:
                if person.on_roll(day) and self.rng.random() < 0.95:
                    when = _at(day, 9) + datetime.timedelta(days=self.rng.randrange(20))
                    acks.append(
                        _stamp(
                            Acknowledgement(
                                kind=Acknowledgement.Kind.POLICY,
                                staff=person.obj,
                                policy_version=version,
                                acknowledged_at=min(when, self.now),
                                recorded_by=self.dsl,
                            ),
                            min(when, self.now),
                            self.dsl,
                        )
                    )
        self.write(acks, Acknowledgement, "acknowledgements")

    def classes_and_learners(self) -> None:
        """Cohorts of 60 start Reception each September and leave after Year 6; about 3% a
        year move away mid-year and someone new takes the place."""
        rng = self.rng
        classes = [
            FormClass(name=f"{year}{letter}", year_group=year)
            for year in YearGroup.values
            for letter in CLASS_LETTERS
        ]
        self.classes = self.write(
            [_stamp(c, _at(self.first_day, 8), None) for c in classes], FormClass, "classes"
        )
        current = [p for p in self.teachers if p.left is None]
        links = [
            FormClass.teachers.through(
                formclass_id=c.pk, staffmember_id=current[i % len(current)].obj.pk
            )
            for i, c in enumerate(self.classes)
        ]
        self.link(FormClass.teachers.through, links)
        self.class_by_name = {c.name: c for c in self.classes}
        this_year = school_year_start(self.today).year
        plans = []  # (entry_year, slot, joined, left)
        for entry in range(self.first_year - 6, this_year + 1):
            start = datetime.date(entry, 9, 3)
            end = datetime.date(entry + 7, 7, 21)  # the end of Year 6
            for slot in range(2 * CLASS_SIZE):
                joined = start
                while True:
                    left = end
                    for year in range(
                        max(entry, joined.year if joined.month >= 9 else joined.year - 1), entry + 7
                    ):
                        if rng.random() < 0.03:
                            left = datetime.date(year + 1, 1, 1) + datetime.timedelta(
                                days=rng.randrange(180)
                            )
                            left = max(left, joined)
                            break
                    plans.append((entry, slot, joined, left if left < self.today else None))
                    if left >= self.today or left >= end:
                        break
                    joined = left + datetime.timedelta(days=rng.randint(7, 40))
                    if joined >= end or joined >= self.today:
                        break
        learners = []
        for n, (entry, slot, joined, left) in enumerate(plans):
            first, last = self.name(FIRST_NAMES)
            on = left or self.today
            year_index = min(6, max(0, school_year_start(on).year - entry))
            year = YearGroup.values[year_index]
            form_class = None
            if left is None:
                form_class = self.class_by_name[f"{year}{CLASS_LETTERS[slot // CLASS_SIZE]}"]
            born = datetime.date(entry - 5, 9, 1) + datetime.timedelta(days=rng.randrange(365))
            learners.append(
                _stamp(
                    Learner(
                        mis_id=f"SL{n + 1:06d}",
                        first_name=first,
                        last_name=last,
                        date_of_birth=born,
                        year_group=year,
                        form_class=form_class,
                        joined=joined,
                        left=left,
                    ),
                    _at(min(joined, self.today), 8),
                    self.office,
                )
            )
        learners = self.write(learners, Learner, "learners")
        self.learners = [
            Person(obj=obj, joined=p[2], left=p[3], entry_year=p[0])
            for obj, p in zip(learners, plans, strict=True)
        ]
        parents, counts = [], []
        for person in self.learners:
            count = rng.randint(1, 2)
            counts.append(count)
            for relationship in (Relationship.MOTHER, Relationship.FATHER)[:count]:
                first, _ = self.name(ADULT_NAMES)
                parents.append(
                    _stamp(
                        ParentCarer(
                            first_name=first,
                            last_name=person.obj.last_name,
                            relationship=relationship,
                            phone=f"07700 900{rng.randrange(1000):03d}",
                        ),
                        _at(min(person.joined, self.today), 8),
                        self.office,
                    )
                )
        saved = iter(self.write(parents, ParentCarer, "parents and carers"))
        links = []
        for person, count in zip(self.learners, counts, strict=True):
            person.parents = [next(saved) for _ in range(count)]
            links.extend(
                ParentCarer.learners.through(parentcarer_id=p.pk, learner_id=person.obj.pk)
                for p in person.parents
            )
        self.link(ParentCarer.learners.through, links)

    def hand_ins(self) -> None:
        """Years 4 to 6 may bring a phone (they walk home); those who do hand it in each
        morning. The chance a day is chosen makes the total about the target."""
        rng = self.rng
        eligible = []
        for person in self.learners:
            for day in self.days:
                if person.on_roll(day) and 4 <= person.year_index(day) <= 6:
                    eligible.append((day, person))
        eligible.sort(key=lambda pair: (pair[0], pair[1].obj.pk))
        chance = min(1.0, self.target("hand_ins") / max(1, len(eligible)))
        receivers = [p for p in self.staff_with_login if p.obj.staff_type == StaffType.TEACHING]
        rows = []
        for day, person in eligible:
            if rng.random() >= chance:
                continue
            user = rng.choice(receivers).user
            handed = _at(day, 8, 40 + rng.randrange(15))
            row = HandIn(
                learner=person.obj,
                day=day,
                handed_in_at=handed,
                switched_off=rng.random() < 0.97,
                received_by=user,
            )
            if day < self.today:
                row.collected_at = _at(day, 15, 15 + rng.randrange(20))
                row.released_by = user
                if person.parents and rng.random() < 0.3:
                    row.collected_by = HandIn.CollectedBy.PARENT_CARER
                    row.collected_by_parent = person.parents[0]
                else:
                    row.collected_by = HandIn.CollectedBy.LEARNER
            rows.append(_stamp(row, handed, user))
            if len(rows) == BATCH * 10:
                self.write(rows, HandIn, "hand-in rows")
                rows = []
        self.write(rows, HandIn, "hand-in rows")

    def visitors(self) -> None:
        count = max(20, self.target("visits") // 8)
        visitors = []
        for n in range(count):
            first, last = self.name(ADULT_NAMES)
            visitors.append(
                _stamp(
                    Visitor(
                        first_name=first,
                        last_name=last,
                        organisation=self.rng.choice(ORGANISATIONS),
                        visitor_type=self.rng.choice(VisitorType.values),
                        regular_or_extended=n < count // 10,
                    ),
                    _at(self.first_day, 8),
                    self.office,
                )
            )
        self.visitor_list = self.write(visitors, Visitor, "visitors")

    def exemptions(self) -> None:
        rng = self.rng
        target = self.target("exemptions")
        png = [device_services._clean_png(_signature_png(n)) for n in range(8)]
        exemptions, plans = [], []
        recent = self.today - datetime.timedelta(days=21)
        for _ in range(target):
            day = rng.choice(self.days)
            roll = rng.random()
            if roll < 0.7:
                kind = Exemption.Kind.LEARNER_EXCEPTIONAL
                person = self.pick_on_roll(self.learners, day)
                subject = {"learner": person.obj}
            elif roll < 0.85:
                kind = Exemption.Kind.STAFF_TEACHING_TIME
                person = self.pick_on_roll(self.staff_with_login, day)
                subject = {"staff": person.obj}
            elif roll < 0.9:
                kind = Exemption.Kind.STAFF_REMOTE_LEARNING
                person = self.pick_on_roll(self.staff_with_login, day)
                subject = {"staff": person.obj}
            else:
                kind = Exemption.Kind.VISITOR_WITH_LEARNERS
                person = None
                subject = {"visitor": rng.choice(self.visitor_list)}
            requested_at = self.day_time(day, 9, 16)
            starts = day + datetime.timedelta(days=rng.randint(1, 7))
            ends = starts + datetime.timedelta(days=rng.choice((30, 90, 180, 365)))
            requester = (person.user if person and person.user else None) or self.office
            status = Exemption.Status.ACTIVE
            if day >= recent:
                status = rng.choice(
                    [Exemption.Status.REQUESTED] * 3
                    + [Exemption.Status.APPROVED, Exemption.Status.AGREEMENT_ISSUED]
                    + [Exemption.Status.ACTIVE] * 2
                )
            elif rng.random() < 0.06:
                status = Exemption.Status.REFUSED
            elif rng.random() < 0.04:
                status = Exemption.Status.REVOKED
            elif ends < self.today:
                status = Exemption.Status.EXPIRED
            exemption = Exemption(
                kind=kind,
                category=self.phone if rng.random() < 0.8 else rng.choice(self.categories),
                reason="Medical monitoring through an app (fictional)."
                if kind == Exemption.Kind.LEARNER_EXCEPTIONAL
                else "Needed for the reason given to the headteacher (fictional).",
                starts=starts,
                ends=ends,
                status=status,
                requested_by=requester,
                requested_at=requested_at,
                risk_assessment_required=kind == Exemption.Kind.STAFF_REMOTE_LEARNING,
                **subject,
            )
            if status != Exemption.Status.REQUESTED:
                exemption.decided_by = self.head
                exemption.decided_at = min(requested_at + datetime.timedelta(days=1), self.now)
                if status == Exemption.Status.REFUSED:
                    exemption.decision_reasons = "The need can be met without a device."
            if status in {Exemption.Status.EXPIRED, Exemption.Status.REVOKED}:
                exemption.closed_by = self.head
                exemption.closed_at = min(_at(ends, 18), self.now)
                exemption.close_reason = (
                    f"Ended on {ends:%d/%m/%Y}."
                    if status == Exemption.Status.EXPIRED
                    else "Revoked after misuse (fictional)."
                )
            exemptions.append(_stamp(exemption, requested_at, requester))
            plans.append(person)
        exemptions = self.write(exemptions, Exemption, "exemptions")
        risk = [
            _stamp(
                RiskAssessment(
                    exemption=e,
                    hazards="Learners' images on a personal device.",
                    controls="School account only; no downloads; camera off.",
                    assessed_by=self.head,
                    assessed_at=e.decided_at,
                ),
                e.decided_at,
                self.head,
            )
            for e in exemptions
            if e.risk_assessment_required and e.decided_at is not None
        ]
        self.write(risk, RiskAssessment, "risk assessments")
        issued = {
            Exemption.Status.AGREEMENT_ISSUED,
            Exemption.Status.ACTIVE,
            Exemption.Status.EXPIRED,
            Exemption.Status.REVOKED,
        }
        agreements, owners = [], []
        for exemption, person in zip(exemptions, plans, strict=True):
            if exemption.status not in issued:
                continue
            at = min(exemption.decided_at + datetime.timedelta(hours=2), self.now)
            agreements.append(
                _stamp(
                    Agreement(
                        exemption=exemption,
                        number=1,
                        permitted_use="Use of the device only for the purpose approved.",
                        where="Where the headteacher agreed, never in toilets or changing rooms.",
                        when=f"From {exemption.starts:%d/%m/%Y} to {exemption.ends:%d/%m/%Y}.",
                        expectations="Kept on silent, out of sight, never used for photos.",
                        sanctions="The exemption is revoked and the device handed in daily.",
                        issued_by=self.head,
                        issued_at=at,
                    ),
                    at,
                    self.head,
                )
            )
            owners.append(person)
        agreements = self.write(agreements, Agreement, "agreements")
        signatures, signed = [], []
        for agreement, person in zip(agreements, owners, strict=True):
            exemption = agreement.exemption
            complete = exemption.status != Exemption.Status.AGREEMENT_ISSUED
            capacities = device_services.required_capacities(agreement)
            if not complete:
                capacities = capacities[:1]
            when = agreement.issued_at
            for capacity in capacities:
                when = min(when + datetime.timedelta(minutes=rng.randint(5, 600)), self.now)
                parent = None
                if capacity == Signature.Capacity.HEADTEACHER:
                    name = self.head.get_full_name()
                elif capacity == Signature.Capacity.PARENT_CARER:
                    parent = person.parents[0]
                    name = parent.full_name
                else:
                    name = exemption.subject.full_name
                signatures.append(
                    _stamp(
                        Signature(
                            agreement=agreement,
                            capacity=capacity,
                            signer_name=name,
                            parent_carer=parent,
                            signed_at=when,
                            method=Signature.Method.DRAWN,
                            drawn_png=rng.choice(png),
                            recorded_by=self.head,
                        ),
                        when,
                        self.head,
                    )
                )
            if complete:
                agreement._signed_at = when
                signed.append(agreement)
        self.write(signatures, Signature, "signatures")
        self.freeze(signed, self.head)

    def freeze(self, signed: list[Agreement], by: User) -> None:
        """Signed: the same canonical terms and fingerprint the signing service freezes, and a
        "changed" history row dated when the last signature landed."""
        for agreement in signed:
            device_services._freeze(agreement)
            agreement.status = Agreement.Status.SIGNED
            agreement.frozen_at = agreement._signed_at
            agreement._history_date = agreement._signed_at
            agreement._history_user = by
        for start in range(0, len(signed), BATCH * 5):
            chunk = signed[start : start + BATCH * 5]
            bulk_update_with_history(
                chunk,
                Agreement,
                ["status", "canonical_terms", "fingerprint", "frozen_at"],
                batch_size=BATCH,
                default_change_reason=CHANGE_REASON,
            )
            self.say("agreements signed and frozen", len(chunk))

    def incidents(self) -> None:
        rng = self.rng
        target = self.target("incidents")
        categories = list(CATEGORY_WEIGHTS)
        weights = list(CATEGORY_WEIGHTS.values())
        open_since = self.today - datetime.timedelta(days=45)
        incidents, plans = [], []
        days = sorted(rng.choice(self.days) for _ in range(target))
        for n, day in enumerate(days):
            category = rng.choices(categories, weights)[0]
            occurred = self.day_time(day, 8, 16)
            reported = min(occurred + datetime.timedelta(minutes=rng.randint(5, 240)), self.now)
            reporter = self.pick_on_roll(self.staff_with_login, day) or self.people[0]
            if day >= open_since:
                status = rng.choice(Incident.Status.values)
            else:
                status = Incident.Status.CLOSED if rng.random() < 0.99 else "investigating"
            incident = Incident(
                reference=f"INC-{day.year}-S{n + 1:05d}",
                occurred_at=occurred,
                location=rng.choice(self.locations),
                category=category,
                account=ACCOUNTS[category],
                reported_by=reporter.user,
                reported_at=reported,
                status=status,
                child_at_risk=category in {Category.NUDES, Category.ILLEGAL_CONTENT}
                or rng.random() < 0.03,
                suspected_illegal=category == Category.ILLEGAL_CONTENT,
                staff_allegation=category == Category.STAFF_PERSONAL_CONTACT and rng.random() < 0.3,
            )
            if status != Incident.Status.REPORTED:
                incident.assignee = rng.choice(self.leads)
                incident.triaged_by = incident.assignee
                incident.triaged_at = min(reported + datetime.timedelta(hours=2), self.now)
            if status == Incident.Status.CLOSED:
                incident.closed_by = self.dsl
                incident.closed_at = min(
                    reported + datetime.timedelta(days=rng.randint(1, 30)), self.now
                )
            incidents.append(_stamp(incident, reported, reporter.user))
            plans.append(day)
        incidents = self.write(incidents, Incident, "incidents")
        if self.policies:
            self.link(
                Incident.policies.through,
                [
                    Incident.policies.through(
                        incident_id=i.pk, linkedpolicy_id=rng.choice(self.policies).pk
                    )
                    for i in incidents
                ],
            )
        people, notes, referrals, contacts, debriefs = [], [], [], [], []
        subjects = {}
        for incident, day in zip(incidents, plans, strict=True):
            by = incident.reported_by
            if incident.category == Category.STAFF_PERSONAL_CONTACT:
                member = self.pick_on_roll(self.staff_with_login, day)
                people.append(
                    Involvement(
                        incident=incident,
                        part="subject",
                        staff=member.obj,
                        added_by=by,
                        added_at=incident.reported_at,
                    )
                )
            elif incident.category == Category.VISITOR_MISUSE:
                people.append(
                    Involvement(
                        incident=incident,
                        part="subject",
                        visitor=rng.choice(self.visitor_list),
                        added_by=by,
                        added_at=incident.reported_at,
                    )
                )
            else:
                chosen = set()
                for part in ("subject", "affected", "witness")[: rng.randint(1, 3)]:
                    person = self.pick_on_roll(self.learners, day)
                    if person is None or person.obj.pk in chosen:
                        continue
                    chosen.add(person.obj.pk)
                    subjects.setdefault(incident.pk, person)
                    people.append(
                        Involvement(
                            incident=incident,
                            part=part,
                            learner=person.obj,
                            added_by=by,
                            added_at=incident.reported_at,
                        )
                    )
            if incident.triaged_at and rng.random() < 0.2:
                notes.append(
                    _stamp(
                        Note(
                            incident=incident,
                            text="A later fact (fictional).",
                            written_by=incident.triaged_by,
                            written_at=incident.triaged_at,
                        ),
                        incident.triaged_at,
                        incident.triaged_by,
                    )
                )
            if incident.triaged_at:
                agencies = []
                if incident.suspected_illegal:
                    agencies.append(Referral.Agency.POLICE)
                if incident.staff_allegation:
                    agencies.append(Referral.Agency.LADO)
                if incident.child_at_risk:
                    agencies.append(Referral.Agency.SOCIAL_CARE)
                if rng.random() < 0.1:
                    agencies.append(Referral.Agency.ESS)
                for agency in agencies:
                    referrals.append(
                        _stamp(
                            Referral(
                                incident=incident,
                                agency=agency,
                                made_at=incident.triaged_at,
                                made_by=incident.triaged_by,
                                contact="The duty officer",
                                reference=f"R{rng.randrange(10**6):06d}",
                            ),
                            incident.triaged_at,
                            incident.triaged_by,
                        )
                    )
                person = subjects.get(incident.pk)
                if person and person.parents and rng.random() < 0.5:
                    contacts.append(
                        _stamp(
                            ParentContact(
                                incident=incident,
                                parent=person.parents[0],
                                told_at=incident.triaged_at,
                                told_by=incident.triaged_by,
                                how=rng.choice(ParentContact.How.values),
                                summary="Told what happened and what the school is doing.",
                            ),
                            incident.triaged_at,
                            incident.triaged_by,
                        )
                    )
            if incident.status == Incident.Status.CLOSED and (
                incident.child_at_risk or incident.staff_allegation or rng.random() < 0.1
            ):
                debriefs.append(
                    _stamp(
                        Debrief(
                            incident=incident,
                            held_on=timezone.localdate(incident.closed_at),
                            lessons="Remind classes of the hand-in routine.",
                            recorded_by=self.dsl,
                        ),
                        incident.closed_at,
                        self.dsl,
                    )
                )
        self.write(
            [_stamp(p, p.incident.reported_at, p.added_by) for p in people],
            Involvement,
            "people involved",
        )
        self.write(notes, Note, "notes")
        self.write(referrals, Referral, "referrals")
        self.write(contacts, ParentContact, "parents told")
        debriefs = self.write(debriefs, Debrief, "debriefs")
        self.link(
            Debrief.attendees.through,
            [
                Debrief.attendees.through(debrief_id=d.pk, staffmember_id=self.people[0].obj.pk)
                for d in debriefs
            ],
        )
        self.searches(
            [
                (i, subjects[i.pk])
                for i in incidents
                if i.category in SEARCH_CATEGORIES and i.triaged_at and i.pk in subjects
            ]
        )

    def searches(self, candidates: list[tuple[Incident, Person]]) -> None:
        rng = self.rng
        target = min(self.target("searches"), len(candidates))
        chosen = sorted(rng.sample(range(len(candidates)), target))
        confiscations, plans = [], []
        for index in chosen:
            incident, person = candidates[index]
            at = incident.triaged_at + datetime.timedelta(minutes=30)
            outcome = Search.Outcome.RETURNED
            if incident.suspected_illegal:
                outcome = Search.Outcome.POLICE
            elif rng.random() < 0.08:
                outcome = Search.Outcome.RETAINED
            confiscation = None
            if outcome != Search.Outcome.RETURNED:
                confiscation = Confiscation(
                    learner=person.obj,
                    category=self.phone,
                    description="Black phone in a blue case",
                    taken_at=at,
                    taken_by=self.people[0].obj,
                    reason="Taken for the search (fictional).",
                    stored_where="The school office safe",
                    recorded_by=incident.triaged_by,
                )
                if outcome == Search.Outcome.POLICE:
                    confiscation.status = Confiscation.Status.WITH_POLICE
                    confiscation.handed_to_police_at = min(
                        at + datetime.timedelta(hours=3), self.now
                    )
                    confiscation.police_officer = "PC 1234"
                    confiscation.police_reference = f"KP/{rng.randrange(10**6):06d}"
                elif incident.status == Incident.Status.CLOSED:
                    confiscation.status = Confiscation.Status.RETURNED
                    confiscation.returned_at = min(at + datetime.timedelta(days=1), self.now)
                    confiscation.returned_to = "A parent or carer"
                confiscations.append(_stamp(confiscation, at, incident.triaged_by))
            plans.append((incident, person, at, outcome, confiscation))
        self.write(confiscations, Confiscation, "confiscations")
        events = []
        for c in confiscations:
            events.append(
                _stamp(
                    CustodyEvent(
                        confiscation=c,
                        kind="taken",
                        at=c.taken_at,
                        by=c.recorded_by,
                        details="Taken for a search.",
                    ),
                    c.taken_at,
                    c.recorded_by,
                )
            )
            end = c.handed_to_police_at or c.returned_at
            if end:
                kind = "police" if c.handed_to_police_at else "returned"
                events.append(
                    _stamp(
                        CustodyEvent(
                            confiscation=c,
                            kind=kind,
                            at=end,
                            by=c.recorded_by,
                            details="Custody ended.",
                        ),
                        end,
                        c.recorded_by,
                    )
                )
        self.write(events, CustodyEvent, "custody events")
        searches = []
        for incident, person, at, outcome, confiscation in plans:
            found = rng.random() < 0.4
            parent = person.parents[0] if person.parents and rng.random() < 0.5 else None
            search = Search(
                incident=incident,
                learner=person.obj,
                device="Black phone in a blue case",
                searched_at=at,
                place="The headteacher's office",
                led_by=rng.choice([self.dsl, self.head]),
                grounds="A reasonable belief it holds what the report describes.",
                sought="The messages described in the report.",
                consent_by="parent_carer" if parent else "learner",
                consent_parent=parent,
                consent_how="In person" if parent is None else "By phone",
                found_nothing=not found,
                found="Messages matching the report." if found else "",
                outcome=outcome,
                confiscation=confiscation,
                recorded_by=incident.triaged_by,
                recorded_at=at,
            )
            if rng.random() < 0.85:
                search.second_staff = self.people[2].obj
            else:
                search.no_second_reason = "No one else was free; the door was left open."
            if found and rng.random() < 0.5:
                search.deletion = Search.Deletion.ASKED
                search.deleted_by = search.led_by
                search.deletion_reason = "The content upset another learner."
            if rng.random() < 0.9:
                search.parents_told_at = at + datetime.timedelta(hours=2)
                search.parents_told_by = search.led_by
            searches.append(_stamp(search, at, search.led_by))
        self.write(searches, Search, "searches")

    def visits(self) -> None:
        """Visits on school days, regular visitors more often; some on site today. If the
        reception's visitor device agreement model exists, each visit gets one."""
        rng = self.rng
        target = self.target("visits")
        regular = self.visitor_list[: max(1, len(self.visitor_list) // 10)]
        days = sorted(rng.choice(self.days) for _ in range(target))
        visits, hosts = [], []
        for day in days:
            visitor = rng.choice(regular) if rng.random() < 0.5 else rng.choice(self.visitor_list)
            arrived = self.day_time(day, 8, 15)
            host = self.pick_on_roll(self.staff_with_login, day)
            left = arrived + datetime.timedelta(minutes=rng.randint(20, 240))
            if day == self.today and rng.random() < 0.5 or left > self.now:
                left = None
            visits.append(
                _stamp(
                    Visit(
                        visitor=visitor,
                        arrived=min(arrived, self.now),
                        left=left,
                        purpose=rng.choice(VISIT_PURPOSES),
                        host=host.obj,
                    ),
                    min(arrived, self.now),
                    self.office,
                )
            )
            hosts.append(host)
        visits = self.write(visits, Visit, "visits")
        self.visit_agreements(visits, hosts)

    def visit_agreements(self, visits: list[Visit], hosts: list[Person]) -> None:
        try:
            model = apps.get_model("devices", "VisitorDeviceAgreement")
        except LookupError:
            self.progress("  visitor device agreements: no such model yet, none made")
            return
        make_visitor_agreements(self, model, visits, hosts)

    def dsl_login(self) -> None:
        self.dsl.set_password(dsl_password(self.seed))
        self.dsl.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=self.dsl).delete()
        TOTPDevice.objects.create(
            user=self.dsl, name="Scale data", key=dsl_totp_key(self.seed), confirmed=True
        )


def make_visitor_agreements(builder: ScaleBuilder, model, visits, hosts) -> None:
    """Each visit's device agreement at reception, signed at sign-in and frozen.

    Most visitors agree to keep their device away; about a third have a purpose agreed by
    their host, and a visitor with a headteacher-approved exemption may use it with learners.
    """
    rng = builder.rng
    office = builder.office
    briefer = next(p.obj for p in builder.people if p.user == office)
    exemptions = {}
    for exemption in Exemption.objects.filter(
        kind=Exemption.Kind.VISITOR_WITH_LEARNERS, status=Exemption.Status.ACTIVE
    ).order_by("pk"):
        exemptions.setdefault(exemption.visitor_id, exemption)
    agreements, records = [], []
    for visit, host in zip(visits, hosts, strict=True):
        agreed = rng.random() < 0.3
        exemption = exemptions.get(visit.visitor_id) if agreed else None
        record = model(
            visit=visit,
            briefing_given=True,
            briefed_by=briefer,
            use=model.Use.AGREED if agreed else model.Use.NONE,
            purpose=visit.purpose if agreed else "",
            where="The room booked for the visit" if agreed else "",
            when="During the visit only" if agreed else "",
            agreed_by=host.obj if agreed else None,
            with_learners=exemption is not None,
            exemption=exemption,
            recorded_by=office,
            recorded_at=visit.arrived,
        )
        agreement = Agreement(
            permitted_use=visit.purpose if agreed else "None: the device stays away.",
            where=record.where or "Nowhere on site",
            when=record.when or "Not while on site",
            expectations="No photos, video or sound of learners; kept out of sight.",
            sanctions="Asked to leave the site; the headteacher is told.",
            issued_by=office,
            issued_at=visit.arrived,
        )
        agreements.append(_stamp(agreement, visit.arrived, office))
        records.append(record)
    agreements = builder.write(agreements, Agreement, "visitor agreements")
    for record, agreement in zip(records, agreements, strict=True):
        record.agreement = agreement
        _stamp(record, record.recorded_at, office)
    builder.write(records, model, "visitor device agreement records")
    png = [device_services._clean_png(_signature_png(n)) for n in range(8, 12)]
    signatures = []
    for record, agreement in zip(records, agreements, strict=True):
        agreement._visitor_record = record  # what visitor_record_of would fetch
        when = agreement.issued_at + datetime.timedelta(minutes=1)
        for capacity in device_services.required_capacities(agreement):
            staff = capacity == Signature.Capacity.STAFF_MEMBER
            name = record.agreed_by.full_name if staff else record.visit.visitor.full_name
            signatures.append(
                _stamp(
                    Signature(
                        agreement=agreement,
                        capacity=capacity,
                        signer_name=name,
                        signed_at=when,
                        method=Signature.Method.DRAWN,
                        drawn_png=rng.choice(png),
                        recorded_by=office,
                    ),
                    when,
                    office,
                )
            )
        agreement._signed_at = when
    builder.write(signatures, Signature, "visitor signatures")
    builder.freeze(agreements, office)


def _signature_png(n: int) -> str:
    from devices.demo import signature_png

    return signature_png(f"Signer {n}")


def has_real_data() -> list[str]:
    """Kinds of record already in the database: scale data goes only into an empty one."""
    found = []
    for model in (StaffMember, Learner, Visit, Incident, HandIn, Exemption):
        if model.objects.exists():
            found.append(str(model._meta.verbose_name_plural))
    return found


def build(
    *, years: int, seed: int, factor: float = 1.0, progress: Callable[[str], None] = print
) -> dict[str, int]:
    return ScaleBuilder(years=years, seed=seed, factor=factor, progress=progress).build()


__all__: Iterable[str] = ("build", "dsl_password", "dsl_totp_key", "has_real_data")
