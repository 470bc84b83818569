"""Who is emailed about an incident, and what an email may hold (policy section 9; DESIGN).

The DSL and the deputies on every new report; the headteacher too on a matter involving
staff; the DSL when triage finds a child at risk. An email carries the reference, the
category and a link: never a learner's, a member of staff's or a visitor's name, and never
the account. Emails are sent once the transaction commits, so each test runs the commit
callbacks.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from compliance.models import Learner, ParentCarer, StaffMember, User, Visitor
from incidents import services
from incidents.models import Category, Incident
from tests import factories

pytestmark = pytest.mark.django_db

ACCOUNT = (
    "Amira told me that a Year 6 pupil had been sending her unkind messages on a tablet "
    "during wet play; Mr Colleague took the tablet to the office."
)
ACCOUNT_PHRASE = "unkind messages on a tablet"


@pytest.fixture
def head_only(db):
    """A headteacher who is not also a deputy DSL: told of staff matters only."""
    user = factories.UserFactory(
        username="head_only", roles=["headteacher"], first_name="Kelly", last_name="Collens"
    )
    factories.StaffMemberFactory(user=user, first_name="Kelly", last_name="Collens")
    return user


@pytest.fixture
def school_people(users, community, head_only):
    """Everyone in the fixtures, with a visitor and a colleague whose names are known."""
    visitor = community["visitor"]
    visitor.first_name, visitor.last_name = "Vera", "Quill"
    visitor.save()
    colleague = factories.StaffMemberFactory(first_name="Wendy", last_name="Colleague")
    return {**community, "visitor": visitor, "colleague": colleague}


@pytest.fixture
def classroom(db):
    return factories.LocationFactory(name="Classroom", restricted=True)


def _post_report(client, user, location, *, people=(), category=Category.CYBERBULLYING):
    data = {
        "occurred_at": timezone.localtime(timezone.now() - datetime.timedelta(minutes=5)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "location": str(location.pk),
        "category": category,
        "account": ACCOUNT,
        "people-TOTAL_FORMS": "5",
        "people-INITIAL_FORMS": "0",
    }
    for index, (value, part) in enumerate(people):
        data[f"people-{index}-person"] = value
        data[f"people-{index}-part"] = part
    client.force_login(user)
    response = client.post(reverse("incidents:report"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Incident.objects.latest("pk")


def _recipients(message) -> set[str]:
    return set(message.to) | set(message.cc) | set(message.bcc)


def _emails(*users) -> set[str]:
    return {user.email for user in users}


def test_a_new_report_emails_the_dsl_and_the_deputies(
    client,
    users,
    school_people,
    classroom,
    head_only,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    learner = f"learner-{school_people['learner'].pk}"
    with django_capture_on_commit_callbacks(execute=True):
        incident = _post_report(client, users["staff"], classroom, people=[(learner, "affected")])
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    # the co-head in the fixtures is a deputy DSL too, so is told of every report
    assert _recipients(message) == _emails(users["dsl"], users["deputy_dsl"], users["headteacher"])
    assert head_only.email not in _recipients(message)
    assert incident.reference in message.subject


@pytest.mark.parametrize("how", ["staff_named", "staff_category"])
def test_a_matter_involving_staff_also_emails_the_headteacher(
    client,
    users,
    school_people,
    classroom,
    head_only,
    django_capture_on_commit_callbacks,
    mailoutbox,
    how,
):
    if how == "staff_named":
        people = [(f"staff-{school_people['colleague'].pk}", "subject")]
        category = Category.UNAUTHORISED_RECORDING
    else:
        people = []
        category = Category.STAFF_PERSONAL_CONTACT
    with django_capture_on_commit_callbacks(execute=True):
        _post_report(client, users["office"], classroom, people=people, category=category)
    assert len(mailoutbox) == 1
    assert _recipients(mailoutbox[0]) == _emails(
        users["dsl"], users["deputy_dsl"], users["headteacher"], head_only
    )


def test_the_confirmation_says_the_headteacher_was_told_of_a_staff_matter(
    client, users, school_people, classroom, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = _post_report(
            client,
            users["staff"],
            classroom,
            people=[(f"staff-{school_people['colleague'].pk}", "subject")],
        )
    page = client.get(reverse("incidents:report_sent", args=[incident.pk])).content.decode()
    assert "the headteacher too" in page


def test_a_child_at_risk_at_triage_emails_the_dsl(
    users, school_people, classroom, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_report(
            occurred_at=timezone.now(),
            location=classroom,
            category=Category.CYBERBULLYING,
            account=ACCOUNT,
            people=[services.Person(part="affected", learner=school_people["learner"])],
            by=users["staff"],
        )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_triage(incident=incident, by=users["deputy_dsl"], child_at_risk=True)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert _recipients(message) == _emails(users["dsl"])
    assert message.subject == f"Child protection: {incident.reference}"


def test_nothing_is_sent_when_the_report_is_refused(
    client, users, school_people, classroom, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(users["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("incidents:report"), {"account": ACCOUNT})
    assert response.status_code == 200
    assert mailoutbox == []


def _every_name() -> set[str]:
    """Every person's full name in the database, and the names of the people involved."""
    names = set()
    for model in (Learner, StaffMember, Visitor, ParentCarer):
        for first, last in model.objects.values_list("first_name", "last_name"):
            names.add(f"{first} {last}")
            names.add(f"{last}, {first}")
    for user in User.objects.exclude(first_name=""):
        names.add(user.get_full_name())
    return names


