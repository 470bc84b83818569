"""Shared fixtures: one named person per role, an outsider, and a small school."""

import os

import factory.random
import pytest
from django.core.cache import cache

from compliance.roles import Role
from tests import factories

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be
# usable there (DEVELOPERS' brief, browser tests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROLE_USERS = {
    "governor": [Role.GOVERNOR],
    "staff": [Role.STAFF],
    "office": [Role.OFFICE],
    "deputy_dsl": [Role.DEPUTY_DSL],
    "headteacher": [Role.HEADTEACHER, Role.DEPUTY_DSL],
    "dsl": [Role.DSL],
    "outsider": [],
}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the dashboard keeps panel counts there under
    keys of history ids, which a rolled-back test gives out again (ADR 0013)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _same_names_every_run(request):
    """The factories' made-up names come from a seed fixed by the test's id, so a test that
    looks for a name on a page (or for its absence) sees the same names on every run: a clash
    such as a learner sharing a surname with the user in the navigation bar, or an
    apostrophe the page escapes, fails every time or never, not one CI run in fifty."""
    factory.random.reseed_random(request.node.nodeid)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def _person(username: str, roles: list[Role], **names) -> object:
    user = factories.UserFactory(username=username, roles=[str(r) for r in roles], **names)
    factories.StaffMemberFactory(user=user, first_name=user.first_name, last_name=user.last_name)
    return user


@pytest.fixture
def school(db):
    return factories.SchoolFactory()


@pytest.fixture
def dsl(db):
    return _person("dsl", ROLE_USERS["dsl"], first_name="Alice", last_name="Hawksley")


@pytest.fixture
def deputy_dsl(db):
    return _person("deputy", ROLE_USERS["deputy_dsl"], first_name="Sue", last_name="Vincent")


@pytest.fixture
def headteacher(db):
    return _person("head", ROLE_USERS["headteacher"], first_name="Lisa", last_name="Davis")


@pytest.fixture
def office(db):
    return _person("office", ROLE_USERS["office"], first_name="Olive", last_name="Clerk")


@pytest.fixture
def teacher(db):
    return _person("teacher", ROLE_USERS["staff"], first_name="Tom", last_name="Teacher")


@pytest.fixture
def governor(db):
    return _person("governor", ROLE_USERS["governor"], first_name="Barbara", last_name="Saltmarsh")


@pytest.fixture
def outsider(db):
    """A login with no role: sees nothing."""
    return factories.UserFactory(username="outsider")


@pytest.fixture
def users(dsl, deputy_dsl, headteacher, office, teacher, governor, outsider):
    return {
        "dsl": dsl,
        "deputy_dsl": deputy_dsl,
        "headteacher": headteacher,
        "office": office,
        "staff": teacher,
        "governor": governor,
        "outsider": outsider,
    }


@pytest.fixture
def community(db, school, teacher):
    """A small school: the teacher's class with two learners, another class with one."""
    mine = factories.FormClassFactory(name="3A")
    mine.teachers.add(teacher.staff_member)
    other = factories.FormClassFactory(name="3B")
    learner = factories.LearnerFactory(form_class=mine, first_name="Amira", last_name="Khan")
    factories.LearnerFactory(form_class=mine)
    stranger = factories.LearnerFactory(form_class=other, first_name="Zed", last_name="Other")
    parent = factories.ParentCarerFactory(learners=[learner], first_name="Hana", last_name="Khan")
    other_parent = factories.ParentCarerFactory(learners=[stranger])
    visit = factories.VisitFactory(host=teacher.staff_member)
    return {
        "my_class": mine,
        "other_class": other,
        "learner": learner,
        "other_learner": stranger,
        "parent": parent,
        "other_parent": other_parent,
        "visitor": visit.visitor,
        "visit": visit,
        "staff": teacher.staff_member,
    }
