"""Browser tests: Chromium (Debian's, not Playwright's download) driven through Playwright."""

import os
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from compliance.roles import Role
from tests import factories

# Playwright's sync API runs an event loop in the test thread; the ORM must still work there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# The same binary tests/conftest.py hands to Playwright (browser_type_launch_args).
CHROMIUM = Path("/usr/bin/chromium")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """No Chromium: skip on a developer's machine, but fail loudly in CI."""
    if item.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    message = (
        f"Chromium is not installed at {CHROMIUM}; the browser tests need it "
        "(apt-get install chromium). Playwright's own browser download is not used."
    )
    if "CI" in os.environ:
        pytest.fail(f"{message} CI is set, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    """The role groups, which a data migration creates.

    live_server needs a transactional database, and each transactional test ends by flushing
    every table, so whatever ran before (another browser test, or any other transactional
    test) may have removed them. Serialized rollback is no help here: after a flush without
    it, restoring clashes with the content types that post_migrate has already recreated.
    """
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture
def seeded(live_server, role_groups, users, community):
    """Everyone, a small school and a policy version, in the database the live server reads."""
    policy = factories.PolicyVersionFactory()
    return {"users": users, "community": community, "policy": policy}