def test_no_email_holds_a_name_or_the_account(
    client, users, school_people, classroom, django_capture_on_commit_callbacks, mailoutbox
):
    people = [
        (f"learner-{school_people['learner'].pk}", "affected"),
        (f"staff-{school_people['colleague'].pk}", "subject"),
        (f"visitor-{school_people['visitor'].pk}", "witness"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        incident = _post_report(client, users["staff"], classroom, people=people)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_triage(
            incident=incident, by=users["dsl"], child_at_risk=True, staff_allegation=True
        )
    subjects = {message.subject for message in mailoutbox}
    assert any(s.startswith("New safeguarding report") for s in subjects)
    assert any(s.startswith("Child protection") for s in subjects)
    assert any(s.startswith("Allegation involving staff") for s in subjects)

    names = _every_name()
    # the people involved, word by word: not even a first name or a surname alone
    involved_words = {
        "Amira",
        "Khan",
        "Hana",
        "Wendy",
        "Colleague",
        "Vera",
        "Quill",
        "Tom",
        "Teacher",
    }
    link = settings.SITE_URL.rstrip("/") + reverse("incidents:incident_detail", args=[incident.pk])
    for message in mailoutbox:
        text = f"{message.subject}\n{message.body}"
        for alternative, _mime in getattr(message, "alternatives", []):
            text += f"\n{alternative}"
        for name in names:
            assert name.lower() not in text.lower(), (message.subject, name)
        for word in involved_words:
            assert not re.search(rf"\b{word}\b", text, re.IGNORECASE), (message.subject, word)
        assert ACCOUNT_PHRASE not in text
        assert ACCOUNT[:40] not in text
        assert incident.reference in message.subject
        assert incident.reference in message.body
        assert link in message.body
    new_report = next(m for m in mailoutbox if m.subject.startswith("New safeguarding report"))
    assert incident.get_category_display() in new_report.body


def test_every_email_gives_the_category(
    users, school_people, classroom, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_report(
            occurred_at=timezone.now(),
            location=classroom,
            category=Category.CYBERBULLYING,
            account=ACCOUNT,
            people=[services.Person(part="subject", staff=school_people["colleague"])],
            by=users["staff"],
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_triage(
            incident=incident, by=users["dsl"], child_at_risk=True, staff_allegation=True
        )
    assert len(mailoutbox) == 3
    for message in mailoutbox:
        assert incident.get_category_display() in message.body, message.subject
